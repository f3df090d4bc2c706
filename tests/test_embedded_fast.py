"""The short read paths of the embedded store (core/data/embedded_fast.py) answer as mongomock does.

Every query runs twice on the same documents: once with the short paths, once with mongomock's own
functions put back, and the answers are compared by ``repr`` (values, key order, container types,
timezones). The documents are the awkward ones: nested dicts and lists, tuples, OrderedDicts,
embedded ``_id`` documents, naive and aware datetimes, mixed types in sorted fields.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import mongomock_ng
import pytest
from bson import Decimal128, ObjectId
from bson.binary import Binary
from pymongo import ReturnDocument

from core.data import embedded_fast
from core.data.embedded import make_thread_safe

make_thread_safe()
T0 = dt.datetime(2024, 1, 2, 3, 4, 5, 678000)


@contextmanager
def mongomock_only() -> Iterator[None]:
    """mongomock's own functions instead of the short paths, for the duration of the block."""
    patches = embedded_fast.targets()
    installed = [owner.__dict__[attribute] for owner, attribute, _key, _fast in patches]  # as wrapped since
    for owner, attribute, key, _fast in patches:
        setattr(owner, attribute, embedded_fast.ORIGINALS[key])
    try:
        yield
    finally:
        for (owner, attribute, _key, _fast), current in zip(patches, installed, strict=True):
            setattr(owner, attribute, current)


def documents() -> list[dict]:
    return [
        {"_id": ObjectId("65a1b2c3d4e5f60718293a4b"), "name": "b", "n": 2, "when": T0, "owner": "x",
         "tags": ["a", {"deep": [T0, {"at": T0}]}], "sub": {"a": 1, "b": {"c": T0, "d": [1, 2]}}},
        {"_id": ObjectId("65a1b2c3d4e5f60718293a4c"), "name": "a", "n": 2.5, "when": T0 + dt.timedelta(days=1),
         "tup": (1, T0), "od": OrderedDict([("z", 1), ("a", T0)]), "bin": Binary(b"\x00\x01", 5),
         "dec": Decimal128(Decimal("1.5")), "uid": Binary.from_uuid(uuid.UUID(int=7)), "raw": b"xy", "none": None,
         "flag": True},
        {"_id": {"embedded": T0, "k": [1]}, "name": "c", "n": "text", "when": None, "sub": {"a": 2}},
        {"_id": 7, "n": [3, 1], "when": dt.datetime(2023, 1, 1, tzinfo=dt.UTC), "name": "A"},
        {"_id": "s", "n": True, "sub": {"b": {"c": "x"}}, "owner": None},
        {"_id": 8.5, "n": {"k": 1}, "name": "é", "when": T0},
        {"_id": ObjectId("65a1b2c3d4e5f60718293a4d"), "n": None, "name": None},
        {"_id": ObjectId("65a1b2c3d4e5f60718293a4e"), "n": [], "name": ["b", "a"]},
        {"_id": ObjectId("65a1b2c3d4e5f60718293a4f"), "n": {"a": 0, "k": 1}, "name": "d", "flag": False},
        {"_id": ObjectId("65a1b2c3d4e5f60718293a50"), "n": 1, "name": "b", "flag": 0},
    ]


@pytest.fixture(params=[True, False], ids=["tz_aware", "naive"])
def coll(request: pytest.FixtureRequest):
    collection = mongomock_ng.MongoClient(tz_aware=request.param)["fast"]["things"]
    collection.insert_many(documents())
    return collection


PROJECTIONS = [None, {}, {"owner": 0}, {"owner": False}, {"name": 1}, {"name": True, "n": 1}, {"name": 1, "_id": 0},
               {"owner": 0, "_id": 0}, {"_id": 0}, {"_id": 1}, {"_id": 0, "name": 1}, {"missing": 1},
               {"missing": 0}, {"sub": 0, "tags": 0}, {"sub.b": 1}, {"sub.b.c": 0}, {"tags": {"$slice": 1}},
               {"alias": "$name"}, ["name", "n"], {"name": 1, "n": 0}, {"name": 2}]
