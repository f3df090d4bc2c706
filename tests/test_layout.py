"""The shape of core/: packages by stage, imports pointing one way, no cycles, small modules.

Walks the source with ``ast`` (nothing is imported), so a wrong-way import fails here even when
the module is never loaded by the rest of the suite.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "core"

# Lower rank = closer to the foundations. A module may import modules of a lower rank or of its own
# package; never a higher rank, never a sibling package of the same rank.
RANKS = {
    "core.shared": 0, "core.errors": 0, "core.translator": 0, "core.cron": 0, "core.process": 0,
    "core.validation": 1,
    "core.data": 2,
    "core.http": 3, "core.notifications": 3,
    "core.startup": 4,
    # core/app/ by concern: the docs and the cron run modes, then the factory and the CLI at its top level,
    # then what runs an app (serving/) and what builds and tests projects (kit/).
    "core.app.docs": 5, "core.app.crons": 5,
    "core.app": 6,
    "core.app.serving": 7, "core.app.kit": 7,
}
MAX_TOP_LEVEL_ENTRIES = 12
MAX_MODULE_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources(package: str) -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / package).rglob("*.py")) if "__pycache__" not in p.parts}


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """Every module of ``known`` that ``path`` imports (``from a import b`` counts ``a.b`` when it is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in known)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {**sources("core"), **sources("client")}
    known = set(modules)
    return {name: imported_modules(path, known) - {name} for name, path in modules.items()}


def layer(module: str) -> str | None:
    """The RANKS key a module belongs to (its package or foundation module)."""
    for key in sorted(RANKS, key=len, reverse=True):
        if module == key or module.startswith(key + "."):
            return key
    return None


def wrong_way_imports(graph: dict[str, set[str]]) -> list[str]:
    problems = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if module.startswith("client") and target.startswith("core"):
                problems.append(f"{module} -> {target}: the client must not depend on the server")
                continue
            if not module.startswith("core.") or not target.startswith("core"):
                continue
            if target == "core":
                problems.append(f"{module} -> core: only project code imports the public API package")
                continue
            source_layer, target_layer = layer(module), layer(target)
            if source_layer is None:
                problems.append(f"{module}: not in a known package (add it to RANKS in tests/test_layout.py)")
                continue
            if target_layer is None or source_layer == target_layer:
                continue
            if RANKS[target_layer] > RANKS[source_layer] or (
                    RANKS[target_layer] == RANKS[source_layer] and RANKS[source_layer] > 0):
                problems.append(f"{module} -> {target}: {source_layer} (rank {RANKS[source_layer]}) may not "
                                f"import {target_layer} (rank {RANKS[target_layer]})")
    return problems


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_imports_point_from_the_app_down_to_the_foundations():
    assert wrong_way_imports(import_graph()) == []


def test_core_has_no_import_cycle():
    assert find_cycle(import_graph()) is None


def test_the_checks_catch_a_wrong_way_import_and_a_cycle():
    """The two checks above, shown failing on a graph with one planted mistake each."""
    graph = import_graph()
    graph["core.data.models"] = graph["core.data.models"] | {"core.http.output"}
    assert wrong_way_imports(graph) == ["core.data.models -> core.http.output: core.data (rank 2) may not import "
                                        "core.http (rank 3)"]
    graph["core.shared"] = graph["core.shared"] | {"core.errors"}
    graph["core.errors"] = graph["core.errors"] | {"core.shared"}
    assert find_cycle(graph) in (["core.errors", "core.shared", "core.errors"],
                                 ["core.shared", "core.errors", "core.shared"])


def test_every_core_module_is_in_a_ranked_package_with_a_docstring():
    for name, path in sources("core").items():
        if name == "core":
            continue
        assert layer(name) is not None, f"{name} is in no package of RANKS"
        if path.name == "__init__.py":
            assert ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))), f"{path} needs a docstring"


def test_core_stays_small_at_the_top_and_per_module():
    entries = [p.name for p in CORE.iterdir() if p.name != "__pycache__"]
    assert len(entries) <= MAX_TOP_LEVEL_ENTRIES, sorted(entries)
    long = {str(p.relative_to(ROOT)): n for p in CORE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_generic_project_modules_stay_small():
    """projects/generic/ ships with the framework: the same 400-line limit per module as core/."""
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "projects" / "generic").rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_the_public_api_is_importable_from_core():
    import core

    for name in ("Controller", "Lib", "Config", "BaseModel", "Shared", "MiaError", "BaseCronJob", "Cached", "cached",
                 "ValidationError"):
        assert hasattr(core, name), name
