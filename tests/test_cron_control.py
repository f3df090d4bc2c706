"""Job control for operators (issue 23): ``server.py ENV crons [suspend|resume|run|stop JOB]``.

Against the database (MongoDB with MIA_TEST_MONGO_URL, and the embedded store's data file when no
server runs) and against a running embedded server through its loopback endpoint ``/_mia/crons``.
The listing never writes; ``cron=Job`` beside a running embedded server runs inside that server.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from db_fixtures import BACKENDS, TEST_URL
from serving_fixtures import ServerProcess, get

from conftest import ROOT, ProjectTree, free_port
from core.app.crons_command import beside_a_server, crons

pytestmark = pytest.mark.timeout(180)
# never during a test
YEARLY = {"second": "0", "minute": "0", "hour": "0", "dayOfMonth": "1", "month": "0", "timezone": "UTC"}

JOBS = f'''
import time
from core import BaseCronJob, Shared

class Count(BaseCronJob):
    identity = "countJob"
    time = {YEARLY!r}

    def worker(self):
        Shared.db()["ticks"].insert_one({{"job": "count", "pid": __import__("os").getpid()}})


class Long(BaseCronJob):
    identity = "longJob"
    time = {YEARLY!r}

    def worker(self):
        Shared.db()["ticks"].insert_one({{"job": "long", "phase": "started"}})
        deadline = time.monotonic() + 60
        while not self.should_stop() and time.monotonic() < deadline:
            time.sleep(0.05)
        Shared.db()["ticks"].insert_one({{"job": "long", "phase": "stopped"}})
'''

TICKS = '''
from core import Controller, Shared

class Ticks(Controller):
    identity = "ticks"

    def list(self, req, res):
        res.response = [{k: v for k, v in d.items() if k != "_id"} for d in Shared.db()["ticks"].find()]
'''

TICKS_ROUTES = '''
routes = {"group": "t", "prefix": "/t", "routes": {
    "./ticks": {"list": {"identity": "ticks-list", "controller": [{"name": "ticks"}, {"name": "out"}]}}}}
'''


def jobs_tree(root: Path, **env) -> ProjectTree:
    tree = ProjectTree(root)
    tree.write("projects/base/crons/jobs.py", JOBS)
    tree.write("projects/base/controllers/ticks.py", TICKS)
    tree.write("projects/base/routes/t.py", TICKS_ROUTES)
    env.setdefault("server", {"http": {"host": "127.0.0.1", "port": free_port()}})  # never a developer's :3000
    tree.env({"cronJobs": {"enabled": True, "managerTime": {"second": "*/1"}}, **env})
    return tree


def cli(tree: ProjectTree, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = crons("test", list(argv), tree.root)
    return code, out.getvalue()


def row(text: str, job: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(job))


def wait_for(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "data").glob("*"))}


# -- against the database, no server running --------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_crons_act_on_the_database_without_a_server(tmp_path, backend):
    database = {"url": TEST_URL, "database": f"mia_ctl_{os.getpid()}_{time.monotonic_ns()}"} if backend == "mongodb" \
        else {"url": None}
    tree = jobs_tree(tmp_path, mongoDatabases={"t": database}, embedded={"path": "data/store.json"})
    try:
        code, out = cli(tree)
        assert code == 0 and "active" in row(out, "countJob") and "never" in row(out, "countJob")
        assert not (tmp_path / "data").exists() or backend == "mongodb"  # the listing wrote nothing
        assert cli(tree, "suspend", "countJob")[0] == 0
        code, out = cli(tree)
        assert "suspended" in row(out, "countJob")
        code, out = cli(tree, "run", "countJob")
        assert code == 1 and "'countJob' is suspended; 'crons resume countJob' first" in out
        assert cli(tree, "resume", "countJob")[0] == 0
        code, out = cli(tree, "run", "countJob")
        assert code == 0 and "will run once as soon as a server with cron jobs starts" in out
        code, out = cli(tree, "stop", "countJob")
        assert code == 1 and "'countJob' is not running; nothing to stop" in out
        code, out = cli(tree, "suspend", "contJob")
        assert code == 2 and "unknown cron job 'contJob' (did you mean 'countJob'?)" in out
        code, out = cli(tree, "pause", "countJob")
        assert code == 2 and "usage: python server.py ENV crons" in out
    finally:
        if backend == "mongodb":
            import pymongo

            pymongo.MongoClient(TEST_URL).drop_database(database["database"])


def test_without_a_server_or_data_file_an_action_says_where_the_jobs_live(tmp_path):
    tree = jobs_tree(tmp_path, server={"http": {"host": "127.0.0.1", "port": free_port()}})
    code, out = cli(tree, "suspend", "countJob")
    assert code == 2 and "the embedded store without embedded.path lives only inside a running server" in out
    code, out = cli(tree)
    assert code == 0 and "these are the code's presets" in out


# -- against a running embedded server ------------------------------------------------------------
@pytest.fixture
def running(tmp_path):
    port = free_port()
    tree = jobs_tree(tmp_path, embedded={"path": "data/store.json"},
                     server={"http": {"host": "127.0.0.1", "port": port}})
    with ServerProcess(tree.root) as server:
        server.wait_ready(f"http://127.0.0.1:{port}/t/ticks")
        yield tree, f"http://127.0.0.1:{port}", server


def ticks(base: str) -> list[dict]:
    return get(f"{base}/t/ticks")[2]["response"]


def test_crons_beside_a_running_embedded_server_go_through_its_endpoint(running):
    tree, base, server = running
    before = files(tree.root)
    code, out = cli(tree)
    assert code == 0, out
    assert "(from the running server at " in out and "active" in row(out, "countJob")
    after = files(tree.root)  # the listing never writes the data file (the server's own journal may grow)
    assert after.keys() == before.keys()
    for name, content in before.items():
        assert after[name] == content if not name.endswith(".journal") else after[name].startswith(content)
    assert cli(tree, "suspend", "countJob") == (0, "'countJob' suspended: no new run starts\n")
    assert "suspended" in row(cli(tree)[1], "countJob")
    assert cli(tree, "run", "countJob")[0] == 1
    assert cli(tree, "resume", "countJob")[0] == 0
    code, out = cli(tree, "run", "countJob")
    assert code == 0 and "'countJob' runs once now" in out
    assert wait_for(lambda: [t["job"] for t in ticks(base)] == ["count"])
    assert wait_for(lambda: "success" in row(cli(tree)[1], "countJob") and "(runs 1, failed 0)" in row(
        cli(tree)[1], "countJob"))
    assert cli(tree, "run", "longJob")[0] == 0
    assert wait_for(lambda: {"job": "long", "phase": "started"} in ticks(base))
    assert "running 1" in row(cli(tree)[1], "longJob")
    code, out = cli(tree, "stop", "longJob")
    assert code == 0 and "asked 1 running instance(s) of 'longJob' to stop" in out
    assert wait_for(lambda: {"job": "long", "phase": "stopped"} in ticks(base))
    assert wait_for(lambda: "success" in row(cli(tree)[1], "longJob")), cli(tree)[1] + server.output()[-3000:]
    assert "Traceback" not in server.output()


def test_cron_job_beside_a_running_embedded_server_runs_inside_it(running):
    tree, base, _server = running
    out = io.StringIO()
    with redirect_stdout(out):
        code = beside_a_server("test", ["countJob"], tree.root)
    assert code == 0 and "'countJob' ran in the server" in out.getvalue()
    assert [t["job"] for t in ticks(base)] == ["count"]  # the server's store, not a separate empty one
    with redirect_stdout(out):
        assert beside_a_server("test", ["countJob", "longJob"], tree.root) == 2
    assert "cannot share its store" in out.getvalue()
    with redirect_stdout(out):
        assert beside_a_server("test", ["nope"], tree.root) == 2
    assert "unknown cron job 'nope'" in out.getvalue()


# -- the endpoint's protection -----------------------------------------------------------------------
def test_the_endpoint_answers_loopback_or_the_admin_key_only(tmp_path):
    tree = jobs_tree(tmp_path)
    app = tree.app()
    client = app.test_client()
    local = {"X-Mia-Control": "1", "Host": "127.0.0.1:3000"}
    try:
        assert client.get("/_mia/crons", headers=local).status_code == 200  # the test client is 127.0.0.1
        assert client.get("/_mia/crons", headers={**local, "Host": "localhost"}).status_code == 200
        remote = {"REMOTE_ADDR": "10.1.2.3"}
        reply = client.get("/_mia/crons", headers=local, environ_base=remote)
        assert reply.status_code == 404 and reply.get_json()["errors"][0]["code"] == "NotFound"
        assert client.post("/_mia/crons/countJob/suspend", headers=local, environ_base=remote).status_code == 404
        proxied = client.get("/_mia/crons", headers={**local, "X-Forwarded-For": "203.0.113.9"})
        assert proxied.status_code == 404  # a proxy on this host forwards others: not local
        # a page in a local browser (no custom header without a preflight) and DNS rebinding (its own Host)
        assert client.post("/_mia/crons/countJob/run", headers={"Host": "127.0.0.1:3000"}).status_code == 404
        assert client.get("/_mia/crons", headers={**local, "Host": "rebind.example:3000"}).status_code == 404
        assert client.get("/_mia/crons", headers={**local, "Host": "[::1]:3000"},
                          environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    finally:
        app.config["mia.databases"].close_all()
    key = "k" + os.urandom(24).hex()
    tree.env({"cronJobs": {"enabled": True}, "control": {"adminKey": key}})
    app = tree.app()
    client = app.test_client()
    try:
        remote = {"REMOTE_ADDR": "10.1.2.3"}
        assert client.get("/_mia/crons", environ_base=remote, headers={"X-Mia-Admin-Key": key}).status_code == 200
        assert client.get("/_mia/crons", environ_base=remote, headers={"X-Mia-Admin-Key": key[:-1]}).status_code == 404
        assert client.get("/_mia/crons", headers={**local, "X-Mia-Admin-Key": "wrong"}).status_code == 404
    finally:
        app.config["mia.databases"].close_all()
    tree.env({"cronJobs": {"enabled": True}, "control": {"enabled": False}})
    app = tree.app()
    try:
        assert app.test_client().get("/_mia/crons", headers=local).status_code == 404
    finally:
        app.config["mia.databases"].close_all()


# -- as an operator runs it: server.py local beside server.py local --------------------------------------
def test_server_py_crons_and_cron_job_beside_a_running_local_server(tmp_path):
    port = free_port()
    env = {**os.environ, "MIA_CFG_SERVER__HTTP__PORT": str(port), "PYTHONUNBUFFERED": "1",
           "MIA_CFG_EMBEDDED__PATH": str(tmp_path / "local.json"), "MIA_CFG_LOGLEVEL": "warn"}
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen([sys.executable, "server.py", "local", "nocron"], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert wait_for(lambda: _answers(f"http://127.0.0.1:{port}/demo/v1/todo"), timeout=60)
        before = {p.name: p.read_bytes() for p in tmp_path.glob("local.json*")}
        listing = subprocess.run([sys.executable, "server.py", "local", "crons"], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=60)
        assert listing.returncode == 0, listing.stdout + listing.stderr
        assert "removeToDosMarkedAsDoneCron" in listing.stdout and "(from the running server at" in listing.stdout
        assert "Traceback" not in listing.stderr
        assert {p.name: p.read_bytes() for p in tmp_path.glob("local.json*")} == before  # nocron: only we could write
        once = subprocess.run([sys.executable, "server.py", "local", "cron=removeToDosMarkedAsDoneCron"], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=60)
        assert once.returncode == 0, once.stdout + once.stderr
        assert "'removeToDosMarkedAsDoneCron' ran in the server" in once.stdout
    finally:
        server.terminate()
        server.wait(60)
        log.close()


def _answers(url: str) -> bool:
    try:
        return get(url, timeout=2)[0] == 200
    except OSError:
        return False


def test_a_server_without_job_control_is_never_bypassed_with_an_empty_store(tmp_path):
    port = free_port()
    tree = jobs_tree(tmp_path, server={"http": {"host": "127.0.0.1", "port": port}}, control={"enabled": False})
    with ServerProcess(tree.root) as server:
        server.wait_ready(f"http://127.0.0.1:{port}/t/ticks")
        code, out = cli(tree)
        assert code == 0 and "but not its job control (404)" in out  # the listing still reads (the presets)
        code, out = cli(tree, "run", "countJob")
        assert code == 2 and "not its job control" in out
        text = io.StringIO()
        with redirect_stdout(text):
            assert beside_a_server("test", ["countJob"], tree.root) == 2
        assert "cannot share that server's embedded store" in text.getvalue()
        assert ticks(f"http://127.0.0.1:{port}") == []