SORTS = [None, [("name", 1)], [("name", -1), ("_id", 1)], [("n", 1)], [("n", -1)], [("when", 1), ("_id", -1)],
         [("sub.a", 1)], [("_id", 1)], [("missing", 1), ("name", 1)], [("flag", -1), ("n", 1)]]


def both(run):
    """``repr`` of ``run()`` with the short paths and with mongomock's own, or the exception types."""
    answers = []
    for fast in (True, False):
        try:
            if fast:
                answers.append(repr(run()))
            else:
                with mongomock_only():
                    answers.append(repr(run()))
        except Exception as err:  # noqa: BLE001 - both paths must fail the same way
            answers.append(f"raised {type(err).__name__}")
    return answers


@pytest.mark.parametrize("projection", PROJECTIONS, ids=repr)
def test_find_with_projections_answers_as_mongomock(coll, projection):
    def run():
        return list(coll.find({}, projection))

    fast, slow = both(run)
    assert fast == slow


@pytest.mark.parametrize("sort", SORTS, ids=repr)
def test_sorted_pages_answer_as_mongomock(coll, sort):
    def run():
        return list(coll.find({"name": {"$exists": True}}, {"owner": 0}, sort=sort, skip=1, limit=5))

    fast, slow = both(run)
    assert fast == slow


@pytest.mark.parametrize("sort", SORTS, ids=repr)
@pytest.mark.parametrize("spec", [None, {}, {"name": "b"}, {"_id": 7}, {"owner": "x"}, {"name": "b", "n": 1}],
                         ids=repr)
def test_plain_queries_taken_straight_from_the_store_answer_as_mongomock(coll, spec, sort):
    """Equality filters, top-level sort keys (mixed types and missing fields too) and flat projections:
    computed without mongomock's cursor machinery (``_direct``), compared with it."""
    coll.create_index("name")  # the equality on name reads its candidates from the index
    for projection in (None, {"owner": 0}, {"name": 1, "_id": 0}, {"n": 1}):
        fast, slow = both(lambda: list(coll.find(spec, projection, sort=sort, skip=1, limit=4)))  # noqa: B023
        assert fast == slow
        fast, slow = both(lambda: list(coll.find(spec, projection, sort=sort)))  # noqa: B023
        assert fast == slow


ONE_SPECS = [None, {}, {"name": "b"}, {"_id": 7}, {"_id": "s"}, {"owner": "x"}, {"name": "zzz"}, {"n": 2},
             {"sub.a": 2}, {"name": {"$exists": True}}, ObjectId("65a1b2c3d4e5f60718293a4c"), 7]


@pytest.mark.parametrize("spec", ONE_SPECS, ids=repr)
def test_find_one_answers_as_mongomock(coll, spec):
    """``find_one`` without a cursor for plain shapes (positional or keyword projection, a sort), and
    mongomock's for the rest (an id given bare, operators, skip): the same answers."""
    coll.create_index("name")
    calls = [lambda: coll.find_one(spec), lambda: coll.find_one(spec, {"owner": 0}),
             lambda: coll.find_one(spec, projection={"name": 1, "_id": 0}),
             lambda: coll.find_one(spec, sort=[("name", -1), ("_id", 1)]),
             lambda: coll.find_one(spec, {"n": 1}, sort=[("n", 1)]),
             lambda: coll.find_one(spec, None, 2), lambda: coll.find_one(spec, skip=1, sort=[("_id", -1)]),
             lambda: coll.find_one(spec, {"name": 1, "n": 0})]
    for call in calls:
        fast, slow = both(call)
        assert fast == slow


