"""The life of a job across servers: database edits applied by the manager, a dead server's slots
freed when its lease runs out, graceful stop, forced runs, and who schedules in a serving process."""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from db_fixtures import BACKENDS
from test_cron_coordination import open_database

from core import BaseCronJob
from core.app.crons import modes as cron_modes
from core.app.crons.scheduler import CronScheduler
from core.data.cron_slots import CronStore
from core.shared import Shared

RUNS: list[tuple[str, float]] = []
RELEASE = threading.Event()


class Every(BaseCronJob):
    identity = "l-every"
    time = {"second": "*"}
    max_instance_number_total = 1

    def worker(self):
        RUNS.append((self.identity, time.time()))


class NewYear(BaseCronJob):
    identity = "l-newYear"
    time = {"second": "0", "minute": "0", "hour": "0", "dayOfMonth": "1", "month": "0"}  # 1 January only

    def worker(self):
        RUNS.append((self.identity, time.time()))


class Slow(BaseCronJob):
    identity = "l-slow"
    time = {"second": "*"}
    max_instance_number_total = 1

    def worker(self):
        RUNS.append((self.identity, time.time()))
        RELEASE.wait(10)


@pytest.fixture(params=BACKENDS)
def database(request):
    RUNS.clear()
    RELEASE.clear()
    db, dispose = open_database(request.param)
    yield db
    RELEASE.set()
    dispose()


