"""Index structures of the embedded store (core/data/embedded_index.py, issue 24, and issue 21's multikey finding).

Work is counted, never timed: a collection whose document dict counts full passes over it shows that
inserts and finds by an indexed field touch no other document at 1,000 and at 20,000 documents. The
answers are compared with mongomock's scan, and unique indexes refuse what MongoDB refuses.
"""
from __future__ import annotations

import random

import mongomock_ng
import pytest
from bson import ObjectId
from mongomock_ng import WriteError
from pymongo.errors import DuplicateKeyError, OperationFailure

from core.data import embedded_index
from core.data.databases import Databases
from core.data.embedded import make_thread_safe
from core.data.embedded_documents import Documents
from core.errors import StartupError

make_thread_safe()


class CountingDocuments(Documents):
    """A store's documents (BSON bytes, as every store keeps them) counting every pass over all of them."""

    passes = 0

    def values(self):
        CountingDocuments.passes += 1
        return super().values()

    def items(self):
        CountingDocuments.passes += 1
        return super().items()

    def __iter__(self):
        CountingDocuments.passes += 1
        return super().__iter__()


def devices(size: int):
    collection = mongomock_ng.MongoClient(tz_aware=True)["idx"][f"devices{size}"]
    collection.create_index("id", unique=True)
    collection.create_index("access.key", unique=True)
    collection.create_index([("owner", 1), ("name", 1)], unique=True)
    collection.insert_many([{"id": f"d{i}", "access": {"key": f"k{i}"}, "owner": i % 7, "name": f"n{i}"}
                            for i in range(size)])
    store = collection._store
    assert type(store._documents) is Documents
    counting = CountingDocuments()
    counting.raw = store._documents.raw
    store._documents = counting
    return collection


@pytest.mark.parametrize("size", [1_000, 20_000])
def test_inserts_and_indexed_finds_pass_over_no_document(size):
    collection = devices(size)
    collection.find_one({"id": "d0"})  # the structures are built once for the new document dict
    CountingDocuments.passes, builds = 0, embedded_index.builds()
    for i in range(100):
        collection.insert_one({"id": f"x{i}", "access": {"key": f"y{i}"}, "owner": -1, "name": f"x{i}"})
        assert collection.find_one({"access.key": f"k{i * 7}"})["id"] == f"d{i * 7}"
        assert collection.find_one({"_id": collection.find_one({"id": f"x{i}"})["_id"]})["name"] == f"x{i}"
        collection.update_one({"id": f"x{i}"}, {"$set": {"name": f"renamed{i}"}})
        assert collection.count_documents({"id": f"d{i}"}) == 1
    with pytest.raises(DuplicateKeyError):
        collection.insert_one({"id": "d5", "access": {"key": "new"}})
    collection.delete_one({"id": "x0"})
    assert CountingDocuments.passes == 0 and embedded_index.builds() == builds
    assert collection.count_documents({}) == size + 99


def test_duplicates_are_refused_on_insert_update_and_upsert_and_freed_values_are_reusable():
    things = mongomock_ng.MongoClient(tz_aware=True)["idx"]["things"]
    things.create_index("name", unique=True)
    things.insert_many([{"_id": 1, "name": "lamp"}, {"_id": 2, "name": "desk"}])
    with pytest.raises(DuplicateKeyError) as caught:
        things.insert_one({"name": "lamp"})
    assert caught.value.details["keyPattern"] == {"name": 1}
    with pytest.raises(DuplicateKeyError):
        things.update_one({"_id": 2}, {"$set": {"name": "lamp"}})
    assert things.find_one({"_id": 2})["name"] == "desk"  # the refused update left it as it was
    with pytest.raises(DuplicateKeyError):
        things.update_one({"name": "chair"}, {"$set": {"name": "lamp"}}, upsert=True)
    things.update_one({"_id": 1}, {"$set": {"name": "sofa"}})
    things.insert_one({"_id": 3, "name": "lamp"})  # freed by the update
    things.delete_one({"_id": 3})
    things.insert_one({"_id": 4, "name": "lamp"})  # freed by the delete
    assert things.find_one({"name": "lamp"})["_id"] == 4 and things.count_documents({"name": "sofa"}) == 1
    things.insert_one({"_id": 5})
    with pytest.raises(DuplicateKeyError):  # two missing fields are both null under a non-sparse index
        things.insert_one({"_id": 6})