@pytest.mark.parametrize("sort", SORTS, ids=repr)
@pytest.mark.parametrize("spec", [None, {}, {"name": "b"}, {"_id": 7}, {"n": 2}, {"name": {"$gt": "a"}}], ids=repr)
def test_find_plain_lists_what_a_sorted_cursor_lists(coll, spec, sort):
    """``find_plain`` (the models' reads) against ``list(find(...).sort(...))`` through mongomock: the
    same page for every skip and limit, or None for a shape it leaves to mongomock."""
    for projection in (None, {"owner": 0}, {"name": 1, "_id": 0}):
        for skip, limit in ((0, 0), (0, 1), (1, 3), (2, 0), (20, 5)):
            def cursor(spec=spec, projection=projection, skip=skip, limit=limit):
                found = coll.find(spec, projection, skip=skip, limit=limit)
                return list(found.sort(sort) if sort else found)

            with mongomock_only():
                slow = repr(cursor())
            plain = embedded_fast.find_plain(coll, spec, projection, sort, skip, limit)
            shape_plain = type(spec) is not dict or all(not isinstance(v, dict) for v in spec.values())
            if plain is None:
                assert not shape_plain or (sort and any("." in k for k, _ in sort))
                continue
            assert repr(plain) == slow


def test_find_one_and_an_unsorted_page_decode_only_what_they_return(coll, monkeypatch):
    """Without a sort, a plain read stops at the last document it returns (mongomock decodes every
    match first): counted in documents decoded, on 2,000 documents."""
    from core.data import embedded_documents

    coll.insert_many([{"kind": "bulk", "i": i} for i in range(2000)])
    decoded = []
    real = embedded_documents.unpack
    monkeypatch.setattr(embedded_documents, "unpack", lambda *a, **k: decoded.append(1) or real(*a, **k))
    assert coll.find_one({"kind": "bulk"})["i"] == 0
    assert len(decoded) <= 11  # the ten documents before the first bulk one, and that one
    decoded.clear()
    assert [d["i"] for d in embedded_fast.find_plain(coll, {"kind": "bulk"}, None, None, 5, 3)] == [5, 6, 7]
    assert len(decoded) <= 18
    decoded.clear()
    assert len(embedded_fast.find_plain(coll, {"kind": "bulk"}, None, [("i", -1)], 0, 3)) == 3
    assert len(decoded) >= 2000  # a sort needs them all


def test_mixed_types_sort_in_bson_order(coll):
    """Numbers before strings before documents before arrays before booleans before dates: BSON's order."""
    fast, slow = both(lambda: [d["_id"] for d in coll.find({}, {"_id": 1}, sort=[("n", 1), ("_id", 1)])])
    assert fast == slow


def test_find_one_aggregate_and_find_and_modify_answer_as_mongomock(coll):
    assert len(set(both(lambda: coll.find_one({"sub.a": 2}, {"sub": 0})))) == 1
    assert len(set(both(lambda: coll.find_one({"name": "zzz"})))) == 1
    pipeline = [{"$match": {"name": {"$type": "string"}}}, {"$sort": {"name": -1}}, {"$project": {"owner": 0}}]
    assert len(set(both(lambda: list(coll.aggregate(pipeline))))) == 1
    assert len(set(both(lambda: coll.find_one_and_update({"name": "b"}, {"$set": {"hits": 1}}, projection={"owner": 0},
                                                         return_document=ReturnDocument.AFTER)))) == 1


def test_returned_documents_are_copies(coll):
    """Changing what a read returned never changes the store."""
    for projection in (None, {"owner": 0}, {"sub": 1, "tags": 1}):
        doc = coll.find_one({"name": "b"}, projection)
        doc["sub"]["b"]["d"].append(99)
        doc["tags"][1]["deep"].append("x")
        doc["sub"]["a"] = 100
    again = coll.find_one({"name": "b"})
    assert again["sub"] == {"a": 1, "b": {"c": again["sub"]["b"]["c"], "d": [1, 2]}}
    assert again["tags"][1]["deep"][1:] == [{"at": again["tags"][1]["deep"][1]["at"]}]


def test_the_projection_given_is_left_as_it_was(coll):
    projection = {"owner": 0}
    list(coll.find({}, projection))
    assert projection == {"owner": 0}


def test_aware_datetimes_are_utc_and_naive_stay_naive():
    aware = mongomock_ng.MongoClient(tz_aware=True)["fast"]["dates"]
    naive = mongomock_ng.MongoClient()["fast"]["dates"]
    for collection in (aware, naive):
        collection.insert_one({"_id": 1, "at": T0, "list": [T0], "doc": {"at": T0}})
    got = aware.find_one({}, {"doc": 0})
    assert got["at"].utcoffset() == dt.timedelta(0) and got["list"][0].tzinfo is got["at"].tzinfo
    assert naive.find_one({}, {"doc": 0})["at"].tzinfo is None