def wait_for(condition, timeout: float = 6.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def count(identity: str) -> int:
    return sum(1 for name, _ in RUNS if name == identity)


@pytest.mark.timeout(30)
def test_the_manager_applies_database_edits_to_running_timers(database):
    server = CronScheduler(database, [Every, NewYear], settings={"managerTime": {"second": "*"}},
                           server_id="m").start()
    try:
        assert wait_for(lambda: count("l-every") >= 1)
        assert server.next_fire_time("l-newYear").month == 1  # month 0 is January
        # An operator suspends one job and moves the other to every second, in the database only.
        database.cronJobExecution.update_one({"typeName": "l-every"}, {"$set": {"config.isSuspended": True}})
        database.cronJobExecution.update_one({"typeName": "l-newYear"},
                                             {"$set": {"config.time": {"second": "*/1"}}})
        assert wait_for(lambda: count("l-newYear") >= 2)
        stopped_at = count("l-every")
        time.sleep(2.2)
        assert count("l-every") <= stopped_at + 1  # at most a tick already under way
        assert server.next_fire_time("l-every") is None  # the timer is paused
        # Back to 1 January only; then an operator forces one run now.
        database.cronJobExecution.update_one({"typeName": "l-newYear"}, {"$set": {"config.time": {
            "second": "0", "minute": "0", "hour": "0", "dayOfMonth": "1", "month": "0"}}})
        assert wait_for(lambda: server.next_fire_time("l-newYear").month == 1)
        time.sleep(0.5)
        before = count("l-newYear")
        database.cronJobExecution.update_one({"typeName": "l-newYear"}, {"$set": {"config.forceRun": True}})
        # It runs once, now, and the run resets the flag.
        assert wait_for(lambda: count("l-newYear") == before + 1)
        assert wait_for(lambda: database.cronJobExecution.find_one(
            {"typeName": "l-newYear"})["config"]["forceRun"] is False)
        time.sleep(1.5)
        assert count("l-newYear") == before + 1
    finally:
        server.stop(timeout=2)


@pytest.mark.timeout(30)
def test_a_broken_database_config_falls_back_to_the_preset(database):
    store = CronStore(database, server_id="x")
    preset = Every.preset_config()
    store.ensure_job("l-every", preset)
    database.cronJobExecution.update_one({"typeName": "l-every"}, {"$set": {"config.time.second": "noon"}})
    assert store.read_config("l-every", preset) == preset


@pytest.mark.timeout(30)
def test_a_dead_servers_lease_expires_and_its_slot_is_reused(database):
    # Server "dead" takes the only slot and then never beats again (a crashed process).
    dead = CronStore(database, server_id="dead", dead_after=1.0)
    dead.register()
    dead.ensure_job("l-every", Every.preset_config())
    assert dead.reserve("l-every", Every.preset_config(), datetime.now(UTC)) is not None
    crashed_at = time.time()
    alive = CronScheduler(database, [Every], settings={"deadServerInterval": 1000}, server_id="alive").start()
    try:
        assert wait_for(lambda: count("l-every") >= 2, timeout=8)
        first = min(at for name, at in RUNS if name == "l-every")
        assert first >= crashed_at + 1.0  # not before the dead server's lease ran out
        assert database.cronServerHeartbeat.find_one({"_id": "dead"}) is None
        doc = database.cronJobExecution.find_one({"typeName": "l-every"})
        assert all(entry["serverId"] != "dead" for entry in doc["runningJobsOverall"])
        assert "dead" not in doc["runningJobsByServer"]
    finally:
        alive.stop(timeout=2)


@pytest.mark.timeout(30)
def test_a_server_declared_dead_registers_again_with_a_new_id(database):
    server = CronScheduler(database, [Every], settings={"deadServerInterval": 1000}, server_id="first").start()
    try:
        database.cronServerHeartbeat.delete_one({"_id": "first"})  # as if another server had reaped it
        assert wait_for(lambda: server.store.server_id != "first")
        assert database.cronServerHeartbeat.find_one({"_id": server.store.server_id})["status"] == "active"
        runs = count("l-every")
        assert wait_for(lambda: count("l-every") > runs + 1)
    finally:
        server.stop(timeout=2)


@pytest.mark.timeout(30)
def test_stop_lets_a_running_worker_finish_then_releases_what_is_left(database):
    server = CronScheduler(database, [Slow], server_id="s").start()
    assert wait_for(lambda: count("l-slow") == 1)
    threading.Timer(0.3, RELEASE.set).start()
    server.stop(timeout=5)  # the worker finishes within the timeout
    doc = database.cronJobExecution.find_one({"typeName": "l-slow"})
    assert doc["stats"]["lastResult"] == "success" and doc["runningJobsOverall"] == []
    assert database.cronServerHeartbeat.count_documents({}) == 0

    RELEASE.clear()
    RUNS.clear()
    server = CronScheduler(database, [Slow], server_id="t").start()
    assert wait_for(lambda: count("l-slow") == 1)
    server.stop(timeout=0.3)  # the worker is still running: its slot is released anyway
    doc = database.cronJobExecution.find_one({"typeName": "l-slow"})
    assert doc["stats"]["lastResult"] == "interrupted" and doc["runningJobsOverall"] == []
    assert doc["runningJobsByServer"].get("t") in (None, [])
    RELEASE.set()


@pytest.mark.timeout(30)
def test_who_schedules_one_scheduler_per_serving_process(tree):
    tree.env({"cronJobs": {"enabled": True, "timezone": "UTC"}})
    tree.write("projects/base/crons/every.py", '''
        from core import BaseCronJob
        class Every(BaseCronJob):
            identity = "p-every"
            time = {"second": "*"}
            def worker(self):
                pass
    ''')
    tree.app()
    try:
        assert cron_modes.start_for_process(nocron=True) is None
        first = cron_modes.start_for_process()
        assert first is not None and cron_modes.start_for_process() is first  # once per process
        assert list(first.jobs) == ["p-every"]
        assert Shared.db().cronServerHeartbeat.count_documents({"status": "active"}) == 1
    finally:
        cron_modes.stop_for_process()
    assert Shared.db().cronServerHeartbeat.count_documents({}) == 0
    tree.env({"cronJobs": {"enabled": True, "timezone": "UTC", "allowedHosts": ["some-other-host"]}})
    tree.app()
    assert cron_modes.start_for_process() is None  # this host is not allowed to run crons
    tree.env({"cronJobs": {"enabled": False, "timezone": "UTC"}})
    tree.app()
    assert cron_modes.start_for_process() is None


@pytest.mark.timeout(30)
def test_every_worker_process_is_its_own_server_and_the_limits_hold_between_them(tree, monkeypatch):
    """What a gunicorn worker does after the fork, for two workers (pids faked: one database here)."""
    tree.env({"cronJobs": {"enabled": True, "timezone": "UTC"}})
    tree.write("projects/base/crons/every.py", '''
        import threading
        from core import BaseCronJob, Shared
        class Every(BaseCronJob):
            identity = "w-every"
            time = {"second": "*"}
            max_instance_number_total = 1
            def worker(self):
                Shared.db().ticks.insert_one({"tick": threading.current_thread().name.rpartition("@")[2]})
    ''')
    tree.app()
    schedulers = []
    try:
        for pid in (1111, 2222):
            monkeypatch.setattr(cron_modes.os, "getpid", lambda pid=pid: pid)
            schedulers.append(cron_modes.start_for_process())
        assert schedulers[0] is not schedulers[1]
        assert schedulers[0].store.server_id != schedulers[1].store.server_id
        assert Shared.db().cronServerHeartbeat.count_documents({"status": "active"}) == 2
        assert wait_for(lambda: len(Shared.db().ticks.distinct("tick")) >= 3)
    finally:
        for scheduler in schedulers:
            scheduler.stop(timeout=1)
    ticks = [doc["tick"] for doc in Shared.db().ticks.find()]
    assert len(ticks) == len(set(ticks))  # each tick ran in one worker only
