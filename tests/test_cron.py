"""Run modes from the command line: ``cron=Job`` once, ``cron=A,B`` on their schedule without a web
server, a disabled environment, and ``crons`` listing the jobs. Each test runs ``server.py`` in a
fresh copy of the repository with a project of cron jobs that write to files."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from db_fixtures import TEST_URL

from conftest import ROOT, free_port
from core.cron import run_once
from core.shared import Shared

IGNORED = shutil.ignore_patterns(".venv", ".git", ".mia-data", "__pycache__", ".pytest_cache", ".ruff_cache",
                                 ".schemathesis", "node_modules", "*.pyc")

JOBS = '''
import os
from core import BaseCronJob, Shared

OUT = os.environ["CRON_OUT"]

def mark(name):
    with open(os.path.join(OUT, name), "a") as handle:
        handle.write("run\\n")

class Stamp(BaseCronJob):
    identity = "stampJob"
    time = {"second": "*"}
    def worker(self):
        mark("stampJob")

class Other(BaseCronJob):
    identity = "otherJob"
    time = {"second": "*/2"}
    def worker(self):
        mark("otherJob")

class OncePerTick(BaseCronJob):
    identity = "oncePerTickJob"
    time = {"second": "*"}
    max_instance_number_total = 1
    def worker(self):
        import threading
        mark("ticks-" + str(os.getpid()) + "-" + threading.current_thread().name.rpartition("@")[2])

class Broken(BaseCronJob):
    identity = "brokenJob"
    def worker(self):
        raise RuntimeError("no luck")
'''


@pytest.fixture
def checkout(tmp_path: Path):
    """A copy of the repository with the job project and environments ``crontest`` (enabled) and ``off``."""
    target = tmp_path / "checkout"
    shutil.copytree(ROOT, target, ignore=IGNORED)
    (target / "projects" / "crontest" / "crons").mkdir(parents=True)
    (target / "projects" / "crontest" / "crons" / "jobs.py").write_text(JOBS)
    port = free_port()
    for mode, enabled in (("crontest", True), ("off", False)):
        (target / "config" / "env" / f"{mode}.py").write_text(
            f"environment = {{'server': {{'http': {{'host': '127.0.0.1', 'port': {port}}}}}, 'hosts': [], "
            f"'cronJobs': {{'enabled': {enabled}, 'timezone': 'UTC'}}, 'defaultMongoDatabase': 'mia', "
            f"'mongoDatabases': {{'mia': {{'url': None}}}}, 'logLevel': 'info', 'allowDemo': True}}\n")
    out = tmp_path / "out"
    out.mkdir()
    return target, out, port


def _env(out: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIA_")}
    env["CRON_OUT"] = str(out)
    return env


def run(checkout, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    target, out, _ = checkout
    return subprocess.run([sys.executable, "server.py", *args], cwd=target, env=_env(out),
                          capture_output=True, text=True, timeout=timeout)


def runs(out: Path, name: str) -> int:
    path = out / name
    return len(path.read_text().splitlines()) if path.exists() else 0


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.timeout(90)
def test_cron_job_runs_once_now_and_crons_lists_the_last_run(checkout):
    _, out, _ = checkout
    result = run(checkout, "crontest", "cron=stampJob")
    assert result.returncode == 0, result.stderr
    assert runs(out, "stampJob") == 1
    assert run(checkout, "crontest", "cron=brokenJob").returncode == 1  # unknown names: exit 2, tested in-process
    result = run(checkout, "crontest", "crons")
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:] if line.strip()}
    assert {"stampJob", "otherJob", "brokenJob", "generic-removeSessions", "removeToDosMarkedAsDoneCron"} <= set(lines)
    assert "*/2 * * * * *" in lines["otherJob"] and "-/srv -/all" in lines["otherJob"]
    assert "1/srv 1/all" in lines["generic-removeSessions"] and "(CET)" in lines["generic-removeSessions"]
    assert "never" in lines["otherJob"] and "active" in lines["otherJob"]


@pytest.mark.timeout(60)
def test_several_jobs_run_on_their_schedule_without_a_web_server(checkout):
    target, out, port = checkout
    process = subprocess.Popen([sys.executable, "server.py", "crontest", "cron=stampJob,otherJob"], cwd=target,
                               env=_env(out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 30
        while time.time() < deadline and not (runs(out, "stampJob") >= 4 and runs(out, "otherJob") >= 2):
            assert process.poll() is None, process.communicate()
            time.sleep(0.2)
        assert runs(out, "stampJob") >= 4 and runs(out, "otherJob") >= 2  # both, repeatedly, concurrently
        assert not listening(port)  # no web server
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert "listening" not in stdout
    settled = runs(out, "stampJob")
    time.sleep(1.2)
    assert runs(out, "stampJob") == settled  # stopped for good


@pytest.mark.timeout(60)
def test_a_disabled_environment_never_runs_a_job(checkout):
    _, out, _ = checkout
    result = run(checkout, "off", "cron=stampJob", timeout=30)  # one-off and scheduled share the check
    assert result.returncode == 2
    assert "Cron Manager is disabled for this environment ('off'" in result.stderr
    assert runs(out, "stampJob") == 0 and runs(out, "otherJob") == 0


def test_run_once_runs_the_named_job_in_process(tree):
    tree.write("projects/base/crons/jobs.py", '''
        from core import BaseCronJob, Shared
        class Stamp(BaseCronJob):
            identity = "stampJob"
            def worker(self):
                Shared.db()["stamps"].insert_one({"by": self.identity, "forced": self.force_run})
        class Broken(BaseCronJob):
            identity = "brokenJob"
            def worker(self):
                raise RuntimeError("no luck")
    ''')
    tree.env({"cronJobs": {"timezone": "UTC"}})
    tree.app()
    assert run_once(["stampJob"]) == 0
    assert [(d["by"], d["forced"]) for d in Shared.db()["stamps"].find()] == [("stampJob", True)]
    assert run_once(["brokenJob"]) == 1
    assert run_once(["stampJob", "noSuchJob"]) == 2
    assert Shared.db()["stamps"].count_documents({}) == 1  # names are checked before anything runs


if TEST_URL:  # two real processes on one real MongoDB (the embedded store lives in one process)
    @pytest.mark.timeout(90)
    def test_two_processes_on_one_mongodb_run_a_total_limit_1_job_once_per_tick(checkout):
        import uuid

        target, out, _ = checkout
        name = f"mia_cron_{uuid.uuid4().hex[:10]}"
        (target / "config" / "env" / "multi.py").write_text(
            f"environment = {{'hosts': [], 'cronJobs': {{'enabled': True, 'timezone': 'UTC'}}, "
            f"'defaultMongoDatabase': 'mia', "
            f"'mongoDatabases': {{'mia': {{'url': {TEST_URL!r}, 'database': {name!r}}}}}, 'logLevel': 'info'}}\n")
        processes = [subprocess.Popen([sys.executable, "server.py", "multi", "cron=oncePerTickJob,otherJob"],
                                      cwd=target, env=_env(out), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True) for _ in range(2)]
        try:
            time.sleep(14)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.communicate(timeout=20)
        import pymongo

        pymongo.MongoClient(TEST_URL, serverSelectionTimeoutMS=3000).drop_database(name)
        ticks = [path.name.split("-", 2)[2] for path in out.iterdir() if path.name.startswith("ticks-")]
        per_tick = {tick: len((out / f).read_text().splitlines()) for f in os.listdir(out) if f.startswith("ticks-")
                    for tick in [f.split("-", 2)[2]]}
        assert len(set(ticks)) >= 6 and len(ticks) == len(set(ticks))  # each tick in one process only
        assert set(per_tick.values()) == {1}
