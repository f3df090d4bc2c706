"""The one-off cron mode: ``python server.py <env> cron=JobName`` runs a job now and exits."""
from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

from core.cron import run_once
from core.shared import Shared

JOBS = '''
from core import BaseCronJob, Shared

class Stamp(BaseCronJob):
    identity = "stampJob"
    def worker(self):
        Shared.db()["stamps"].insert_one({"by": self.identity, "forced": self.force_run})

class Broken(BaseCronJob):
    identity = "brokenJob"
    def worker(self):
        raise RuntimeError("no luck")
'''


def test_run_once_runs_the_named_job_and_reports_success(tree):
    tree.write("projects/base/crons/jobs.py", JOBS)
    tree.app()
    assert run_once(["stampJob"]) == 0
    assert [(d["by"], d["forced"]) for d in Shared.db()["stamps"].find()] == [("stampJob", True)]


def test_a_failing_job_exits_1_and_an_unknown_one_2(tree):
    tree.write("projects/base/crons/jobs.py", JOBS)
    tree.app()
    assert run_once(["brokenJob"]) == 1
    assert run_once(["stampJob", "noSuchJob"]) == 2
    assert Shared.db()["stamps"].count_documents({}) == 0  # nothing ran: names are checked first


def test_command_line_exit_code_for_an_unknown_job():
    result = subprocess.run([sys.executable, "server.py", "test", "cron=noSuchJob"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "unknown cron job 'noSuchJob'" in result.stderr
