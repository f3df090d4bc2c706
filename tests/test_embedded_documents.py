"""The embedded store keeps documents as BSON (core.data.embedded_documents): what MongoDB keeps it keeps,
what BSON cannot hold is refused as pymongo refuses it, answered with a clear JSON error, nothing stored."""
from __future__ import annotations

import datetime as dt

import bson
import db_fixtures
import mongomock_ng
import pytest
from bson import ObjectId
from bson.errors import InvalidDocument
from bson.int64 import Int64
from db_fixtures import write_things_project
from pymongo.errors import DuplicateKeyError

from core.data.embedded import make_thread_safe
from core.data.embedded_documents import full, outer
from core.data.embedded_snapshot import Snapshot

make_thread_safe()
db_env = db_fixtures.db_env


def collection():
    return mongomock_ng.MongoClient(tz_aware=True)["docs"]["things"]


@pytest.mark.parametrize("body", [{"name": "big", "count": 10**20}, {"name": "small", "count": -(2**63) - 1}])
def test_a_number_past_64_bits_is_a_clear_400_and_nothing_is_stored(tree, db_env, body):
    tree.env(db_env.settings())
    write_things_project(tree)
    client = tree.app().test_client()
    for path in ("/api/things", "/api/raw"):  # through the model, and a controller calling pymongo itself
        reply = client.post(path, json=body)
        assert reply.status_code == 400, reply.json
        assert reply.json["status"] == 400
        assert reply.json["errors"][0]["code"] == "ValueNotStorable"
    assert client.get("/api/things").json == []
    assert client.post("/api/things", json={"name": "ok", "count": 2**63 - 1}).status_code == 201
    assert [t["count"] for t in client.get("/api/things").json] == [2**63 - 1]


def test_what_bson_cannot_hold_is_refused_before_anything_changes():
    things = collection()
    things.insert_one({"_id": 1, "tags": ["a"]})
    with pytest.raises(InvalidDocument):
        things.insert_one({"_id": 2, "tags": {"a", "b"}})  # a set: pymongo refuses it too
    with pytest.raises(InvalidDocument):
        things.update_one({"_id": 1}, {"$set": {"tags": object()}})
    with pytest.raises(OverflowError):
        things.update_one({"_id": 1}, {"$inc": {"n": 2**64}})
    assert list(things.find({})) == [{"_id": 1, "tags": ["a"]}]


def test_a_returned_document_is_a_copy_and_types_come_back_as_from_mongodb():
    things = collection()
    things.insert_one({"_id": 1, "nested": {"list": [1, 2]}, "pair": (1, 2), "big": 2**40,
                       "at": dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)})
    found = things.find_one({"_id": 1})
    found["nested"]["list"].append(3)
    again = things.find_one({"_id": 1})
    assert again["nested"] == {"list": [1, 2]}
    assert again["pair"] == [1, 2]  # a tuple is an array
    assert again["big"] == 2**40 and isinstance(again["big"], Int64)  # as pymongo decodes an int64
    assert again["at"] == dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)  # milliseconds


def test_the_stored_form_is_the_documents_bson_without_a_second_copy_of_an_objectid():
    """What keeps a million documents under 3x their BSON size (bench/embedded.py measures the RSS)."""
    things = collection()
    things.insert_many([{"_id": i, "name": f"thing {i}"} for i in range(50)])
    things.insert_many([{"name": f"other {i}"} for i in range(50)])  # ObjectIds added by the store
    raw = things._store._documents.raw
    assert len(raw) == 100
    for key, kept in raw.items():
        document = things.find_one({"_id": outer(key)})
        assert list(document)[0] == "_id"  # first, as MongoDB keeps it, even when the id was added last
        if type(key) is bytes:  # an ObjectId: its 12 bytes are the key, the rest of the BSON is kept
            assert len(kept) == len(bson.encode(document)) - 21 and full(key, kept) == bson.encode(document)
        else:
            assert kept == bson.encode(document)


@pytest.mark.parametrize("name", ["store.bson", "store.json"])
def test_every_kind_of_id_survives_a_snapshot(tmp_path, name):
    client = mongomock_ng.MongoClient(tz_aware=True)
    things = client["docs"]["things"]
    ids = [ObjectId(), "text", 7, {"a": 1, "b": [2]}, b"twelve bytes", dt.datetime(2026, 1, 1)]
    things.insert_many([{"_id": value, "n": i} for i, value in enumerate(ids)])
    things.insert_one({"n": 99, "_id": ObjectId()})  # an ObjectId that is not the first field
    things.create_index("n", unique=True)
    Snapshot(tmp_path / name).save(client)
    loaded = mongomock_ng.MongoClient(tz_aware=True)
    assert Snapshot(tmp_path / name).load(loaded) == 7
    again = loaded["docs"]["things"]
    assert [d["n"] for d in again.find({}, sort=[("n", 1)])] == [0, 1, 2, 3, 4, 5, 99]
    for i, value in enumerate(ids):
        assert again.find_one({"_id": value})["n"] == i
        assert again.find_one({"n": i})["_id"] == (value.replace(tzinfo=dt.UTC) if i == 5 else value)
    with pytest.raises(DuplicateKeyError):
        again.insert_one({"n": 3})