def test_unique_array_fields_are_multikey_as_on_mongodb():
    users = mongomock_ng.MongoClient(tz_aware=True)["idx"]["users"]
    users.create_index("emails", unique=True)
    users.insert_one({"_id": 1, "emails": ["a@x", "a@x", "b@x"]})  # one document may repeat a value
    with pytest.raises(DuplicateKeyError):
        users.insert_one({"_id": 2, "emails": ["c@x", "b@x"]})  # two documents cannot share one
    with pytest.raises(DuplicateKeyError):
        users.insert_one({"_id": 3, "emails": "a@x"})  # a plain value equal to an element
    users.insert_one({"_id": 4, "emails": []})
    with pytest.raises(DuplicateKeyError):
        users.insert_one({"_id": 5, "emails": []})  # an empty array is one key (undefined)
    users.update_one({"_id": 1}, {"$pull": {"emails": "b@x"}})
    users.insert_one({"_id": 6, "emails": ["b@x"]})
    assert sorted(d["_id"] for d in users.find({"emails": "a@x"})) == [1]


def test_a_unique_index_on_existing_documents_follows_the_multikey_rules():
    client = mongomock_ng.MongoClient(tz_aware=True)
    repeated = client["idx"]["repeated"]
    repeated.insert_many([{"tags": ["a", "a"]}, {"tags": ["b"]}])
    assert repeated.create_index("tags", unique=True) == "tags_1"
    assert repeated.create_index("tags", unique=True) == "tags_1"  # again: nothing to do
    shared = client["idx"]["shared"]
    shared.insert_many([{"tags": ["a", "b"]}, {"tags": ["c", "b"]}])
    with pytest.raises(DuplicateKeyError):
        shared.create_index("tags", unique=True)
    assert "tags_1" not in shared.index_information()
    with pytest.raises(OperationFailure):
        repeated.create_index("tags", unique=True, sparse=True)  # same name, other options


def test_sparse_partial_and_parallel_arrays():
    coll = mongomock_ng.MongoClient(tz_aware=True)["idx"]["mixed"]
    coll.create_index("phone", unique=True, sparse=True)
    coll.create_index("login", unique=True, partialFilterExpression={"status": "active"})
    coll.create_index([("a", 1), ("b", 1)])
    coll.insert_many([{"_id": 1}, {"_id": 2}, {"_id": 3, "login": "x", "status": "deleted"},
                      {"_id": 4, "login": "x", "status": "active"}])
    with pytest.raises(DuplicateKeyError):
        coll.insert_one({"login": "x", "status": "active"})
    with pytest.raises(WriteError) as caught:
        coll.insert_one({"_id": 9, "a": [1, 2], "b": [3, 4]})
    assert caught.value.code == 171 and coll.find_one({"_id": 9}) is None
    coll.insert_one({"_id": 10, "a": [1, 2], "b": 3})
    with pytest.raises(WriteError):
        coll.update_one({"_id": 10}, {"$set": {"b": [3, 4]}})
    assert coll.find_one({"_id": 10})["b"] == 3
    assert [d["_id"] for d in coll.find({"login": "x"})] == [3, 4]  # a partial index is not used to find


def test_numbers_are_one_key_as_on_mongodb_and_booleans_are_not_numbers():
    coll = mongomock_ng.MongoClient(tz_aware=True)["idx"]["numbers"]
    coll.create_index("n", unique=True)
    coll.insert_one({"n": 1})
    with pytest.raises(DuplicateKeyError):
        coll.insert_one({"n": 1.0})
    coll.insert_one({"n": True})  # accepted: true is not 1 in an index (mongomock's filters still match it)


