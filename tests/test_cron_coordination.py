"""Two schedulers with their own server ids on one database: the limits hold across servers.

One 31-second run of two servers (``host-a``, ``host-b``) is shared by the tests of this module:
each job in it shows one property (one run per tick under a total limit of 1, per-server limits,
suspension, allowedHosts, a raising worker). The embedded store serves one process, so both
servers live in this process; with MIA_TEST_MONGO_URL the same runs use a real MongoDB.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict
from typing import Any

import pytest
from db_fixtures import BACKENDS, TEST_URL

from core import BaseCronJob
from core.app.crons.scheduler import CronScheduler

WINDOW = 31.0
EVENTS: dict[str, list[tuple[int, float, str]]] = defaultdict(list)  # job -> (instance id, start, tick)
ACTIVE: dict[tuple[str, int], int] = defaultdict(int)
PEAK: dict[tuple[str, int | None], int] = defaultdict(int)
LOCK = threading.Lock()


def _enter(job: BaseCronJob) -> float:
    with LOCK:
        ACTIVE[(job.identity, id(job))] += 1
        PEAK[(job.identity, id(job))] = max(PEAK[(job.identity, id(job))], ACTIVE[(job.identity, id(job))])
        overall = sum(n for (name, _), n in ACTIVE.items() if name == job.identity)
        PEAK[(job.identity, None)] = max(PEAK[(job.identity, None)], overall)
    return time.time()


def _leave(job: BaseCronJob, started: float) -> None:
    with LOCK:
        ACTIVE[(job.identity, id(job))] -= 1
        tick = threading.current_thread().name.rpartition("@")[2]  # the scheduled second, e.g. 2026-01-01T00:00:05Z
        EVENTS[job.identity].append((id(job), started, tick))


class OncePerTick(BaseCronJob):
    identity = "t-oncePerTick"
    time = {"second": "*"}
    max_instance_number_total = 1

    def worker(self):
        _leave(self, _enter(self))  # instant: without the per-tick count the other server would run too


class OnePerServer(BaseCronJob):
    identity = "t-onePerServer"
    time = {"second": "*"}
    max_instance_number_per_server = 1

    def worker(self):
        started = _enter(self)
        time.sleep(2.5)  # overlaps the next two ticks
        _leave(self, started)


class TwoPerServerThreeOverall(BaseCronJob):
    identity = "t-twoPerServer"
    time = {"second": "*"}
    max_instance_number_per_server = 2
    max_instance_number_total = 3

    def worker(self):
        started = _enter(self)
        time.sleep(3.5)
        _leave(self, started)


class Suspended(BaseCronJob):
    identity = "t-suspended"
    time = {"second": "*"}
    is_suspended = True

    def worker(self):
        _leave(self, _enter(self))


class OnlyHostB(BaseCronJob):
    identity = "t-onlyHostB"
    time = {"second": "*/2"}
    allowed_hosts = ["host-b"]

    def worker(self):
        _leave(self, _enter(self))


class Raising(BaseCronJob):
    identity = "t-raising"
    time = {"second": "*"}
    max_instance_number_total = 1
    max_instance_number_per_server = 1

    def worker(self):
        _leave(self, _enter(self))
        raise RuntimeError("the worker broke")


JOBS = [OncePerTick, OnePerServer, TwoPerServerThreeOverall, Suspended, OnlyHostB, Raising]


def open_database(backend: str) -> tuple[Any, Any]:
    """A fresh database (embedded store or MIA_TEST_MONGO_URL) and a function that disposes of it."""
    name = f"mia_cron_{uuid.uuid4().hex[:10]}"
    if backend == "embedded":
        import mongomock_ng

        client = mongomock_ng.MongoClient(tz_aware=True)
        return client[name], client.close
    import pymongo

    client = pymongo.MongoClient(TEST_URL, tz_aware=True, serverSelectionTimeoutMS=3000)

    def drop() -> None:
        client.drop_database(name)
        client.close()
    return client[name], drop


@pytest.fixture(scope="module", params=BACKENDS)
def run(request):
    """Both servers running every job for WINDOW seconds; yields (database, {instance id: host})."""
    EVENTS.clear(), ACTIVE.clear(), PEAK.clear()
    database, dispose = open_database(request.param)
    settings = {"deadServerInterval": 5000}
    servers = [CronScheduler(database, JOBS, settings=settings, server_id=f"server-{h}", host_name=f"host-{h}")
               for h in ("a", "b")]
    for server in servers:
        server.start()
    started = time.time()
    time.sleep(WINDOW)
    for server in servers:
        server.stop(timeout=0.5)  # the slow jobs' last runs are cut short: their slots are released anyway
    hosts = {id(state.instance): server.store.host_name for server in servers for state in server.jobs.values()}
    yield database, hosts, (started, started + WINDOW)
    dispose()


@pytest.mark.timeout(90)
def test_a_total_limit_of_one_gives_exactly_one_run_per_tick_over_30_ticks(run):
    database, hosts, _ = run
    ticks = [tick for _, _, tick in EVENTS["t-oncePerTick"]]
    per_tick = {tick: ticks.count(tick) for tick in ticks}
    assert len(per_tick) >= 30  # a 31 s window: every second's tick ran (a stalled machine may coalesce one)
    assert set(per_tick.values()) == {1}, per_tick  # and each on exactly one of the two servers
    seconds = ticks
    doc = database.cronJobExecution.find_one({"typeName": "t-oncePerTick"})
    assert doc["stats"]["timesStarted"] == doc["stats"]["timesFinished"] == len(seconds)
    assert doc["runningJobsOverall"] == []


@pytest.mark.timeout(90)
def test_per_server_limits_hold_while_other_servers_run(run):
    _, hosts, _ = run
    one = [PEAK[("t-onePerServer", i)] for i in hosts if PEAK.get(("t-onePerServer", i))]
    assert one == [1, 1]  # both servers ran it, never two at once on one server
    assert PEAK[("t-onePerServer", None)] == 2  # no total limit: the two servers overlapped
    two = [PEAK[("t-twoPerServer", i)] for i in hosts if PEAK.get(("t-twoPerServer", i))]
    assert max(two) == 2 and PEAK[("t-twoPerServer", None)] == 3  # reached, never exceeded


@pytest.mark.timeout(90)
def test_a_suspended_job_never_runs(run):
    database, _, _ = run
    assert EVENTS["t-suspended"] == []
    doc = database.cronJobExecution.find_one({"typeName": "t-suspended"})
    assert doc["config"]["isSuspended"] is True and doc["stats"]["timesStarted"] == 0


@pytest.mark.timeout(90)
def test_allowed_hosts_are_respected(run):
    _, hosts, _ = run
    ran_on = {hosts[instance] for instance, _, _ in EVENTS["t-onlyHostB"]}
    assert ran_on == {"host-b"} and len(EVENTS["t-onlyHostB"]) >= 10


@pytest.mark.timeout(90)
def test_a_raising_worker_releases_its_slot_and_records_the_error(run):
    database, _, _ = run
    runs = len(EVENTS["t-raising"])
    assert runs >= 29  # a leaked slot (limit 1) would have stopped it after the first run
    doc = database.cronJobExecution.find_one({"typeName": "t-raising"})
    stats = doc["stats"]
    assert stats["timesStarted"] == stats["timesFinished"] == stats["timesFailed"] == runs
    assert stats["lastResult"] == "failed"
    assert stats["lastError"]["message"] == "RuntimeError: the worker broke"
    assert doc["runningJobsOverall"] == [] and all(v == [] for v in doc["runningJobsByServer"].values())


@pytest.mark.timeout(90)
def test_servers_unregister_on_a_clean_stop(run):
    database, _, _ = run
    assert database.cronServerHeartbeat.count_documents({}) == 0
