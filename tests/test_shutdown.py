"""An orderly stop on every engine: SIGTERM while a cron job runs stops accepting, lets the job finish
(or records it interrupted), releases its slot and heartbeat, and only then closes the databases; a
second server on the same data takes the next tick at once."""
from __future__ import annotations

import os
import time

import pytest
from serving_fixtures import ServerProcess, free_ports, serving_tree

from core.app.factory import create_app

pytestmark = pytest.mark.timeout(150)

LONG_JOB = '''
import os, time
from core import BaseCronJob, Shared

class Long(BaseCronJob):
    identity = "long-job"
    time = {"second": "*", "timezone": "UTC"}
    max_instance_number_total = 1

    def worker(self):
        with open(os.environ["MIA_TEST_MARKS"], "a") as marks:
            marks.write(f"start {os.getpid()}\\n")
        time.sleep(5)
        Shared.db().longRuns.insert_one({"pid": os.getpid()})  # the database is still open here
        with open(os.environ["MIA_TEST_MARKS"], "a") as marks:
            marks.write(f"end {os.getpid()}\\n")
'''


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def marks(path) -> list[tuple[str, int]]:
    if not path.exists():
        return []
    return [(word, int(pid)) for word, pid in (line.split() for line in path.read_text().splitlines() if line)]


@pytest.mark.parametrize("engine", ["threaded", "granian", "gunicorn"])
def test_sigterm_during_a_cron_job_stops_in_order_and_frees_the_next_tick(tmp_path, engine):
    (port,) = free_ports(1)
    data = tmp_path / "data" / "store.json"
    env = {"server": {"http": {"host": "127.0.0.1", "port": port}, "engine": engine, "workers": 1,
                      "gracefulTimeout": 15},
           "cronJobs": {"enabled": True, "stopTimeout": 8}, "embedded": {"path": str(data)}, "logLevel": "warn"}
    tree = serving_tree(tmp_path / "app", env)
    tree.write("projects/base/crons/long.py", LONG_JOB)
    path = tmp_path / "marks.txt"
    extra = {"MIA_TEST_MARKS": str(path)}
    with ServerProcess(tree.root, env=extra) as first:
        first.wait_ready(f"http://127.0.0.1:{port}/t/hello")
        assert wait_until(lambda: any(word == "start" for word, _ in marks(path)), 20), first.output()
        time.sleep(1)  # SIGTERM one second into the five-second run
        code = first.terminate()
        out = first.output()
    assert code == 0, out
    assert "Traceback" not in out and "after close" not in out, out
    first_pids = {pid for _, pid in marks(path)}

    os.environ["MIA_TEST_MARKS"] = str(path)
    try:
        app = create_app("test", tree.root, run_init=False)
        try:
            from core.shared import Shared

            doc = Shared.db().cronJobExecution.find_one({"typeName": "long-job"})
            beats = Shared.db().cronServerHeartbeat.count_documents({"status": "active"})
        finally:
            app.config["mia.databases"].close_all()
    finally:
        del os.environ["MIA_TEST_MARKS"]
    assert doc["stats"]["lastResult"] in ("success", "interrupted"), doc
    assert doc["runningJobsOverall"] == [] and not any(doc["runningJobsByServer"].values()), doc
    assert beats == 0

    with ServerProcess(tree.root, env=extra) as second:  # the data file's lock is free; the job is not held
        second.wait_ready(f"http://127.0.0.1:{port}/t/hello")
        assert wait_until(lambda: any(word == "start" and pid not in first_pids for word, pid in marks(path)), 15), \
            second.output()


def living_in_group(pgid: int) -> list[int]:
    """Pids of the process group that are not zombies (read from /proc)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(entry))
    return pids


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads the process table from /proc")
@pytest.mark.parametrize("engine", ["granian", "gunicorn", "granian+websocket"])
def test_kill_9_of_the_primary_takes_its_workers_with_it(tmp_path, engine):
    import signal
    import socket

    port, ws_port = free_ports(2)
    env = {"server": {"http": {"host": "127.0.0.1", "port": port}, "engine": engine.split("+")[0], "workers": 1},
           "embedded": {"path": str(tmp_path / "data" / "store.json")}, "logLevel": "warn"}
    if engine == "granian+websocket":  # the gunicorn WebSocket server (a MongoDB URL; routes never reach it)
        env["server"]["websocket"] = {"port": ws_port, "connections": 50}
        env["mongoDatabases"] = {"t": {"url": "mongodb://127.0.0.1:9/none?serverSelectionTimeoutMS=300"}}
    tree = serving_tree(tmp_path / "app", env)
    with ServerProcess(tree.root) as first:
        first.wait_ready(f"http://127.0.0.1:{port}/t/hello")
        if engine == "granian+websocket":
            first.wait_ready(f"http://127.0.0.1:{ws_port}/t/hello")
        assert len(living_in_group(first.proc.pid)) >= 2  # the primary and at least one worker
        os.kill(first.proc.pid, signal.SIGKILL)
        first.proc.wait(10)
        assert wait_until(lambda: not living_in_group(first.proc.pid), 5), first.output()
        for freed in (port, ws_port) if engine == "granian+websocket" else (port,):
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.1", freed), timeout=1).close()
    with ServerProcess(tree.root) as second:  # the ports and the data file's lock are free
        second.wait_ready(f"http://127.0.0.1:{port}/t/hello")
        assert second.proc.poll() is None
