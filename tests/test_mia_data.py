"""A database written by mia.js is served: as it is, or after ``server.py <env> migrate`` (core/data/migrate.py).

mia.js's ``cronJobExecution`` keeps ``runningJobsByServer: [{serverId, jobs: [{id}]}]`` (``[]`` when idle);
our ``$push`` to ``runningJobsByServer.<serverId>`` on a list is error 28 (PathNotViable) on MongoDB,
so the job would never run again. mia.js heartbeats have no ``leaseUntil``. Runs on the embedded
store and, with MIA_TEST_MONGO_URL, on that server (tests/db_fixtures.py).
"""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import db_fixtures
import pytest
from bson import ObjectId
from notify_fixtures import smtp_server

from client import v1_key
from core.app import factory
from core.data.cron_slots import CronStore
from core.data.databases import Databases
from core.notifications import Processor
from core.shared import Shared

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


# -- a whole database written by mia.js: migrated once, then served -------------------------------
ROOT = Path(__file__).resolve().parent.parent
P = "/api/tests/generic/v1"
SECRET_ID, SECRET = "6ff870ad33a86982550543e2f92623c5", "10f2bde9a138ef5aeed40812b0a1594b"  # generic demo secret
DEVICE_ID = "0123456789abcdef0123456789abcdef"
MS = 1_700_000_000_000  # mia.js stored some dates as milliseconds


def _write_mia_js_database(env: dict, salt: str) -> None:
    """Documents and indexes in mia.js's shapes (spec: mia-generic-behaviour §6-7, mia-core-behaviour §5.3)."""
    databases = Databases(env, ROOT)
    db = databases.database()
    old = datetime.now(UTC) - timedelta(days=2)
    db.devices.insert_one({"id": DEVICE_ID, "culture": {"language": "en", "region": "gb"}, "status": "active",
                           "created": MS, "lastModified": old, "app": {"id": "myapp1", "version": "1.2"},
                           "session": {"id": "ab" * 32, "created": MS, "expireable": True},
                           "device": {"os": {"type": "ios", "version": "17.1"}, "group": "phone",
                                      "notification": {"environment": "production"}}})
    db.users.insert_one({"group": "generic", "login": "ada@example.com", "status": "active",
                         "nativeLoginIsSet": True, "validated": True, "etag": "e1",
                         "passHash": hashlib.md5(("mia secret" + salt + "generic").encode()).hexdigest(),
                         "inspectTokens": {"invalidateToken": {"token": "c" * 64, "tokenIssueDate": old}},
                         "messaging": [{"type": "email", "value": "ada@example.com", "validated": True,
                                        "inspectTokens": {"validateToken": {"token": "d" * 64,
                                                                            "tokenIssueDate": old}}}],
                         "accessTokens": [], "deviceCounts": [], "thirdParty": [], "profile": {"myapp1": {}}})
    db.users.create_index([("login", 1)], name="login")
    _mia_cron_documents(db, running=False)
    for n, status in enumerate(("retry", "processing")):  # mia.js's states: one to retry, one a dead worker held
        db.notifications.insert_one({
            "configId": "notification-templates.notifications", "workerId": None if status == "retry" else "w" * 64,
            "type": "mail", "status": status, "retry": 1, "schedule": old, "processed": None, "created": old,
            "log": "connection refused" if status == "retry" else None,
            "notification": {"template": "welcome", "to": f"user{n}@example.com", "language": "en",
                             "replacements": {"name": f"User {n}"}, "payload": None}})
    for keys, name in (([("status", 1), ("schedule", 1)], "statusschedule"),
                       ([("status", 1), ("retry", 1)], "statusretry"),
                       ([("status", 1), ("processed", 1), ("schedule", 1)], "statusprocessedschedule")):
        db.notifications.create_index(keys, name=name)
    databases.close_all()


@pytest.fixture
def mia_js_env(db_env, tmp_path, monkeypatch):
    env = {**db_env.settings(), "embedded": {"path": str(tmp_path / "data" / "snapshot.json")}}
    factory.create_app("test", ROOT, overrides=env, run_init=False)  # only to read the configured salt
    salt = Shared.config("generic-identity.userService.salt")
    Shared.reset()
    _write_mia_js_database(env, salt)
    real = factory.create_app
    monkeypatch.setattr(factory, "create_app", lambda mode, root=None, overrides=None, **kw: real(
        mode, ROOT, overrides={**env, **(overrides or {})}, **kw))
    return env


def _migrate(capsys) -> list[str]:
    import server

    assert server.main(["test", "migrate"]) == 0
    return capsys.readouterr().out.splitlines()


def test_migrate_says_what_it_changed_and_changes_nothing_the_second_time(mia_js_env, capsys):
    first = _migrate(capsys)
    assert "cronJobExecution: 2 document(s): runningJobsByServer list -> map" in first
    assert ("notifications: 1 'retry' and 1 stuck 'processing' item(s) -> 'pending'; mia.js index(es) dropped: "
            "statusschedule, statusretry, statusprocessedschedule") in first
    assert "devices: 2 millisecond date(s) -> dates (session.created, created, lastModified)" in first
    assert any(line.startswith("users: indexes dropped login") for line in first)
    second = _migrate(capsys)
    assert "cronJobExecution: 0 document(s): runningJobsByServer list -> map" in second
    assert ("notifications: 0 'retry' and 0 stuck 'processing' item(s) -> 'pending'; mia.js index(es) dropped: "
            "none") in second
    assert "devices: 0 millisecond date(s) -> dates (session.created, created, lastModified)" in second
    assert all(line.endswith("indexes as declared") for line in second if ": indexes" in line)


def test_a_mia_js_database_is_served(mia_js_env, capsys, monkeypatch):
    _migrate(capsys)
    app = factory.create_app("test")
    try:
        client = app.test_client()

        def call(method, path, body=None):
            text = json.dumps(body) if body is not None else None
            headers = {"key": v1_key(DEVICE_ID, SECRET_ID, SECRET, method, "http://localhost", P + path, text)}
            if text is not None:
                headers["Content-Type"] = "application/json"
            return client.open(P + path, method=method, data=text, headers=headers)

        # its device signs in and its user logs in (the md5 hash verifies once, then it is argon2id)
        assert call("GET", "/users/me/optional").json == {"status": 200}
        login = call("POST", "/users/me/login/native", {"login": "ada@example.com", "password": "mia secret"})
        assert login.status_code == 200, login.json
        assert call("GET", "/users/me").json["response"]["login"] == "ada@example.com"
        user = Shared.db().users.find_one({"login": "ada@example.com"})
        assert user["passHash"].startswith("$argon2id$") and user["accessTokens"][0]["device"]["id"] == DEVICE_ID
        # its cron job runs and releases its slot
        store = CronStore(Shared.db(), server_id="srv1", host_name="new-host")
        store.register()
        config = store.ensure_job("mia-idleJob", {"time": {"second": "*"}})
        slot = store.reserve("mia-idleJob", config, datetime.now(UTC).replace(microsecond=0))
        assert slot is not None
        store.release(slot)
        assert store.counts("mia-idleJob") == (0, 0)
        # its queued notifications are delivered
        with smtp_server() as smtp:
            monkeypatch.setenv("MIA_SMTP_PORT", str(smtp.port))
            assert Processor().run()["fulfilled"] == 2
            assert sorted(m["To"] for m in smtp.messages) == ["user0@example.com", "user1@example.com"]
        # its device's millisecond session date is a date the session clean-up can compare
        assert isinstance(Shared.db().devices.find_one({"id": DEVICE_ID})["session"]["created"], datetime)
    finally:
        app.config["mia.databases"].close_all()
