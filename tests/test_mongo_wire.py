"""The test-only MongoDB wire endpoint (tests/mongo_wire.py) answers pymongo as MongoDB does: what the
production-shape tests rely on. Each test runs against a real MongoDB instead when MIA_TEST_MONGO_URL is
set, so the two can be compared."""
from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pymongo
import pytest
from mongo_fixtures import TEST_URL
from pymongo import IndexModel, ReturnDocument
from pymongo.errors import BulkWriteError, CursorNotFound, DuplicateKeyError, OperationFailure

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def db(shared_db):
    client = pymongo.MongoClient(shared_db.url, serverSelectionTimeoutMS=5000, tz_aware=True)
    yield client[shared_db.name]
    client.close()


def test_handshake_presents_a_standalone_server_pymongo_accepts(db):
    hello = db.client.admin.command("hello")
    assert hello["isWritablePrimary"] is True
    if not TEST_URL:  # the endpoint is a standalone: the project polls for broadcasts, no change streams
        assert "setName" not in hello and hello.get("msg") != "isdbgrid"
    assert 9 <= hello["maxWireVersion"] <= 29  # pymongo 4.20: MIN/MAX_SUPPORTED_WIRE_VERSION
    assert db.command("ping")["ok"] == 1.0
    assert int(db.client.server_info()["version"].split(".")[0]) >= 7


def test_documents_round_trip_with_types_and_cursors_page(db):
    moment = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    db.items.insert_many([{"n": n, "at": moment, "tags": ["a", str(n)], "blob": bytes([n])} for n in range(250)])
    assert db.items.count_documents({}) == 250 and db.items.count_documents({"n": {"$gte": 200}}) == 50
    assert db.items.estimated_document_count() == 250
    docs = list(db.items.find({}, {"_id": 0}).sort("n", -1).batch_size(40))  # getMore after each 40
    assert [d["n"] for d in docs] == list(range(249, -1, -1))
    assert docs[0]["at"] == moment and docs[0]["blob"] == bytes([249]) and docs[0]["tags"] == ["a", "249"]
    cursor = db.items.find({}).batch_size(10)
    next(cursor)
    cursor.close()  # killCursors
    assert sorted(db.items.distinct("tags", {"n": {"$lt": 2}})) == ["0", "1", "a"]
    grouped = list(db.items.aggregate([{"$match": {"n": {"$lt": 10}}}, {"$group": {"_id": {"$mod": ["$n", 2]},
                                                                                     "c": {"$sum": 1}}},
                                       {"$sort": {"_id": 1}}]))
    assert grouped == [{"_id": 0, "c": 5}, {"_id": 1, "c": 5}]


def test_a_dead_cursor_is_cursor_not_found(db):
    db.items.insert_many([{"n": n} for n in range(30)])
    reply = db.command("find", "items", batchSize=5)
    db.command("killCursors", "items", cursors=[reply["cursor"]["id"]])
    with pytest.raises(CursorNotFound):
        db.command("getMore", reply["cursor"]["id"], collection="items")


def test_writes_answer_counts_upserts_and_array_filters(db):
    assert db.c.update_one({"k": 1}, {"$set": {"v": 1}}, upsert=True).upserted_id is not None
    assert db.c.update_many({}, {"$inc": {"v": 1}}).modified_count == 1
    db.c.update_one({"k": 1}, {"$set": {"arr": [{"a": 1, "x": 0}, {"a": 2, "x": 0}]}})
    db.c.update_one({"k": 1}, {"$inc": {"arr.$[e].x": 5}}, array_filters=[{"e.a": 2}])
    assert db.c.find_one({"k": 1})["arr"] == [{"a": 1, "x": 0}, {"a": 2, "x": 5}]
    assert db.c.replace_one({"k": 2}, {"k": 2, "r": True}, upsert=True).upserted_id is not None
    after = db.c.find_one_and_update({"k": 3}, {"$set": {"n": 1}}, upsert=True, return_document=ReturnDocument.AFTER)
    assert after["n"] == 1
    before = db.c.find_one_and_update({"k": 3}, {"$inc": {"n": 1}})
    assert before["n"] == 1 and db.c.find_one({"k": 3})["n"] == 2
    assert db.c.find_one_and_delete({"k": 3})["n"] == 2 and db.c.count_documents({}) == 2
    assert db.c.delete_many({}).deleted_count == 2


