"""The clean-up jobs that run every minute read through indexes, not collection scans.

Every filter the jobs send (recorded at the collection) must be answerable from an index the
models declare: on MongoDB (MIA_TEST_MONGO_URL) the query planner's winning plan is asked
(``explain``: no COLLSCAN); on the embedded store the filter is matched against the declared indexes
with the planner's rules (an equality, range or ``$exists: false`` on an index's first field, every
``$or`` branch indexed, ``$elemMatch`` fields under their array). The user model also carries no
index that is a prefix of another non-unique one.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import db_fixtures
import pytest

from conftest import ROOT
from core.app.factory import create_app
from core.notifications import status
from core.shared import Shared

db_env = db_fixtures.db_env
NOW = datetime.now(UTC)
RANGE = {"$lt", "$lte", "$gt", "$gte", "$in", "$eq"}


def _indexable_condition(condition: Any) -> bool:
    if not isinstance(condition, dict) or not any(str(k).startswith("$") for k in condition):
        return True  # an equality
    return bool(RANGE & set(condition)) or condition.get("$exists") is False


def _indexed(filter_: dict[str, Any], firsts: set[str], prefix: str = "") -> bool:
    """Whether the planner can bound this filter by an index (firsts: the first field of each index)."""
    others = {k: v for k, v in filter_.items() if k != "$or"}
    if "$or" in filter_ and not any(_indexed({k: v}, firsts, prefix) for k, v in others.items()):
        return all(_indexed({**others, **branch}, firsts, prefix) for branch in filter_["$or"])
    for field, condition in others.items():
        if isinstance(condition, dict) and "$elemMatch" in condition:
            if _indexed(condition["$elemMatch"], firsts, prefix + field + "."):
                return True
        elif prefix + field in firsts and _indexable_condition(condition):
            return True
    return False


def _plan_uses_an_index(collection: Any, filter_: dict[str, Any]) -> bool:
    if type(collection).__module__.startswith("mongomock"):
        firsts = {info["key"][0][0] for info in collection.index_information().values()}
        return _indexed(filter_, firsts)
    plan = collection.find(filter_).explain()["queryPlanner"]["winningPlan"]
    return "COLLSCAN" not in str(plan)


@pytest.fixture
def recorded(db_env, monkeypatch):
    """The app on this test's database; yields (app, the (collection, filter) of every cleanup call)."""
    app = create_app("test", ROOT, overrides=db_env.settings())
    calls: list[tuple[Any, dict[str, Any]]] = []
    with app.app_context():
        for name in ("devices", "users", "notificationStatus"):
            collection = Shared.db()[name]
            kind = type(collection)
            for method in ("find", "update_many", "delete_many"):
                original = getattr(kind, method)

                def spy(self, filter_=None, *args, _original=original, **kwargs):
                    if self.name in ("devices", "users", "notificationStatus"):
                        calls.append((self, filter_ or {}))
                    return _original(self, filter_, *args, **kwargs)

                monkeypatch.setattr(kind, method, spy)
        yield app, calls
    app.config["mia.databases"].close_all()


def test_the_minutely_clean_up_jobs_read_through_indexes(recorded):
    app, calls = recorded
    users = Shared.models("generic-user-model").collection()
    users.insert_one({"login": "a@example.com", "group": "g", "status": "active", "validated": False,
                      "messaging": [{"type": "email", "value": "a@example.com", "inspectTokens": {
                          "validateToken": {"token": "t", "tokenIssueDate": NOW - timedelta(days=30)}}}],
                      "accessTokens": [{"token": "x" * 64, "appId": "app", "device": {"id": "d" * 32},
                                        "tokenIssueDate": NOW - timedelta(days=90)}],
                      "deviceCounts": [{"appId": "app", "deviceCount": 1}]})
    for identity in ("generic-removeSessions", "generic-removeUserAccounts", "generic-removeDevices"):
        Shared.crons(identity)().worker()
    statuses = Shared.db()["notificationStatus"]
    status.ensure_indexes(statuses)
    status.remove_finished(statuses, NOW)
    made = list(calls)  # explain() below is a find too
    assert {c.name for c, _ in made} == {"devices", "users", "notificationStatus"}
    scans = [(c.name, f) for c, f in made if not _plan_uses_an_index(c, f)]
    assert scans == []


def test_the_user_model_has_no_redundant_prefix_index(recorded):
    indexes = Shared.models("generic-user-model").indexes()
    keys = [(tuple(k for k, _ in spec.keys), spec.options.get("unique", False), spec.name) for spec in indexes]
    redundant = [name for fields, unique, name in keys if not unique and any(
        other != fields and other[:len(fields)] == fields for other, _, _ in keys)]
    assert redundant == []
    names = [spec.name for spec in indexes]
    assert "login" not in names and "logingroup" in names
    pair = next(spec for spec in indexes if [k for k, _ in spec.keys] == ["accessTokens.appId",
                                                                            "accessTokens.device.id"])
    assert pair.options.get("unique") is True  # one user per device and app (mia.js): the constraint stays