def test_an_aborted_transaction_restores_the_documents():
    client = mongomock_ng.MongoClient(tz_aware=True)
    things = client["docs"]["things"]
    things.insert_one({"_id": 1, "v": 1})
    assert things.find_one({"_id": 1}) == {"_id": 1, "v": 1}  # kept decoded before the transaction
    with client.start_session() as session:
        session.start_transaction()
        things.update_one({"_id": 1}, {"$set": {"v": 2}}, session=session)
        things.insert_one({"_id": 2, "v": 3}, session=session)
        assert things.find_one({"_id": 1}, session=session) == {"_id": 1, "v": 2}
        session.abort_transaction()
    assert list(things.find({})) == [{"_id": 1, "v": 1}]
    assert things.find_one({"_id": 1}) == {"_id": 1, "v": 1}


def _counting_decodes(monkeypatch) -> list[int]:
    from core.data import embedded_documents

    decoded: list[int] = []
    real = embedded_documents.unpack
    monkeypatch.setattr(embedded_documents, "unpack", lambda *a, **k: decoded.append(1) or real(*a, **k))
    return decoded


def test_a_document_read_again_is_copied_from_the_decoded_one_and_never_shared(monkeypatch):
    """The second read of an unchanged document decodes nothing (counted); every read returns its
    own dicts and lists, so changing one changes neither the store nor the next read."""
    things = collection()
    oid = ObjectId()
    things.insert_one({"_id": oid, "name": "a", "access": {"cidr": ["0.0.0.0/0"], "groups": ["demo"]},
                       "items": [{"sku": "a", "tags": ["x"]}, [1, [2]]], "at": dt.datetime(2026, 1, 2, tzinfo=dt.UTC)})
    decoded = _counting_decodes(monkeypatch)
    first = things.find_one({"_id": oid})
    second = things.find_one({"_id": oid})
    assert len(decoded) <= 1
    assert first == second and first is not second
    assert first["access"] is not second["access"] and first["access"]["cidr"] is not second["access"]["cidr"]
    first["access"]["cidr"].append("10.0.0.0/8")
    first["name"] = "changed"
    first["items"][0]["tags"].append("y")
    first["items"][1][1].append(3)
    third = things.find_one({"_id": oid})
    assert third["access"]["cidr"] == ["0.0.0.0/0"] and third["name"] == "a"
    assert third["items"] == [{"sku": "a", "tags": ["x"]}, [1, [2]]]
    assert third["at"].tzinfo is not None and third["at"].utcoffset() == dt.timedelta(0)
    assert [d["name"] for d in things.find({})] == ["a"] and len(decoded) <= 1


def test_a_write_is_seen_by_the_next_read_of_a_kept_document():
    things = collection()
    things.insert_many([{"_id": i, "n": i, "tags": [i]} for i in range(5)])
    assert things.find_one({"_id": 3})["n"] == 3
    things.update_one({"_id": 3}, {"$set": {"n": 30}, "$push": {"tags": 31}})
    assert things.find_one({"_id": 3}) == {"_id": 3, "n": 30, "tags": [3, 31]}
    things.replace_one({"_id": 3}, {"n": 300})
    assert things.find_one({"_id": 3}) == {"_id": 3, "n": 300}
    things.delete_one({"_id": 3})
    assert things.find_one({"_id": 3}) is None
    things.insert_one({"_id": 3, "n": -3})
    assert things.find_one({"_id": 3}) == {"_id": 3, "n": -3}
    assert [d["n"] for d in things.find({}, sort=[("_id", 1)])] == [0, 1, 2, -3, 4]


def test_a_value_that_can_change_in_place_is_decoded_afresh_each_time(monkeypatch):
    """A Regex or DBRef inside: never kept decoded (a copy could share it), decoded on every read."""
    things = collection()
    things.insert_one({"_id": 1, "pattern": bson.regex.Regex("^a", "i"), "ref": bson.dbref.DBRef("c", 1)})
    decoded = _counting_decodes(monkeypatch)
    one, two = things.find_one({"_id": 1}), things.find_one({"_id": 1})
    assert len(decoded) == 2 and one["pattern"] is not two["pattern"]
    assert one["pattern"].pattern == "^a" and two["ref"].id == 1


def test_the_decoded_documents_kept_are_bounded_per_collection(monkeypatch):
    """A scan of a large collection keeps none of them; point reads keep at most RECENT."""
    from core.data import embedded_documents

    monkeypatch.setattr(embedded_documents, "RECENT", 50)
    things = collection()
    things.insert_many([{"_id": i, "n": i} for i in range(200)])
    documents = things._store._documents
    assert len(list(things.find({}))) == 200 and len(documents.recent) == 0
    for i in range(120):
        assert things.find_one({"_id": i})["n"] == i
    assert 0 < len(documents.recent) <= 50
    things.delete_many({})
    assert documents.recent == {}