def test_install_is_idempotent_and_keeps_the_originals():
    before = dict(embedded_fast.ORIGINALS)
    embedded_fast.install()
    assert embedded_fast.ORIGINALS == before
    for owner, attribute, key, fast in embedded_fast.targets():
        installed = owner.__dict__[attribute]  # find_one: maybe inside core.data.update_rules' check
        assert getattr(installed, "__wrapped__", installed) is fast and embedded_fast.ORIGINALS[key] is not fast


FILTERS = [{}, {"name": "b"}, {"name": "a"}, {"name": "zz"}, {"sub.a": 2}, {"sub.b.c": "x"}, {"sub.b": "x"},
           {"n": 2}, {"n": 1}, {"n": 3}, {"_id": ObjectId("65a1b2c3d4e5f60718293a4c")}, {"_id": 7}, {"_id": "s"},
           {"_id.k": 1}, {"missing.deep": "x"}, {"name": "b", "n": 2}, {"name": "b", "n": 1}, {"n": 2, "name": "b"},
           {"a.": "x"}, {"n.0": 3}, {"sub.0": 1}, {"tags.deep.at": "x"}, {"owner": "x"}, {"owner": None},
           {"name": None}, {"flag": 0}, {"flag": 1}, {"n": True}, {"when": T0}, {"name": {"$in": ["a", "b"]}},
           {"$or": [{"name": "a"}, {"n": 2}]}, {"$foo": 1}, {"name": {"$bad": 1}}]


@pytest.mark.parametrize("query", FILTERS, ids=repr)
def test_filters_match_as_mongomock(coll, query):
    fast, slow = both(lambda: [d["_id"] for d in coll.find(query, {"_id": 1})])
    assert fast == slow


@pytest.mark.parametrize("query", [{"$foo": 1}, {"name": {"$bad": 1}}, {"name": "x"}], ids=repr)
def test_filters_on_an_empty_collection_answer_as_mongomock(query):
    empty = mongomock_ng.MongoClient()["fast"]["empty"]
    fast, slow = both(lambda: list(empty.find(query)))
    assert fast == slow


def test_the_query_profiler_still_records_when_it_is_on(coll):
    from mongomock_ng.profiler import get_profiler

    profiler = get_profiler()
    profiler.start()
    try:
        assert [d["name"] for d in coll.find({"name": "b"}, {"name": 1})] == ["b", ["b", "a"], "b"]
        assert len(profiler.records) == 1
    finally:
        profiler.stop()
        profiler.reset()


def test_cursor_operations_answer_as_mongomock(coll):
    def run():
        cursor = coll.find({}, {"owner": 0}, sort=[("_id", 1)])
        first, third = next(cursor), cursor[2]
        rest = list(cursor)
        cursor.rewind()
        again = list(cursor.clone())
        return first, third, rest, again, cursor.alive, coll.find({"n": 2}).distinct("when"), \
            list(coll.find({"nothing": "here"})), list(coll.find({}).skip(2).limit(2))

    fast, slow = both(run)
    assert fast == slow


def test_only_the_filling_cursors_collection_gets_aware_copies(coll):
    """A copy asked for by another collection (or another container) while a cursor fills is mongomock's plain copy."""
    other = mongomock_ng.MongoClient()["fast"]["other"]
    stored = {"_id": 1, "at": T0, "sub": {"at": T0}}
    embedded_fast._filling.aware = embedded_fast._AwareCopies(coll)
    try:
        assert embedded_fast.copy_only_fields(other, stored, None, dict)["sub"]["at"].tzinfo is None
        assert embedded_fast.copy_only_fields(other, stored, {"x": 0}, dict)["at"].tzinfo is None
        assert embedded_fast.copy_only_fields(coll, stored, {"x": 0}, OrderedDict)["at"].tzinfo is None
        assert embedded_fast.copy_only_fields(coll, stored, {"x": 0}, dict)["at"].tzinfo is not None
    finally:
        embedded_fast._filling.aware = None
