"""The generic clean-up jobs and the demo's, run once against documents in the database."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.shared import Shared

NOW = datetime.now(UTC)


def job(identity: str):
    return Shared.crons(identity)()


def test_the_jobs_are_registered_under_mia_identities_and_schedules(app):
    for identity, second, minute, hour in [("generic-removeDevices", "0", "0", "0-23/2"),
                                           ("generic-removeSessions", "0", "*", "*"),
                                           ("generic-removeUserAccounts", "0", "*", "*"),
                                           ("generic-ensureIndexes", "0", "0", "3"),
                                           ("removeToDosMarkedAsDoneCron", "*/10", "*", "*")]:
        time = Shared.crons(identity).time
        assert (time["second"], time["minute"], time["hour"], time["timezone"]) == (second, minute, hour, "CET")
        assert Shared.crons(identity).max_instance_number_total == 1


def test_remove_devices_deletes_stale_inactive_and_year_old_devices(app):
    devices = Shared.models("generic-device-model").collection()
    devices.insert_many([
        {"id": "a" * 32, "status": "inactive", "lastModified": NOW - timedelta(hours=2)},
        {"id": "b" * 32, "status": "inactive", "lastModified": NOW - timedelta(minutes=10)},
        {"id": "c" * 32, "status": "active", "lastModified": NOW - timedelta(days=366)},
        {"id": "d" * 32, "status": "active", "lastModified": NOW - timedelta(days=100)},
    ])
    assert job("generic-removeDevices").worker() == 2
    assert sorted(d["id"][0] for d in devices.find({"id": {"$in": ["a" * 32, "b" * 32, "c" * 32, "d" * 32]}})) == \
        ["b", "d"]


def test_remove_sessions_ends_expired_expireable_sessions_only(app):
    devices = Shared.models("generic-device-model").collection()
    old, fresh = NOW - timedelta(minutes=11), NOW - timedelta(minutes=2)
    devices.insert_many([
        {"id": "e" * 32, "session": {"id": "1" * 64, "created": old, "cidr": ["1.1.1.1/32"], "expireable": True,
                                     "groups": ["demo"]}},
        {"id": "f" * 32, "session": {"id": "2" * 64, "created": old, "cidr": ["1.1.1.1/32"], "expireable": False}},
        {"id": "g" * 32, "session": {"id": "3" * 64, "created": fresh, "cidr": ["1.1.1.1/32"], "expireable": True}},
    ])
    assert job("generic-removeSessions").worker() == 1
    ended = devices.find_one({"id": "e" * 32})["session"]
    assert ended == {"expireable": True, "groups": ["demo"]}  # id, created and cidr are gone
    assert devices.find_one({"id": "f" * 32})["session"]["id"] == "2" * 64
    assert devices.find_one({"id": "g" * 32})["session"]["id"] == "3" * 64


def _user(login: str, **extra):
    issued = extra.pop("issued", NOW)
    return {"login": login, "group": "demo", "status": "active", "validated": False, "thirdParty": [],
            "messaging": [{"type": "email", "value": f"{login}@example.com", "validated": False,
                           "inspectTokens": {"validateToken": {"token": login * 4, "tokenIssueDate": issued}}}],
            **extra}


def test_remove_user_accounts_deletes_deleted_and_unvalidated_past_their_deadline(app):
    users = Shared.models("generic-user-model").collection()
    late = NOW - timedelta(days=15)  # the validate token lives 14 days
    users.insert_many([
        _user("gone", status="deleted"),
        _user("late", issued=late),
        _user("recent", issued=NOW - timedelta(days=1)),
        _user("valid", issued=late, validated=True),
        _user("facebook", issued=late, thirdParty=[{"provider": "fb", "id": "1"}]),
    ])
    assert job("generic-removeUserAccounts").worker() == 2
    assert sorted(u["login"] for u in users.find({"group": "demo"})) == ["facebook", "recent", "valid"]


def test_ensure_indexes_only_acts_when_enabled_or_forced(app):
    devices = Shared.models("generic-device-model").collection()
    devices.create_index([("leftover", 1)], name="leftover")
    assert job("generic-ensureIndexes").worker() == {}  # cronJobs.ensureIndexes.enabled is off
    assert "leftover" in devices.index_information()
    forced = job("generic-ensureIndexes")
    forced.force_run = True
    done = forced.worker()
    assert "leftover" in done["generic-device-model"]["dropped"]
    assert "leftover" not in devices.index_information() and "id" in devices.index_information()


def test_demo_cleanup_deletes_todos_checked_more_than_five_minutes_ago(app):
    todos = Shared.models("demo-todos").collection()
    todos.delete_many({})
    todos.insert_many([
        {"name": "old done", "status": "checked", "lastModified": NOW - timedelta(minutes=6)},
        {"name": "old open", "status": "unchecked", "lastModified": NOW - timedelta(minutes=6)},
        {"name": "new done", "status": "checked", "lastModified": NOW - timedelta(minutes=1)},
    ])
    assert job("removeToDosMarkedAsDoneCron").worker() == 1
    assert sorted(t["name"] for t in todos.find()) == ["new done", "old open"]