def test_duplicates_raise_what_pymongo_raises_against_mongodb(db):
    db.u.create_index("email", unique=True)
    db.u.insert_one({"email": "a@example.com"})
    with pytest.raises(DuplicateKeyError) as caught:
        db.u.insert_one({"email": "a@example.com"})
    assert caught.value.details["keyPattern"] == {"email": 1}
    assert "E11000 duplicate key error" in caught.value.details["errmsg"]
    with pytest.raises(BulkWriteError) as bulk:
        db.u.insert_many([{"email": "b@example.com"}, {"email": "a@example.com"}, {"email": "c@example.com"}],
                         ordered=False)
    assert bulk.value.details["nInserted"] == 2 and [e["code"] for e in bulk.value.details["writeErrors"]] == [11000]
    with pytest.raises(DuplicateKeyError):
        db.u.find_one_and_update({"email": "b@example.com"}, {"$set": {"email": "a@example.com"}})


def test_index_lifecycle_answers_mongodb_conflicts(db):
    db.t.create_index("created", expireAfterSeconds=60)
    with pytest.raises(OperationFailure) as caught:
        db.t.create_index("created", expireAfterSeconds=30)  # error 85 on MongoDB
    assert caught.value.code == 85
    changed = db.command("collMod", "t", index={"keyPattern": {"created": 1}, "expireAfterSeconds": 30})
    assert (changed["expireAfterSeconds_old"], changed["expireAfterSeconds_new"]) == (60, 30)
    assert db.t.index_information()["created_1"]["expireAfterSeconds"] == 30
    with pytest.raises(OperationFailure) as caught:
        db.t.create_index([("other", 1)], name="created_1")
    assert caught.value.code == 86
    with pytest.raises(OperationFailure) as caught:
        db.t.create_indexes([IndexModel("x")], commitQuorum="majority")  # a standalone refuses it
    assert caught.value.code == 2
    db.t.create_index([("body", "text")], name="body_text")
    listed = {i["name"]: i for i in db.t.list_indexes()}
    assert dict(listed["body_text"]["key"]) == {"_fts": "text", "_ftsx": 1} and listed["body_text"]["weights"] == {
        "body": 1}
    db.t.drop_index("created_1")
    with pytest.raises(OperationFailure) as caught:
        db.t.drop_index("created_1")
    assert caught.value.code == 27
    db.v.insert_many([{"f": 1}, {"f": 1}])
    db.v.create_index("f")
    with pytest.raises(OperationFailure):
        db.command("collMod", "v", index={"name": "f_1", "unique": True})  # prepareUnique first
    db.command("collMod", "v", index={"name": "f_1", "prepareUnique": True})
    with pytest.raises(OperationFailure) as caught:
        db.command("collMod", "v", index={"name": "f_1", "unique": True})
    assert caught.value.code == 359  # CannotConvertIndexToUnique: the duplicates stay visible


def test_an_unknown_command_is_command_not_found(db):
    with pytest.raises(OperationFailure) as caught:
        db.command("noSuchCommand")
    assert caught.value.code == 59


INCREMENT = '''
import sys, threading, pymongo
client = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=5000)
counter = client[sys.argv[2]]["counter"]
def work():
    for _ in range(50):
        counter.find_one_and_update({"_id": "n"}, {"$inc": {"n": 1}}, upsert=True)
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
'''


def test_each_command_is_atomic_across_processes(db, shared_db):
    procs = [subprocess.Popen([sys.executable, "-c", INCREMENT, shared_db.url, shared_db.name]) for _ in range(2)]
    assert [p.wait(120) for p in procs] == [0, 0]
    assert db.counter.find_one({"_id": "n"})["n"] == 2 * 4 * 50
