"""The broadcast bus (core/data/broadcast.py) under concurrent publishers: nothing lost, nothing twice.

Polling (standalone server, embedded store): the insert is the numbering, so a late insert is not
lost and a rolled-back high-water mark re-issues no number. Change stream (replica set, sharded
cluster): runs here when MIA_TEST_MONGO_URL names one; its resume logic is also driven by a fake
stream. ``db_env`` tests run on the embedded store and, with MIA_TEST_MONGO_URL, on that server.
"""
from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from typing import Any

import db_fixtures
import pytest
from pymongo.errors import PyMongoError

from core.data import broadcast
from core.data.broadcast import MESSAGES, SEQUENCE, BroadcastBus

db_env = db_fixtures.db_env
mia_db = db_fixtures.mia_db

PUBLISHERS, MESSAGES_EACH, SUBSCRIBERS = 4, 500, 3


def _wait_for(condition: Any, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit  # a liveness bound, not a timing assertion
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_concurrent_publishers_reach_every_subscriber_exactly_once_in_order(mia_db, transport):
    received: dict[str, list[tuple[str, int]]] = defaultdict(list)
    subscribers = []
    for n in range(SUBSCRIBERS):
        bus = BroadcastBus(lambda: mia_db, f"sub{n}")
        bus.start(lambda doc, n=n: received[f"sub{n}"].append((doc["origin"], int(doc["text"]))))
        subscribers.append(bus)
    try:
        for bus in subscribers:
            assert bus.ready.wait(30)

        def publish(origin: str) -> None:
            bus = BroadcastBus(lambda: mia_db, origin)
            for i in range(MESSAGES_EACH):
                bus.publish("/chat", str(i), None)

        threads = [threading.Thread(target=publish, args=(f"pub{p}",)) for p in range(PUBLISHERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        total = PUBLISHERS * MESSAGES_EACH
        _wait_for(lambda: all(len(received[f"sub{n}"]) >= total for n in range(SUBSCRIBERS)))
        time.sleep(0.3)  # anything extra (a duplicate) would arrive now
    finally:
        for bus in subscribers:
            bus.stop()
    for n in range(SUBSCRIBERS):
        got = received[f"sub{n}"]
        assert len(got) == total, f"sub{n} saw {len(got)} of {total}"
        assert max(Counter(got).values()) == 1  # exactly once
        for p in range(PUBLISHERS):
            assert [i for origin, i in got if origin == f"pub{p}"] == list(range(MESSAGES_EACH))  # in order


@pytest.fixture
def polling(monkeypatch):
    """The polling transport also where the deployment offers change streams (MIA_TEST_MONGO_URL)."""
    monkeypatch.setattr(broadcast, "deployment", lambda client: "standalone")


@pytest.fixture(params=["deployment", "polling"])
def transport(request, monkeypatch):
    """As the deployment chooses (a change stream on a replica set), and the polling one everywhere."""
    if request.param == "polling":
        monkeypatch.setattr(broadcast, "deployment", lambda client: "standalone")
    return request.param


def test_a_publisher_late_with_its_insert_loses_nothing(mia_db, polling):
    reader = BroadcastBus(lambda: mia_db, "reader")
    reader.catch_up()
    slow, fast = BroadcastBus(lambda: mia_db, "slow"), BroadcastBus(lambda: mia_db, "fast")
    stale = slow._mark(mia_db[SEQUENCE])  # read, then the publisher stalls...
    fast.publish("/c", "one", None)
    fast.publish("/c", "two", None)
    assert [d["text"] for d in reader.poll()] == ["one", "two"]
    slow._mark = lambda sequence: stale  # type: ignore[method-assign]
    assert slow.publish("/c", "late", None) == 3  # ...and its insert lands after the reader moved on
    assert [d["text"] for d in reader.poll()] == ["late"]  # the old counter gave it up after gapTimeout


def test_a_rolled_back_high_water_mark_reissues_no_number(mia_db, polling):
    reader = BroadcastBus(lambda: mia_db, "reader")
    reader.catch_up()
    writer = BroadcastBus(lambda: mia_db, "writer")
    assert [writer.publish("/c", str(i), None) for i in range(3)] == [1, 2, 3]
    assert len(reader.poll()) == 3
    mia_db[SEQUENCE].update_one({"_id": "messages"}, {"$set": {"n": 1}})  # a failover undid two $inc
    assert writer.publish("/c", "after", None) == 4  # the old counter re-issued 2: a duplicate key
    assert [d["text"] for d in reader.poll()] == ["after"]


def test_an_idle_reader_backs_off_instead_of_polling_ten_times_a_second(mia_db):
    reader = BroadcastBus(lambda: mia_db, "reader", {"pollInterval": 0.1, "idleInterval": 1.0})
    got: list[Any] = []
    reader.start(got.append)
    try:
        assert reader.ready.wait(30)
        start = reader.queries
        time.sleep(3.0)
        idle_queries = reader.queries - start
        BroadcastBus(lambda: mia_db, "writer").publish("/c", "wake", None)
        _wait_for(lambda: got, 10)
    finally:
        reader.stop()
    assert [d["text"] for d in got] == ["wake"]
    if reader.streaming():
        assert idle_queries == 0  # the server pushes
    else:
        assert idle_queries <= 8  # was 30 at 0.1 s; now 0.1, 0.2, 0.4, 0.8, then 1 s apart


# -- the change-stream transport, driven by a fake deployment that offers one ----------------------
class FakeStream:
    def __init__(self, oplog: list[dict[str, Any]], position: int, fail_after: int | None) -> None:
        self.oplog, self.position, self.fail_after, self.delivered = oplog, position, fail_after, 0
        self.resume_token: Any = None

    def __enter__(self) -> FakeStream:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def try_next(self) -> dict[str, Any] | None:
        if self.fail_after is not None and self.delivered == self.fail_after:
            raise PyMongoError("connection to the primary lost")
        if self.position >= len(self.oplog):
            time.sleep(0.01)
            return None
        event = self.oplog[self.position]
        self.position += 1
        self.delivered += 1
        self.resume_token = {"_data": event["fullDocument"]["text"]}
        return event


class FakeReplicaSet:
    """One collection whose ``watch`` replays the oplog after a resume token; ``hello`` says replica set."""

    def __init__(self) -> None:
        self.oplog: list[dict[str, Any]] = []
        self.resumed_after: list[Any] = []
        self.client, self.database, self.name, self.fail_next = self, self, MESSAGES, True
        self.admin = self

    def command(self, name: str) -> dict[str, Any]:
        return {"setName": "rs0"}

    def __getitem__(self, name: str) -> FakeReplicaSet:
        return self

    def index_information(self) -> dict[str, Any]:
        return {"created_1": {"key": [("created", 1)], "expireAfterSeconds": 60}}

    def with_options(self, **options: Any) -> FakeReplicaSet:
        return self

    def insert_one(self, doc: dict[str, Any]) -> Any:
        self.oplog.append({"operationType": "insert", "fullDocument": dict(doc)})
        return type("Result", (), {"inserted_id": len(self.oplog)})()

    def watch(self, pipeline: list[Any], resume_after: Any = None, max_await_time_ms: int = 0) -> FakeStream:
        self.resumed_after.append(resume_after)
        if resume_after is None:
            start = len(self.oplog)  # a new stream starts from now
        else:
            start = next(n + 1 for n, e in enumerate(self.oplog) if e["fullDocument"]["text"] == resume_after["_data"])
        fail, self.fail_next = (2 if self.fail_next else None), False
        return FakeStream(self.oplog, start, fail)


def test_a_change_stream_resumes_after_the_last_delivered_message(monkeypatch):
    fake = FakeReplicaSet()
    monkeypatch.setattr(broadcast, "deployment", lambda client: "replicaSet")
    reader = BroadcastBus(lambda: fake, "reader")
    reader._indexed = True
    got: list[str] = []
    writer = BroadcastBus(lambda: fake, "writer")
    writer._indexed = True
    assert writer.streaming()  # asked once per client: it opened (and closed) one stream
    fake.resumed_after, fake.fail_next = [], True
    for i in range(5):
        writer.publish("/c", f"m{i}", None)  # published before the reader listens: not its business
    reader.start(lambda doc: got.append(doc["text"]))
    try:
        assert reader.ready.wait(10)
        for i in range(5, 10):
            writer.publish("/c", f"m{i}", None)
        _wait_for(lambda: len(got) >= 5, 10)
        time.sleep(0.2)
    finally:
        reader.stop()
    assert got == [f"m{i}" for i in range(5, 10)]  # the stream broke after two: resumed, nothing twice
    assert fake.resumed_after[:2] == [None, {"_data": "m6"}]


@pytest.mark.parametrize("mode", ["replicaSet", "sharded", "standalone", "embedded"])
def test_the_transport_follows_the_deployment(monkeypatch, mode):
    monkeypatch.setattr(broadcast, "deployment", lambda client: mode)
    bus = BroadcastBus(FakeReplicaSet, "x")
    bus._indexed = True
    assert bus.streaming() is (mode in ("replicaSet", "sharded"))


def test_a_replica_set_that_cannot_open_a_change_stream_is_polled(mia_db, monkeypatch):
    monkeypatch.setattr(broadcast, "deployment", lambda client: "replicaSet")  # hello says so; watch fails
    bus = BroadcastBus(lambda: mia_db, "x")
    assert bus.streaming() is False
    assert bus.publish("/c", "numbered", None) == 1
