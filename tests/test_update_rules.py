"""The embedded store refuses what MongoDB 7/8 refuses (core.data.update_rules), so a project test that
would fail on MongoDB fails here too: conflicting update paths (40), ``_id`` (66), unknown or malformed
operators (9/2/14), empty field names (56), documents over 16 MiB (DocumentTooLarge, a 413 envelope
through the HTTP API), ``$where``.

Raw-collection tests take ``db_env`` (tests/db_fixtures.py): with MIA_TEST_MONGO_URL set they run
against that server too and must see the same codes from it.
"""
from __future__ import annotations

import db_fixtures
import pytest
from pymongo import ReturnDocument
from pymongo.errors import DocumentTooLarge, OperationFailure, WriteError

from core import BaseModel
from core.data import update_rules

db_env = db_fixtures.db_env
mia_db = db_fixtures.mia_db

REFUSED = [
    ({"$set": {"a": 1, "a.b": 2}}, 40),
    ({"$set": {"a.b": 1}, "$inc": {"a": 2}}, 40),
    ({"$set": {"n": 1}, "$inc": {"n": 2}}, 40),
    ({"$rename": {"n": "m"}, "$set": {"m": 1}}, 40),
    ({"$push": {"list": 1}, "$pull": {"list": 2}}, 40),
    ({"$set": {"_id": 2}}, 66),
    ({"$unset": {"_id": ""}}, 66),
    ({"$set": {"_id.x": 1}}, 66),
    ({"$foo": {"x": 1}}, 9),
    ({"$set": 5}, 9),
    ({"$pop": {"list": 2}}, 9),
    ({"$inc": {"n": "x"}}, 14),
    ({"$inc": {"n": True}}, 14),
    ({"$rename": {"n": "n"}}, 2),
    ({"$rename": {"n": 3}}, 2),
    ({"$rename": {"a": "a.b"}}, 2),
    ({"$set": {"a..b": 1}}, 56),
    ({"$set": {"": 1}}, 56),
]

ALLOWED = [
    {"$set": {}},  # an empty operand is fine since MongoDB 5.0
    {"$set": {"a.b": 1, "a.c": 2}},
    {"$set": {"_id": 1, "n": 5}},  # the same _id as the filter's is no change
    {"$setOnInsert": {"created": 1}, "$set": {"n": 2}},
    {"$inc": {"n": 1}, "$push": {"list": 3}},
    {"$currentDate": {"when": True}},
]


@pytest.mark.parametrize("update,code", REFUSED)
def test_the_store_refuses_updates_mongodb_refuses(mia_db, update, code):
    things = mia_db.things
    things.insert_one({"_id": 1, "a": {"b": 1}, "n": 1, "list": [1]})
    with pytest.raises(WriteError) as caught:
        things.update_one({"_id": 1}, update)
    assert caught.value.code == code
    with pytest.raises(OperationFailure) as caught:  # the command form raises the command error
        things.find_one_and_update({"_id": 1}, update)
    assert caught.value.code == code
    assert things.find_one({"_id": 1}) == {"_id": 1, "a": {"b": 1}, "n": 1, "list": [1]}  # nothing written


@pytest.mark.parametrize("update", ALLOWED)
def test_the_store_keeps_accepting_what_mongodb_accepts(mia_db, update):
    things = mia_db.things
    things.insert_one({"_id": 1, "a": {"b": 1}, "n": 1, "list": [1]})
    assert things.update_one({"_id": 1}, update).matched_count == 1


def test_a_replacement_may_not_change_the_id(mia_db):
    things = mia_db.things
    things.insert_one({"_id": 1, "n": 1})
    with pytest.raises(WriteError) as caught:
        things.replace_one({"_id": 1}, {"_id": 2, "n": 2})
    assert caught.value.code == 66
    assert things.find_one_and_replace({"_id": 1}, {"_id": 1, "n": 3},
                                       return_document=ReturnDocument.AFTER) == {"_id": 1, "n": 3}


def test_documents_over_16_mib_are_refused(mia_db):
    things = mia_db.things
    big = "x" * (16 * 1024 * 1024)
    with pytest.raises(DocumentTooLarge):
        things.insert_one({"blob": big})
    with pytest.raises(DocumentTooLarge):
        things.insert_many([{"n": 1}, {"blob": big}])
    assert things.count_documents({}) == 0


def test_where_is_refused_by_the_embedded_store():
    with pytest.raises(OperationFailure) as caught:
        update_rules.check_filter({"$or": [{"a": 1}, {"$where": "this.a == 1"}]})
    assert caught.value.code == 2
    update_rules.check_filter({"a": {"$where": 1}})  # a field's value is not a filter operator


class Counter(BaseModel):
    identity = "rules-counter"
    collection_name = "counters"
    data = {"name": {"type": str}, "n": {"type": int}, "tags": {"type": list}}


def test_model_helpers_refuse_the_same_on_every_backend(mia_db):
    doc = Counter.insert_one({"name": "a", "n": 1})
    with pytest.raises(WriteError) as caught:
        Counter.update_one({"_id": doc["_id"]}, {"$set": {"n": 2}, "$inc": {"n": 1}})
    assert caught.value.code == 40
    with pytest.raises(OperationFailure) as caught:
        Counter.find_one_and_update({"_id": doc["_id"]}, {"$unset": {"_id": ""}})
    assert caught.value.code == 66
    with pytest.raises(OperationFailure) as caught:
        Counter.find({"$where": "this.n > 0"})
    assert caught.value.code == 2
    assert Counter.find_one({"_id": doc["_id"]})["n"] == 1


BIG_CONTROLLER = '''
from core import Controller, Shared

class Big(Controller):
    identity = "big"
    def store(self, req, res):
        Shared.db().things.insert_one({"blob": "x" * (17 * 1024 * 1024)})
        res.send({"ok": True})
'''


def test_a_document_too_large_answers_a_json_envelope(tree, db_env):
    tree.env(db_env.settings())
    tree.write("projects/base/controllers/big.py", BIG_CONTROLLER)
    tree.write("projects/base/routes/big.py", "routes = {'prefix': '/b', 'routes': {'./x': {'post': "
               "{'controller': [{'name': 'big', 'function': 'store'}]}}}}")
    response = tree.app().test_client().post("/b/x")
    assert response.status_code == 413
    assert response.json == {"status": 413, "errors": [
        {"code": "DocumentTooLarge", "msg": "The document is larger than the database can store (16 MB)"}]}
