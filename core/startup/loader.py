"""Finds project modules by folder and registers them by identity and version.

For every project folder (sorted by name, so the order is the same on every machine) the loader
imports the Python files below each module folder (``controllers``, ``libs``, ``models``,
``config``, ``crons``, ``routes``, ``init``; names from ``system.path.modules``) at any depth,
and registers what they define. A duplicate identity+version anywhere (also across projects)
stops start-up with both file names.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from core.errors import StartupError
from core.shared import Config, Controller, Identified, Lib, RegistryError, Shared, _Registry
from core.startup.config import load_module

SKIP_DIRS = {".git", ".svn", "__pycache__", "node_modules"}
TEST_DIRS = {"tests", "test"}  # a project's own tests (mia.js kept specs in module folders too): never project code
_SAFE = re.compile(r"[^0-9a-zA-Z_]")


@dataclass
class RouteFile:
    """One route module: its ``routes`` dict and where it came from."""

    identity: str
    path: str
    project: str
    project_dir: Path
    definition: dict[str, Any]


@dataclass
class InitModule:
    path: str
    project: str | None
    function: Any


@dataclass
class LoadResult:
    projects: list[str] = field(default_factory=list)
    route_files: list[RouteFile] = field(default_factory=list)
    init_modules: list[InitModule] = field(default_factory=list)


def _python_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    found: list[Path] = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.is_dir():
            if entry.name not in SKIP_DIRS and entry.name not in TEST_DIRS and not entry.name.startswith("."):
                found.extend(_python_files(entry))
        elif entry.suffix == ".py" and not _is_skipped(entry.name):
            found.append(entry)
    return found


def _is_skipped(name: str) -> bool:
    return (name.startswith("_") or name.startswith("test_") or name.endswith("_test.py")
            or ".spec." in name or name == "conftest.py")


def _module_name(project: str, kind: str, path: Path, base: Path) -> str:
    rel = path.relative_to(base).with_suffix("")
    return "mia_projects." + ".".join(_SAFE.sub("_", p) for p in (project, kind, *rel.parts))


def _classes(module: ModuleType, base: type) -> list[type]:
    return [obj for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, base) and obj is not base and obj.__module__ == module.__name__
            and getattr(obj, "identity", None)]


def _register(registry: _Registry, cls: type, obj: Any, path: Path, project: str) -> None:
    identity, version = str(getattr(cls, "identity", None)), str(getattr(cls, "version", "1.0") or "1.0")
    setattr(cls, "source_file", str(path))  # noqa: B010 - any registered class, typed as ``type`` here
    setattr(cls, "project", project)  # noqa: B010
    earlier = registry.add(identity, version, obj, str(path))
    if earlier is not None:
        raise StartupError(
            f"Identity '{identity}' with version '{version}' is already registered by module at '{earlier}'",
            str(path))


# Kinds whose classes ``disabled = True`` leaves out (mia.js honoured it for models only): a disabled
# controller is not registered and the route methods using it are not mounted (a start-up warning
# names them); a disabled cron job is neither listed nor run.
DISABLEABLE = ("models", "controllers", "crons")


def disabled_controller(method_spec: dict[str, Any]) -> str | None:
    """The name of a controller with ``disabled = True`` that the method's chains use, if any."""
    if not Shared.disabled:
        return None
    for field_name in ("controller", "errorController", "handler"):
        entries = method_spec.get(field_name)
        for entry in entries if isinstance(entries, list) else [entries]:
            if not isinstance(entry, dict):
                continue
            name = entry.get("name")
            if isinstance(name, str) and ("controllers", name) in Shared.disabled:
                try:
                    Shared.controllers(name, str(entry.get("version", "1.0")))
                except RegistryError:
                    return name  # no enabled version of it either
    return None


