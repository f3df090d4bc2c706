"""The embedded store keeps every acknowledged write across ``kill -9`` (issue 13, finding 7).

Each test runs the real ``python server.py crash`` in a copy of the repository (its own data file,
a loopback port) and attacks it from outside: 100 todos, then ``kill -9`` of the server, or of the
gunicorn worker; a second process on the same data file; ``hot`` mode stopped with SIGTERM.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, free_port

COUNT = 100


def make_root(tmp_path: Path, port: int, **server: object) -> Path:
    """A copy of the repository's code with an environment ``crash`` that keeps data in data/store.json."""
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(ROOT / "server.py", root / "server.py")
    for folder in ("core", "client", "config", "projects", "init"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__", ".mia-data"))
    env = {"logLevel": "warn", "debug": False, "hosts": [], "allowDemo": True,
           "server": {"http": {"host": "127.0.0.1", "port": port}, **server},
           "defaultMongoDatabase": "mia", "mongoDatabases": {"mia": {"url": None}},
           "embedded": {"path": "data/store.json", "lockWait": 1}}
    (root / "config" / "env" / "crash.py").write_text(f"environment = {env!r}\n")
    return root


def call(port: int, method: str = "GET", path: str = "/demo/v1/todo?limit=100", body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def start(root: Path, port: int, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIA_") and k not in ("PORT", "WERKZEUG_RUN_MAIN")}
    process = subprocess.Popen([sys.executable, "server.py", "crash", *extra], cwd=root, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    wait_serving(process, port)
    return process


def wait_serving(process: subprocess.Popen, port: int, seconds: float = 40) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stderr.read().decode(errors='replace')}")
        try:
            if call(port)[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.1)
    raise AssertionError("server did not answer within the time limit")


def kill_group(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def our_todos(port: int) -> int:
    names: set[str] = set()
    for skip in (0, 100):
        status, body = call(port, path=f"/demo/v1/todo?limit=100&skip={skip}")
        assert status == 200
        names.update(t["name"] for t in body["response"] if t["name"].startswith("crash-todo-"))
    return len(names)


def post_todos(port: int) -> None:
    for number in range(COUNT):
        assert call(port, "POST", "/demo/v1/todo", {"name": f"crash-todo-{number}"})[0] == 200


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.timeout(120)
def test_100_todos_survive_kill_9_of_the_server(tmp_path):
    port = free_port()
    root = make_root(tmp_path, port)
    process = start(root, port)
    try:
        post_todos(port)
    finally:
        kill_group(process)  # SIGKILL: no shutdown hook runs
    process = start(root, port)
    try:
        assert our_todos(port) == COUNT
    finally:
        kill_group(process, signal.SIGTERM)


def worker_pids(primary: int, engine: str) -> list[int]:
    """gunicorn's workers are the primary's children; granian's are children of its server process."""
    if engine == "gunicorn":
        return children(primary)
    return [pid for server in children(primary) for pid in children(server)]


@pytest.mark.timeout(150)
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the worker through /proc (Linux)")
@pytest.mark.parametrize("engine", ["granian", "gunicorn"])
def test_100_todos_survive_kill_9_of_a_worker(tmp_path, engine):
    port = free_port()
    root = make_root(tmp_path, port, workers=1, threads=2, engine=engine)
    process = start(root, port)
    try:
        post_todos(port)
        workers = worker_pids(process.pid, engine)
        assert len(workers) == 1
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and worker_pids(process.pid, engine) in ([], workers):
            time.sleep(0.1)
        wait_serving(process, port)
        assert worker_pids(process.pid, engine) != workers  # a respawned worker answers
        assert our_todos(port) == COUNT
    finally:
        kill_group(process, signal.SIGTERM)


@pytest.mark.timeout(90)
def test_a_second_process_on_the_same_data_file_is_refused_at_start(tmp_path):
    port = free_port()
    root = make_root(tmp_path, port)
    first = start(root, port)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIA_")}
        env["PORT"] = str(free_port())
        second = subprocess.run([sys.executable, "server.py", "crash"], cwd=root, env=env, capture_output=True,
                                timeout=60)
        assert second.returncode == 2
        assert "another process" in second.stderr.decode() and "store.json" in second.stderr.decode()
        assert call(port, "POST", "/demo/v1/todo", {"name": "crash-todo-first"})[0] == 200  # the first still works
    finally:
        kill_group(first, signal.SIGTERM)


@pytest.mark.timeout(120)
def test_hot_mode_keeps_a_todo_written_before_sigterm(tmp_path):
    port = free_port()
    root = make_root(tmp_path, port)
    process = start(root, port, "hot")
    try:
        assert call(port, "POST", "/demo/v1/todo", {"name": "crash-todo-hot"})[0] == 200
    finally:
        kill_group(process, signal.SIGTERM)
    process = start(root, port)
    try:
        assert our_todos(port) == 1
    finally:
        kill_group(process, signal.SIGTERM)


def test_the_journal_replays_upserts_increments_and_indexes_exactly_once(tmp_path):
    """In-process: writes without a clean shutdown come back from the journal, with the same ids."""
    from pymongo.errors import DuplicateKeyError

    from core.data.databases import Databases
    from core.data.embedded import detach_journal

    env = {"defaultMongoDatabase": "mia", "mongoDatabases": {"mia": {"url": None}},
           "embedded": {"path": str(tmp_path / "s.json")}}
    first = Databases(env)
    things = first.database()["things"]
    things.create_index("name", unique=True)
    things.insert_one({"name": "lamp", "n": 1})
    things.update_one({"name": "desk"}, {"$set": {"n": 5}}, upsert=True)
    things.update_one({"name": "lamp"}, {"$inc": {"n": 1}})
    first.compact()  # half of the writes go into the snapshot, the rest only into the journal
    things.update_one({"name": "lamp"}, {"$inc": {"n": 10}})
    things.find_one_and_update({"name": "chair"}, {"$set": {"n": 0}}, upsert=True)
    before = sorted(things.find({}), key=lambda d: d["name"])
    detach_journal(first.client())
    first._journal.close()  # the process dies: no compaction
    with open(tmp_path / "s.json.journal", "ab") as handle:
        handle.write(b'{"seq": 99, "kind": "Coll')  # an append cut short by the crash
    second = Databases(env)
    again = second.database()["things"]
    assert sorted(again.find({}), key=lambda d: d["name"]) == before  # same _ids, lamp n == 12 (not 13 or 23)
    with pytest.raises(DuplicateKeyError):
        again.insert_one({"name": "lamp"})
    second.close_all()


@pytest.mark.timeout(120)
def test_a_captured_v2_request_is_refused_after_kill_9_and_restart(tmp_path):
    from client import v2_headers

    secret_id, secret = "91205b43c5144068ee9979b093925f77", "74168c7a1868ddeee3355fab9489914b"  # demo values
    port = free_port()
    root = make_root(tmp_path, port)
    process = start(root, port)
    path = "/demo-auth/v1/todo?limit=1"
    try:
        device = call(port, "POST", "/demo-auth/v1/devices", {"culture": {"code": "en-gb"}})[1]["response"]["id"]
        headers = v2_headers(device, secret_id, secret, "GET", f"http://127.0.0.1:{port}", path)
        captured = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
        with urllib.request.urlopen(captured, timeout=10) as response:
            assert response.status == 200
    finally:
        kill_group(process)
    process = start(root, port)
    try:
        with pytest.raises(urllib.error.HTTPError) as replay:
            urllib.request.urlopen(captured, timeout=10)
        assert replay.value.code == 401
        assert json.loads(replay.value.read())["errors"][0]["code"] == "NonceReused"
    finally:
        kill_group(process, signal.SIGTERM)
