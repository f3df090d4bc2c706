"""The production shape in processes: a project tree for ``server.py production``-like servers on one
database, process-tree helpers, and scripts that run the generic libs from several processes at once.

``production_tree`` writes a project with ``GET /t/pid`` (the answering process), ``POST /t/publish``
(``Shared.ws("/t/live").broadcast``), the WebSocket route ``/t/live`` (its handler answers with its pid),
the cron job ``tickCounter`` (every second, one instance overall; each run stores its scheduled tick)
and ``longJob`` (every second, one instance overall, runs until the scheduler stops it).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from conftest import ROOT, ProjectTree

SHAPE_CONTROLLER = '''
import os
from core import Controller, Shared

class Shape(Controller):
    identity = "shape"

    def pid(self, req, res):
        res.response = {"pid": os.getpid()}

    def publish(self, req, res):
        body = req.mia.body or {}
        Shared.ws("/t/live").broadcast({"n": body.get("n"), "from": os.getpid()})
        res.response = {"pid": os.getpid()}


class Feed(Controller):
    """Answers a client's first message with this process's pid. Not on_connect: simple_websocket 1.1's
    Client leaves a frame that came in one read with the 101 answer unread until more data arrives."""
    identity = "shapeFeed"

    def on_message(self, ws, req, message):
        ws.send({"hello": os.getpid()})
'''

SHAPE_ROUTES = '''
routes = {"group": "t", "prefix": "/t", "routes": {
    "./pid": {"list": {"identity": "pid", "controller": [{"name": "shape", "function": "pid"}, {"name": "out"}]}},
    "./publish": {"post": {"identity": "publish",
                           "controller": [{"name": "shape", "function": "publish"}, {"name": "out"}]}},
    "./live": {"ws": {"identity": "live", "controller": [], "handler": {"name": "shapeFeed"}}},
}}
'''

SHAPE_CRONS = '''
import os
import threading
import time
from core import BaseCronJob, Shared

class TickCounter(BaseCronJob):
    """Stores one document per run with the scheduled tick it serves (from the tick thread's name)."""
    identity = "tickCounter"
    time = {"second": "*", "timezone": "UTC"}
    max_instance_number_total = 1

    def worker(self):
        tick = threading.current_thread().name.rsplit("@", 1)[-1]
        Shared.db()["tickRuns"].insert_one({"tick": tick, "pid": os.getpid()})


class LongJob(BaseCronJob):
    """Holds its slot until this server stops (bounded at 120 s), recording its start and end."""
    identity = "longJob"
    time = {"second": "*", "timezone": "UTC"}
    max_instance_number_total = 1

    def worker(self):
        runs = Shared.db()["longRuns"]
        run = runs.insert_one({"pid": os.getpid(), "started": time.time()}).inserted_id
        deadline = time.monotonic() + 120
        while not self.should_stop() and time.monotonic() < deadline:
            time.sleep(0.1)
        runs.update_one({"_id": run}, {"$set": {"ended": time.time()}})
'''


def production_tree(root: Path, database: dict[str, Any], *, engine: str, http: int, ws: int | None,
                    workers: int = 2) -> ProjectTree:
    """A project served by ``engine`` with ``workers`` workers on ``http`` (WebSockets on ``ws`` when
    given: granian's listener in the primary), cron on, on ``database``."""
    tree = ProjectTree(root)
    tree.write("projects/base/controllers/shape.py", SHAPE_CONTROLLER)
    tree.write("projects/base/routes/t.py", SHAPE_ROUTES)
    tree.write("projects/base/crons/jobs.py", SHAPE_CRONS)
    server: dict[str, Any] = {"engine": engine, "workers": workers, "threads": 4, "gracefulTimeout": 10,
                              "http": {"host": "127.0.0.1", "port": http}}
    if ws is not None:
        server["websocket"] = {"port": ws}
    tree.env({**database, "logLevel": "warn", "server": server,
              "cronJobs": {"enabled": True, "stopTimeout": 10}, "websocket": {"pollInterval": 0.1}})
    return tree


def post_json(url: str, body: dict[str, Any], timeout: float = 20) -> tuple[int, Any]:
    """(status, JSON body) of a POST on a fresh connection."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def generic_tree(root: Path, database: dict[str, Any]) -> ProjectTree:
    """A project tree with a copy of projects/generic (users, devices, notifications) on ``database``."""
    tree = ProjectTree(root)
    shutil.copytree(ROOT / "projects" / "generic", root / "projects" / "generic",
                    ignore=shutil.ignore_patterns("__pycache__", "tests"))
    identity = root / "projects" / "generic" / "config" / "identity.py"
    identity.write_text(identity.read_text().replace('"concurrency": 2,', '"concurrency": 32,'))
    tree.env({**database, "logLevel": "warn"})
    return tree


def cheap_hashes() -> None:
    """argon2 at its cheapest in this process, so racing calls meet at the database, not in the hasher."""
    from argon2 import PasswordHasher

    from core.shared import Shared

    Shared.libs("generic-passwords").hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def wait_for(predicate: Any, timeout: float, what: str, step: float = 0.2) -> Any:
    """Poll ``predicate`` until it returns something truthy (bounded); fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


# -- several processes calling the generic user libs at once -----------------------------------------
RACE = '''
import json, sys, threading, time
from pathlib import Path
sys.path.insert(0, {repo!r})
from core.app.factory import create_app
from core.errors import MiaError
from core.shared import Shared
from argon2 import PasswordHasher

create_app("test", {tree!r})
Shared.libs("generic-passwords").hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # cheap_hashes
kind, go, first, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
users = Shared.libs("generic-userAuthManager")
results = [None] * count

def call(i):
    n = first + i
    try:
        if kind == "signup":
            user = users.sign_up_user({{"group": "g", "login": f"user{{n}}", "email": "same@example.com",
                                        "password": "a-long-secret-1", "appId": "app"}})
        elif kind == "thirdparty":
            user, _status = users.signup_with_third_party_provider({{
                "group": "g", "appId": "app", "email": "fb@example.com", "deviceId": f"fb-device-{{n}}",
                "thirdPartyLogin": {{"provider": "fb", "id": "fb-1"}}}})
        else:
            user = users.login_user({{"group": "g", "login": "ada@example.com", "password": "a-long-secret-1",
                                      "appId": "app", "deviceId": f"device-{{n}}",
                                      "options": {{"maxDeviceCount": 3}}}})
        tokens = [t for t in (user or {{}}).get("accessTokens") or [] if t.get("appId") == "app"]
        results[i] = {{"ok": str(user["_id"]) if user else None, "tokens": len(tokens)}}
    except MiaError as err:
        results[i] = {{"status": err.status, "code": err.errors[0].get("code")}}
    except Exception as err:
        results[i] = {{"error": f"{{type(err).__name__}}: {{err}}"}}

threads = [threading.Thread(target=call, args=(i,)) for i in range(count)]
Path(f"{{go}}.ready{{first}}").write_text("ready")
deadline = time.monotonic() + 60
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.01)
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(120)
print(json.dumps(results))
'''


def race(tree: ProjectTree, kind: str, go: Path, processes: int = 2,
         per_process: int = 10) -> list[subprocess.Popen]:
    """``processes`` OS processes x ``per_process`` threads, each to run one generic-userAuthManager call
    once :func:`collect` says go."""
    script = RACE.format(repo=str(ROOT), tree=str(tree.root))
    procs = [subprocess.Popen([sys.executable, "-c", script, kind, str(go), str(p * per_process), str(per_process)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
             for p in range(processes)]
    return procs


def collect(procs: list[subprocess.Popen], go: Path, per_process: int = 10) -> list[dict[str, Any]]:
    """Once every process has built its app, start the race (the ``go`` file); gather every call's outcome."""
    ready = [Path(f"{go}.ready{p * per_process}") for p in range(len(procs))]
    wait_for(lambda: all(r.exists() for r in ready) or any(p.poll() is not None for p in procs), 120,
             "the racing processes to start")
    go.write_text("go")
    results: list[dict[str, Any]] = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err[-3000:]
        results += json.loads(out.strip().splitlines()[-1])
    return results
