"""A database written by mia.js is served as it is (spec mia-core-behaviour §5.3 for the cron documents).

mia.js's ``cronJobExecution`` keeps ``runningJobsByServer: [{serverId, jobs: [{id}]}]`` (``[]`` when idle);
our ``$push`` to ``runningJobsByServer.<serverId>`` on a list is error 28 (PathNotViable) on MongoDB,
so the job would never run again. mia.js heartbeats have no ``leaseUntil``. Runs on the embedded
store and, with MIA_TEST_MONGO_URL, on that server (tests/db_fixtures.py).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import db_fixtures
from bson import ObjectId

from core.data.cron_slots import CronStore

db_env = db_fixtures.db_env
mia_db = db_fixtures.mia_db

MIA_SERVER = ObjectId()
MIA_CONFIG = {"allowedHosts": [], "environment": [], "isSuspended": False, "debugOutput": False,
              "maxInstanceNumberTotal": 1, "maxInstanceNumberPerServer": 1, "forceRun": False, "stopJob": False,
              "time": {"second": "0", "minute": "*", "hour": "*", "dayOfMonth": "0-31", "month": "0-12",
                       "dayOfWeek": "0-7", "timezone": "Europe/Berlin"}}


def _mia_cron_documents(db, running: bool) -> None:
    """What mia.js left behind: an idle job, and one its (now stopped) server was running."""
    stale = datetime.now(UTC) - timedelta(hours=3)
    db.cronServerHeartbeat.insert_one({"_id": MIA_SERVER, "status": "active", "hostName": "old-host",
                                       "startedAt": stale, "isSuspended": False, "restartCount": 0,
                                       "lastStatusUpdateAt": stale})
    db.cronJobExecution.insert_one({"typeName": "mia-idleJob", "createdAt": 1700000000, "config": MIA_CONFIG,
                                    "runningJobsByServer": [], "runningJobsOverall": [],
                                    "stats": {"timesStarted": 3, "timesFinished": 3, "totalExecutionTime": 12}})
    jobs = [{"id": "a" * 64}] if running else []
    db.cronJobExecution.insert_one({
        "typeName": "mia-busyJob", "createdAt": 1700000000, "config": MIA_CONFIG,
        "runningJobsByServer": [{"serverId": str(MIA_SERVER), "jobs": jobs}],
        "runningJobsOverall": [{"id": "a" * 64, "serverId": str(MIA_SERVER), "startedAt": stale}] if running else [],
        "stats": {"timesStarted": 1, "timesFinished": 0, "totalExecutionTime": 0}})


def test_a_mia_js_cron_job_runs_and_releases_its_slot(mia_db):
    _mia_cron_documents(mia_db, running=False)
    store = CronStore(mia_db, server_id="srv1", host_name="new-host")
    store.register()
    config = store.ensure_job("mia-idleJob", {"time": {"second": "*"}})
    assert config["maxInstanceNumberTotal"] == 1  # the database's config wins, as in mia.js
    tick = datetime.now(UTC).replace(microsecond=0)
    slot = store.reserve("mia-idleJob", config, tick)
    assert slot is not None
    assert store.counts("mia-idleJob") == (1, 1)
    store.release(slot)
    doc = mia_db.cronJobExecution.find_one({"typeName": "mia-idleJob"})
    assert doc["runningJobsByServer"] == {"srv1": []} and doc["runningJobsOverall"] == []
    assert doc["stats"]["timesStarted"] == 4 and doc["stats"]["timesFinished"] == 4
    assert store.reserve("mia-idleJob", config, tick + timedelta(seconds=1)) is not None


def test_slots_held_by_a_stopped_mia_js_server_are_freed(mia_db):
    _mia_cron_documents(mia_db, running=True)
    store = CronStore(mia_db, server_id="srv1", host_name="new-host")
    store.register()
    config = store.ensure_job("mia-busyJob", {"time": {"second": "*"}})
    tick = datetime.now(UTC).replace(microsecond=0)
    assert store.reserve("mia-busyJob", config, tick) is None  # mia.js's run still holds the only slot
    assert str(MIA_SERVER) in store.reap_dead_servers()
    assert mia_db.cronServerHeartbeat.find_one({"_id": MIA_SERVER}) is None
    assert store.reserve("mia-busyJob", config, tick) is not None


def test_adopting_mia_js_documents_is_idempotent(mia_db):
    _mia_cron_documents(mia_db, running=False)
    store = CronStore(mia_db, server_id="srv1")
    assert store.adopt_mia_documents() == 2
    assert store.adopt_mia_documents() == 0
    assert mia_db.cronJobExecution.count_documents({"runningJobsByServer": {}}) == 2