class Loader:
    """Scans ``<root>/projects`` and fills :class:`Shared` (usable without a running server)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        paths = Shared.system.get("path", {})
        self.projects_dir = self.root / paths.get("projects", "projects")
        self.dirs = paths.get("modules", {})
        self.init_dir = self.root / paths.get("init", "init")

    def project_names(self) -> list[str]:
        if not self.projects_dir.is_dir():
            raise StartupError("projects folder not found", str(self.projects_dir))
        # Demo projects (system "demoProjects", default ["demo"]) publish their credentials: loaded only
        # where the environment opts in with ``allowDemo: True`` (local, test).
        demos = set() if Shared.environment.get("allowDemo") is True else set(Shared.system.get("demoProjects",
                                                                                                  ["demo"]))
        return sorted(p.name for p in self.projects_dir.iterdir()
                      if p.is_dir() and p.name not in SKIP_DIRS and p.name not in demos
                      and not p.name.startswith((".", "_")))

    def files(self, project: str, kind: str) -> list[tuple[Path, Path]]:
        base = self.projects_dir / project / self.dirs.get(kind, kind)
        return [(path, base) for path in _python_files(base)]

    def load(self) -> LoadResult:
        # Imported here: core.data.models and core.cron import the registry too; the loader is the
        # only module that needs all base classes at once.
        from core.cron import BaseCronJob
        from core.data.models import BaseModel

        result = LoadResult(projects=self.project_names())
        kinds: list[tuple[str, type, _Registry, bool]] = [
            ("config", Config, Shared.configs, True),
            ("models", BaseModel, Shared.model_registry, False),
            ("libs", Lib, Shared.lib_registry, True),
            ("controllers", Controller, Shared.controller_registry, True),
            ("crons", BaseCronJob, Shared.cron_registry, False),
        ]
        for kind, base, registry, instantiate in kinds:
            for project in result.projects:
                for path, folder in self.files(project, kind):
                    module = load_module(path, _module_name(project, kind, path, folder))
                    for cls in _classes(module, base):
                        if getattr(cls, "disabled", False) is True and kind in DISABLEABLE:
                            # not registered, so never listed, run or mounted
                            Shared.disabled[(kind, str(getattr(cls, "identity", None)))] = str(path)
                            continue
                        obj = self._instantiate(cls, path) if instantiate else cls
                        _register(registry, cls, obj, path, project)
        for project in result.projects:
            for path, folder in self.files(project, "routes"):
                module = load_module(path, _module_name(project, "routes", path, folder))
                definition = getattr(module, "routes", None)
                if not isinstance(definition, dict):
                    raise StartupError("a route file must define a dict named 'routes'", str(path))
                identity = _SAFE.sub("", f"{project}routes{path.relative_to(folder).with_suffix('')}")
                result.route_files.append(RouteFile(identity, str(path), project,
                                                    self.projects_dir / project, definition))
        result.init_modules = self._init_modules(result.projects)
        Shared.route_files = result.route_files
        Shared.init_modules = result.init_modules
        return result

    @staticmethod
    def _instantiate(cls: type[Identified], path: Path) -> Any:
        try:
            return cls()
        except Exception as exc:
            raise StartupError(f"cannot create {cls.__name__}: {exc}", str(path)) from exc

    def _init_modules(self, projects: list[str]) -> list[InitModule]:
        found: list[InitModule] = []
        candidates: list[tuple[str | None, Path, Path]] = [(None, path, self.init_dir)
                                                            for path in _python_files(self.init_dir)]
        for name in projects:
            candidates += [(name, path, base) for path, base in self.files(name, "init")]
        for owner, path, base in candidates:
            module_name = (_module_name(owner, "init", path, base) if owner
                           else "mia_init." + _SAFE.sub("_", path.stem))
            module = load_module(path, module_name)
            function = getattr(module, "init", None)
            if callable(function):
                found.append(InitModule(str(path), owner, function))
        return found


def run_init_modules(modules: list[InitModule]) -> None:
    """Run every ``init()`` once, global first, then projects in name order."""
    for module in modules:
        try:
            module.function()
        except StartupError:
            raise
        except Exception as exc:
            raise StartupError(f"init() failed: {type(exc).__name__}: {exc}", module.path) from exc
