"""An ``async def`` controller's cost against a sync one, and the choice of how coroutines run.

    .venv/bin/python bench/bench_async.py [N per round, default 2000] [rounds, default 5]

In one process, no sockets: the same two-step chain (a controller, then the JSON output) with the
controller ``def`` and ``async def``, called through the app's WSGI callable from one thread, the
cases alternating each round. Then the hand-over alone, both ways the WSGI engines could run a
coroutine: to this process's running loop thread (``core.http.coroutines.run``, the chosen way) and
``asyncio.run`` per call (a new loop each time). Prints CPU microseconds per request/call (process
time, steadier than wall time on a shared machine) and the ratios, last line
``ratio_async_vs_sync_controller=<x.xx>``.
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from werkzeug.test import EnvironBuilder  # noqa: E402

CONTROLLERS = '''
from core import Controller

class Sync(Controller):
    identity = "b-sync"
    def all(self, req, res):
        res.response = {"n": 1}

class Async(Controller):
    identity = "b-async"
    async def all(self, req, res):
        res.response = {"n": 1}

class Out(Controller):
    identity = "out"
    def all(self, req, res):
        res.send({"status": 200, "response": res.response})
'''
ROUTES = '''
routes = {"group": "b", "prefix": "/b", "routes": {
    "./sync": {"list": {"identity": "b-sync-route", "controller": [{"name": "b-sync"}, {"name": "out"}]}},
    "./async": {"list": {"identity": "b-async-route", "controller": [{"name": "b-async"}, {"name": "out"}]}},
}}
'''


def build(root: Path) -> Any:
    from core.app.factory import create_app

    (root / "config" / "env").mkdir(parents=True)
    (root / "init").mkdir()
    (root / "config" / "system.py").write_text("system = {'defaultCulture': {'language': 'en', 'region': 'gb'}}")
    (root / "config" / "env" / "bench.py").write_text(
        "environment = {'logLevel': 'none', 'accessLog': False, 'mongoDatabases': {'b': {'url': None}}, "
        "'defaultMongoDatabase': 'b'}")
    for name, text in (("controllers/c.py", CONTROLLERS), ("routes/r.py", ROUTES)):
        path = root / "projects" / "b" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return create_app("bench", str(root))


def per_request(app: Any, path: str, n: int) -> float:
    environ = EnvironBuilder(path=path, environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()
    started = time.process_time()
    status: list[str] = []
    for _ in range(n):
        b"".join(app(dict(environ), lambda s, h, exc=None: status.append(s)))
    assert all(line.startswith("200") for line in status), set(status)
    return (time.process_time() - started) / n * 1e6


def per_call(way: str, n: int) -> float:
    from core.http.coroutines import run

    async def nothing() -> int:
        return 1

    started = time.process_time()
    for _ in range(n):
        run(nothing()) if way == "loop" else asyncio.run(nothing())
    return (time.process_time() - started) / n * 1e6


def main() -> None:
    numbers = [int(a) for a in sys.argv[1:] if a.isdigit()]
    n, rounds = (numbers + [2000, 5])[:2] if len(numbers) < 2 else numbers[:2]
    with tempfile.TemporaryDirectory() as folder:
        app = build(Path(folder))
        per_request(app, "/b/sync", 200), per_request(app, "/b/async", 200)  # warm-up
        sync, asynchronous, ratios = [], [], []
        for _ in range(rounds):
            s, a = per_request(app, "/b/sync", n), per_request(app, "/b/async", n)
            sync.append(s), asynchronous.append(a), ratios.append(a / s)
        loop = [per_call("loop", n) for _ in range(rounds)]
        fresh = [per_call("asyncio.run", max(n // 4, 50)) for _ in range(rounds)]
    print("| case | CPU us per request/call (median) |")
    print("|---|---:|")
    print(f"| sync controller, full chain | {statistics.median(sync):.1f} |")
    print(f"| async controller, full chain | {statistics.median(asynchronous):.1f} |")
    print(f"| hand-over to the loop thread (chosen) | {statistics.median(loop):.1f} |")
    print(f"| asyncio.run per call | {statistics.median(fresh):.1f} |")
    print(f"ratio_asyncio_run_vs_loop_thread={statistics.median(fresh) / statistics.median(loop):.2f}")
    print(f"ratio_async_vs_sync_controller={statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
