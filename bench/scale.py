"""Generated projects with many routes, for bench/run.py's scaling check (``--scale 1000,10000``).

``make_root(n)`` writes a repository root with the generic project (linked) and a project ``scale``
whose route files mount ``n`` route methods: each a path parameter and query preconditions, a
controller out of twenty, and the default JSON output, the way a large API reuses a few controllers.
The environment is production-like: no docs, embedded store, one worker. The generated files are
byte-compiled before the server starts (``__pycache__``), as they are on any start after the first.
"""
from __future__ import annotations

import compileall
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTROLLERS = 20
ROUTES_PER_FILE = 100

CONTROLLER_FILE = '''
from core import Controller


def _make(index):
    class Item(Controller):
        identity = f"scale-item{index}"
        version = "1.0"
        group = "scale"
        preconditions = {"get": {"parameters": {
            "path": {"id": {"type": int, "min": 0, "required": True}},
            "query": {"limit": {"type": int, "min": 1, "max": 100, "default": 25},
                      "sort": {"type": str, "allow": ["name", "created"], "default": "created"}}},
            "responses": {200: "Success"}}}

        def get(self, req, res):
            res.response = {"item": req.mia.validated_parameters["path"]["id"], "controller": index}

    Item.__name__ = f"Item{index}"
    return Item


for _index in range(%(count)d):
    globals()[f"Item{_index}"] = _make(_index)
'''


def make_root(routes: int) -> Path:
    """A temporary repository root serving ``routes`` route methods (plus the generic project's)."""
    root = Path(tempfile.mkdtemp(prefix=f"mia-scale-{routes}-"))
    (root / "config" / "env").mkdir(parents=True)
    (root / "config" / "env" / "bench.py").write_text(
        "environment = {'logLevel': 'warn', 'swaggerMode': False, 'server': {'workers': 1}, 'maxLag': 1000, "
        "'defaultMongoDatabase': 'mia', 'mongoDatabases': {'mia': {'url': None}}}\n")
    (root / "projects").mkdir()
    (root / "projects" / "generic").symlink_to(ROOT / "projects" / "generic")
    project = root / "projects" / "scale"
    (project / "controllers").mkdir(parents=True)
    (project / "routes").mkdir()
    (project / "controllers" / "items.py").write_text(CONTROLLER_FILE % {"count": CONTROLLERS})
    for start in range(0, routes, ROUTES_PER_FILE):
        table = {}
        for i in range(start, min(start + ROUTES_PER_FILE, routes)):
            table[f"./r{i}/:id"] = {"get": {"identity": f"r{i}", "controller": [
                {"name": f"scale-item{i % CONTROLLERS}", "version": "1.0"},
                {"name": "generic-defaultResponse", "version": "1.0"}]}}
        spec = {"group": "scale", "name": f"scale {start}", "version": "1.0", "prefix": "/scale/v1", "routes": table}
        (project / "routes" / f"r{start:06d}.py").write_text(f"routes = {spec!r}\n")
    for folder in (project, root / "config"):  # as a deployed server's files are after its first start
        compileall.compile_dir(str(folder), quiet=1)
    return root


def probe_paths(routes: int) -> list[str]:
    """Paths spread over the whole table (first, middle, last route), so matching cannot hit a cache only."""
    picks = sorted({0, routes // 3, routes // 2, (2 * routes) // 3, routes - 1})
    return [f"/scale/v1/r{i}/{i}?limit=10" for i in picks]