def test_indexed_finds_answer_as_the_scan():
    """Random documents, random equality filters: the same documents with the index as without."""
    rng = random.Random(24)
    values = ["a", "b", "c", 1, 2, 2.0, True, None, ObjectId("65a1b2c3d4e5f60718293a4b")]

    def document(i):
        doc = {"_id": i, "k": rng.choice(values), "sub": {"k": rng.choice(values)}}
        if rng.random() < 0.3:
            doc["k"] = [rng.choice(values), rng.choice(values)]
        if rng.random() < 0.2:
            doc["sub"] = [{"k": rng.choice(values)}, {"k": rng.choice(values)}]
        if rng.random() < 0.1:
            del doc["k"]
        return doc

    docs = [document(i) for i in range(300)]
    plain = mongomock_ng.MongoClient()["idx"]["plain"]
    indexed = mongomock_ng.MongoClient()["idx"]["indexed"]
    indexed.create_index("k")
    indexed.create_index("sub.k")
    for coll in (plain, indexed):
        coll.insert_many([dict(d) for d in docs])
        coll.update_many({"_id": {"$lt": 40}}, {"$set": {"k": "b"}})
        coll.delete_many({"_id": {"$gt": 280}})
    for field in ("k", "sub.k", "_id"):
        for value in ["a", "b", "c", 1, 2, 7, ObjectId("65a1b2c3d4e5f60718293a4b")]:
            got = sorted(d["_id"] for d in indexed.find({field: value}))
            assert got == sorted(d["_id"] for d in plain.find({field: value})), (field, value)


def snapshot_env(path) -> dict:
    return {"defaultMongoDatabase": "mia", "mongoDatabases": {"mia": {"url": None}}, "embedded": {"path": str(path)}}


@pytest.mark.parametrize("suffix", [".bson", ".json"])
def test_start_up_load_refuses_a_shared_element_and_accepts_a_repeated_one(tmp_path, suffix):
    path = tmp_path / f"store{suffix}"
    first = Databases(snapshot_env(path))
    users = first.database()["users"]
    users.insert_many([{"_id": 1, "emails": ["a@x", "a@x"]}, {"_id": 2, "emails": ["b@x"]}])
    users.create_index("emails", unique=True)
    first.close_all()
    second = Databases(snapshot_env(path))
    assert second.database()["users"].count_documents({"emails": "a@x"}) == 1
    second.database()["users"].drop_index("emails_1")
    second.database()["users"].update_one({"_id": 2}, {"$push": {"emails": "a@x"}})
    second.close_all()
    # The index back in the file by hand, as an old version (or a hand edit) could have left it.
    client = mongomock_ng.MongoClient(tz_aware=True)
    from core.data.embedded_snapshot import Snapshot

    snapshot = Snapshot(path)
    snapshot.load(client)
    client["mia"]["users"]._store.indexes["emails_1"] = {"key": [("emails", 1)], "unique": True}
    snapshot.save(client)
    with pytest.raises(StartupError, match="emails_1.*share the key 'a@x'"):
        Databases(snapshot_env(path)).database()


def test_fields_under_one_shared_array_are_paired_per_element_not_parallel():
    """The generic user model's unique (accessTokens.appId, accessTokens.device.id): one array, keys per element."""
    users = mongomock_ng.MongoClient(tz_aware=True)["idx"]["users"]
    users.create_index([("accessTokens.appId", 1), ("accessTokens.device.id", 1)], unique=True, sparse=True)
    users.insert_one({"_id": "a", "accessTokens": [{"appId": "x", "device": {"id": "d1"}},
                                                   {"appId": "y", "device": {"id": "d2"}}]})
    users.insert_one({"_id": "b", "accessTokens": [{"appId": "x", "device": {"id": "d2"}}]})  # (x, d2) is new
    users.insert_many([{"_id": "c", "accessTokens": []}, {"_id": "d", "accessTokens": []}, {"_id": "e"}])
    with pytest.raises(DuplicateKeyError):
        users.insert_one({"_id": "f", "accessTokens": [{"appId": "y", "device": {"id": "d2"}}]})
    users.update_one({"_id": "a"}, {"$pull": {"accessTokens": {"appId": "y"}}})
    users.insert_one({"_id": "f", "accessTokens": [{"appId": "y", "device": {"id": "d2"}}]})
    with pytest.raises(WriteError) as caught:
        users.insert_one({"_id": "g", "accessTokens": [{"appId": [1, 2], "device": [{"id": 1}, {"id": 2}]}]})
    assert caught.value.code == 171
