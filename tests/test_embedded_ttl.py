"""TTL indexes on the embedded store (core/data/embedded_ttl.py): documents still expire exactly when
mongomock said they do, but a collection is scanned only when one of its documents can be due.

The clock is mongomock's own (``mongomock_ng.utcnow``), moved forward by the tests."""
from __future__ import annotations

import datetime as dt

import mongomock_ng
import pytest

from core.data import embedded_ttl
from core.data.embedded import make_thread_safe

START = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock(monkeypatch):
    """mongomock's clock, set to START; ``clock.move(seconds)`` moves it on."""
    class Clock:
        now = START

        def move(self, seconds: float) -> None:
            self.now += dt.timedelta(seconds=seconds)

    fake = Clock()
    monkeypatch.setattr(mongomock_ng, "utcnow", lambda: fake.now)
    return fake


@pytest.fixture
def nonces(clock):
    make_thread_safe()
    collection = mongomock_ng.MongoClient(tz_aware=True)["ttl"]["nonces"]
    collection.create_index("expires", expireAfterSeconds=0)
    return collection


def ids(collection) -> list[str]:
    return sorted(d["_id"] for d in collection.find({}))


def test_documents_expire_at_their_time_and_not_before(nonces, clock):
    nonces.insert_many([{"_id": "soon", "expires": START + dt.timedelta(seconds=10)},
                        {"_id": "later", "expires": START + dt.timedelta(seconds=100)},
                        {"_id": "never", "expires": "not a date"}, {"_id": "none"}])
    assert ids(nonces) == ["later", "never", "none", "soon"]
    clock.move(9.9)
    assert nonces.count_documents({}) == 4
    clock.move(0.1)
    assert ids(nonces) == ["later", "never", "none"]
    clock.move(90)
    assert nonces.find_one({"_id": "later"}) is None
    assert ids(nonces) == ["never", "none"]


def test_a_later_write_that_is_due_sooner_is_still_removed_on_time(nonces, clock):
    nonces.insert_one({"_id": "far", "expires": START + dt.timedelta(hours=1)})
    assert ids(nonces) == ["far"]  # the store now knows nothing is due for an hour
    nonces.insert_one({"_id": "near", "expires": START + dt.timedelta(seconds=5)})
    nonces.insert_one({"_id": "moved", "expires": START + dt.timedelta(hours=2)})
    nonces.update_one({"_id": "moved"}, {"$set": {"expires": START + dt.timedelta(seconds=7)}})
    clock.move(6)
    assert ids(nonces) == ["far", "moved"]
    clock.move(1)
    assert ids(nonces) == ["far"]
    nonces.update_one({"_id": "far"}, {"$set": {"expires": [START + dt.timedelta(seconds=8)]}})  # mongomock's rules
    clock.move(1)
    assert ids(nonces) == []


def test_index_changes_and_dropped_collections_are_followed(clock):
    make_thread_safe()
    collection = mongomock_ng.MongoClient(tz_aware=True)["ttl"]["sessions"]
    collection.insert_many([{"_id": "old", "seen": START - dt.timedelta(seconds=30)},
                            {"_id": "new", "seen": START}])
    assert len(ids(collection)) == 2
    collection.create_index("seen", expireAfterSeconds=20)  # an index added later applies at once
    assert ids(collection) == ["new"]
    collection.drop_index("seen_1")
    clock.move(60)
    assert ids(collection) == ["new"]  # no TTL index any more: nothing expires
    collection.create_index("seen", expireAfterSeconds=20)
    assert ids(collection) == []
    collection.drop()
    collection.insert_one({"_id": "again", "seen": START})
    assert ids(collection) == ["again"]


def test_a_collection_is_scanned_only_when_something_can_be_due(nonces, clock, monkeypatch):
    """1,000 stored nonces due in an hour: 200 more inserts and reads do not rescan them each time."""
    nonces.insert_many([{"_id": f"n{i}", "expires": START + dt.timedelta(hours=1)} for i in range(1000)])
    scans = []
    original = embedded_ttl.ORIGINALS["_remove_expired_documents"]
    monkeypatch.setitem(embedded_ttl.ORIGINALS, "_remove_expired_documents",
                        lambda store: scans.append(store.name) or original(store))
    for i in range(200):
        nonces.insert_one({"_id": f"x{i}", "expires": START + dt.timedelta(minutes=30)})
        assert nonces.find_one({"_id": f"x{i}"}) is not None
    assert len(scans) <= 1
    clock.move(1800)
    assert nonces.count_documents({}) == 1000  # the 200 due at 30 minutes are gone at once
    assert len(scans) <= 2
