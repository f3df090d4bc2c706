"""BaseModel: every rule through validate(), update documents, validated CRUD, duplicates as 409.

Database tests use the ``db_env``/``mia_db`` fixtures of tests/db_fixtures.py: the embedded store
always, and a real MongoDB as well when MIA_TEST_MONGO_URL is set (the parameter is not generated
otherwise, so nothing is skipped). Each test has its own database, dropped afterwards.
"""
from __future__ import annotations

import threading
from datetime import UTC, datetime

import db_fixtures
import pytest

from core import BaseModel, MiaError, ValidationError
from core.data.indexes import ensure_indexes

db_env = db_fixtures.db_env
mia_db = db_fixtures.mia_db  # fixtures: one database per test and backend


def size_rules(value):
    """``extend``: numbers are sizes in cm, strings are size names."""
    return {"type": int, "max": 3} if isinstance(value, int) else {"type": str, "allow": ["s", "m", "l"]}


def label_virtual(value):
    return {"this": value.strip(), "slug": value.strip().lower().replace(" ", "-")}


class IceCream(BaseModel):
    """A model that uses every rule of the manual at least once."""

    identity = "test-icecream-model"
    collection_name = "icecreams"
    data = {
        "_id": {},
        "flavour": {"type": str, "required": True, "unique": True, "minLength": 2, "maxLength": 12,
                    "convert": "lower", "match": r"^[a-zA-Z ]+$"},
        "serveIn": {"type": str, "allow": ["cup", "cone"], "default": "cone"},
        "topping": {"type": str, "deny": ["ketchup"]},
        "scoops": {"type": int, "min": 1, "max": 5, "default": 1},
        "price": {"type": float, "min": 0.5},
        "tags": {"type": list, "subType": int},
        "created": {"type": datetime, "index": True, "default": lambda: datetime.now(UTC)},
        "note": {"type": str, "nullable": True},
        "secret": {"type": str, "public": {"set": True, "get": False}},
        "hidden": {"type": str, "public": False},
        "serverOnly": {"type": str, "public": {"set": False, "get": True}, "default": "server"},
        "label": {"type": str, "virtual": label_virtual},
        "slug": {"type": str},
        "shop": {"name": {"type": str, "required": True}, "city": {"type": str, "index": True},
                 "size": {"extend": size_rules}, "pin": {"type": str, "public": {"get": False, "set": True}}},
        "reviews": [{"stars": {"type": int, "min": 1, "max": 5, "required": True},
                     "text": {"type": str, "maxLength": 20}, "author": {"type": str, "public": False}}],
        "extra": {"extend": size_rules},
    }


GOOD = {"flavour": "Vanilla", "shop": {"name": "Corner"}}
ABSENT = object()


def check(values):
    """validate() with GOOD as the base (ABSENT removes a key); returns the output or the list of (code, id)."""
    merged = {k: v for k, v in {**GOOD, **values}.items() if v is not ABSENT}
    try:
        return IceCream.validate(merged)
    except ValidationError as err:
        return [(e["code"], e["id"]) for e in err.errors]


# rule, good input -> expected output fragment, bad input -> expected (code, id)
RULE_CASES = [
    ("type", {"scoops": "3"}, {"scoops": 3}, {"scoops": "three"}, ("UnexpectedType", "scoops")),
    ("subType", {"tags": [1, "2"]}, {"tags": [1, 2]}, {"tags": [1, "x"]}, ("UnexpectedType", "tags[2]")),
    ("maxLength", {"flavour": "Strawberry"}, {"flavour": "strawberry"}, {"flavour": "Chocolate Chip"},
     ("MaxLengthExceeded", "flavour")),
    ("minLength", {"flavour": "Ab"}, {"flavour": "ab"}, {"flavour": "A"}, ("MinLengthUnderachieved", "flavour")),
    ("required", {"flavour": "Mint"}, {"flavour": "mint"}, {"flavour": ABSENT},
     ("MissingRequiredParameter", "flavour")),
    ("required nested", {"shop": {"name": "B"}}, {"shop": {"name": "B"}}, {"shop": {"city": "Bonn"}},
     ("MissingRequiredParameter", "shop.name")),
    ("convert", {"flavour": "MANGO"}, {"flavour": "mango"}, {"flavour": "MANGO1"}, ("PatternMismatch", "flavour")),
    ("match", {"flavour": "Rum Raisin"}, {"flavour": "rum raisin"}, {"flavour": "R2D2"},
     ("PatternMismatch", "flavour")),
    ("default value", {}, {"serveIn": "cone", "scoops": 1}, {"serveIn": "plate"}, ("ValueNotAllowed", "serveIn")),
    ("nullable", {"note": None}, {"note": None}, {"flavour": None}, ("UnexpectedType", "flavour")),
    ("max", {"scoops": 5}, {"scoops": 5}, {"scoops": 6}, ("MaxValueExceeded", "scoops")),
    ("min", {"price": 0.5}, {"price": 0.5}, {"price": 0.4}, ("MinValueUnderachived", "price")),
    ("allow", {"serveIn": "CUP"}, {"serveIn": "CUP"}, {"serveIn": "bowl"}, ("ValueNotAllowed", "serveIn")),
    ("deny", {"topping": "nuts"}, {"topping": "nuts"}, {"topping": "Ketchup"}, ("ValueNotAllowed", "topping")),
    ("extend", {"extra": 2}, {"extra": 2}, {"extra": 4}, ("MaxValueExceeded", "extra")),
    ("extend by value", {"extra": "m"}, {"extra": "m"}, {"extra": "xl"}, ("ValueNotAllowed", "extra")),
    ("extend nested", {"shop": {"name": "C", "size": "l"}}, {"shop": {"name": "C", "size": "l"}},
     {"shop": {"name": "C", "size": 9}}, ("MaxValueExceeded", "shop.size")),
    ("array of documents", {"reviews": [{"stars": "4", "text": "yum"}]}, {"reviews": [{"stars": 4, "text": "yum"}]},
     {"reviews": [{"stars": 4}, {"text": "meh"}]}, ("MissingRequiredParameter", "stars")),
    ("date type", {"created": "2024-05-01T10:00:00Z"}, {"created": datetime(2024, 5, 1, 10, tzinfo=UTC)},
     {"created": "not a date"}, ("UnexpectedType", "created")),
]


@pytest.mark.parametrize("rule,good,expected,bad,error", RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_every_rule_accepts_good_and_rejects_bad_values(rule, good, expected, bad, error):
    out = check(good)
    assert isinstance(out, dict), out
    for key, value in expected.items():
        assert out[key] == value
    assert error in check(bad)


def test_default_callable_is_evaluated_per_validation():
    first, second = check({})["created"], check({})["created"]
    assert isinstance(first, datetime) and first.tzinfo is not None
    assert second >= first


def test_virtual_sets_its_own_value_and_derived_fields():
    out = check({"label": "  Big One "})
    assert out["label"] == "Big One" and out["slug"] == "big-one"
    assert check({"label": "Big One", "slug": "mine"})["slug"] == "mine"  # the input wins


def test_public_set_false_input_is_replaced_by_the_default():
    assert check({"serverOnly": "hacked"})["serverOnly"] == "server"


def test_public_get_false_fields_never_leave_validate():
    values = {"secret": "s3cret", "hidden": "h", "shop": {"name": "A", "pin": "1234"},
              "reviews": [{"stars": 5, "author": "eve"}]}
    out = check(values)
    assert "secret" not in out and "hidden" not in out
    assert out["shop"] == {"name": "A"}
    assert out["reviews"] == [{"stars": 5}]
    update = IceCream.validate({"$set": {"secret": "x", "shop.pin": "9", "scoops": 2}})
    assert update == {"$set": {"scoops": 2}}
    assert "s3cret" not in repr(IceCream.validate(values, partial=True))


def test_hidden_fields_are_still_validated():
    assert ("UnexpectedType", "secret") in check({"secret": {"a": 1}})


def test_every_failing_field_is_listed_with_code_id_and_msg():
    with pytest.raises(ValidationError) as caught:
        IceCream.validate({"flavour": "x", "scoops": 0, "serveIn": "bowl", "shop": {}})
    errors = caught.value.errors
    assert caught.value.status == 400
    assert [(e["code"], e["id"]) for e in errors] == [
        ("MinLengthUnderachieved", "flavour"), ("ValueNotAllowed", "serveIn"),
        ("MinValueUnderachived", "scoops"), ("MissingRequiredParameter", "shop.name")]
    assert errors[0]["msg"] == "flavour length is less than 2 chars"
    assert all(set(e) == {"code", "id", "msg"} for e in errors)


def test_undeclared_keys_never_reach_the_output():
    assert "evil" not in check({"evil": 1})


def test_partial_validation_for_updates():
    assert IceCream.validate({"scoops": "2"}, partial=True) == {"scoops": 2}
    assert IceCream.validate({}, partial=True) == {}
    with pytest.raises(ValidationError) as caught:
        IceCream.validate({"scoops": 9, "shop": {"city": "Bonn"}}, partial=True)
    assert [(e["code"], e["id"]) for e in caught.value.errors] == [("MaxValueExceeded", "scoops")]


def test_update_operators_are_validated_per_operator_with_flat_keys():
    update = IceCream.validate({"$set": {"shop": {"city": "Bonn"}, "scoops": "3"}, "$inc": {"scoops": 1},
                                "$unset": {"note": ""}, "$push": {"tags": 4}})
    assert update == {"$set": {"shop.city": "Bonn", "scoops": 3}, "$inc": {"scoops": 1},
                      "$unset": {"note": ""}, "$push": {"tags": 4}}
    with pytest.raises(ValidationError) as caught:
        IceCream.validate({"$set": {"scoops": 7}, "$inc": {"price": "much"}})
    assert [(e["code"], e["id"]) for e in caught.value.errors] == [
        ("MaxValueExceeded", "scoops"), ("UnexpectedType", "price")]


def test_update_operators_can_be_validated_fully():
    with pytest.raises(ValidationError) as caught:
        IceCream.validate({"$setOnInsert": {"scoops": 2}}, partial=False)
    assert ("MissingRequiredParameter", "flavour") in [(e["code"], e["id"]) for e in caught.value.errors]
    assert IceCream.validate({"$set": {"scoops": 2}}, partial={"$set": True}) == {"$set": {"scoops": 2}}


def test_mixing_operators_and_fields_is_a_programming_error():
    with pytest.raises(ValueError):
        IceCream.validate({"$set": {"scoops": 2}, "flavour": "x"})


def test_bad_rules_fail_when_the_schema_is_compiled():
    class Broken(BaseModel):
        identity = "broken"
        collection_name = "broken"
        data = {"a": {"type": str, "maxLenght": 3}}

    with pytest.raises(Exception, match="maxLenght"):
        Broken.validate({"a": "x"})


# ---------------------------------------------------------------------------------- database
class Visit(BaseModel):
    identity = "test-visit-model"
    collection_name = "visits"
    data = {"shopId": {"type": str, "required": True}, "day": {"type": str, "required": True},
            "count": {"type": int, "default": 0}}
    compound_indexes = [{"fields": ["shopId", {"day": -1}], "unique": True}]


def test_insert_one_validates_and_returns_the_stored_document(mia_db):
    doc = IceCream.insert_one({"flavour": "Vanilla", "shop": {"name": "A"}, "secret": "s", "evil": 1})
    stored = mia_db.icecreams.find_one({"_id": doc["_id"]})
    assert stored == doc
    assert stored["flavour"] == "vanilla" and stored["scoops"] == 1
    assert "secret" not in stored and "evil" not in stored
    with pytest.raises(ValidationError):
        IceCream.insert_one({"flavour": "x"})
    assert mia_db.icecreams.count_documents({}) == 1


def test_insert_many_writes_nothing_if_one_document_is_invalid(mia_db):
    with pytest.raises(ValidationError):
        IceCream.insert_many([{"flavour": "Mint", "shop": {"name": "A"}}, {"flavour": "", "shop": {"name": "B"}}])
    assert IceCream.count() == 0
    docs = IceCream.insert_many([{"flavour": "Mint", "shop": {"name": "A"}},
                                 {"flavour": "Lime", "shop": {"name": "B"}}])
    assert [d["flavour"] for d in docs] == ["mint", "lime"] and all("_id" in d for d in docs)
    assert IceCream.count({"serveIn": "cone"}) == 2


def test_update_one_writes_only_the_given_fields(mia_db):
    doc = IceCream.insert_one({"flavour": "Vanilla", "shop": {"name": "A", "city": "Köln"}, "scoops": 2})
    # Someone else changes another field in between: a $set of the given fields keeps it.
    mia_db.icecreams.update_one({"_id": doc["_id"]}, {"$set": {"topping": "nuts"}})
    result = IceCream.update_one({"_id": doc["_id"]}, {"shop": {"city": "Bonn"}, "scoops": "3"})
    assert result.matched_count == 1
    stored = IceCream.find_one({"_id": doc["_id"]})
    assert stored["shop"] == {"name": "A", "city": "Bonn"}
    assert stored["scoops"] == 3 and stored["topping"] == "nuts" and stored["serveIn"] == "cone"


def test_update_one_rejects_bad_values_and_empty_updates(mia_db):
    doc = IceCream.insert_one({"flavour": "Vanilla", "shop": {"name": "A"}})
    with pytest.raises(ValidationError) as caught:
        IceCream.update_one({"_id": doc["_id"]}, {"scoops": 99})
    assert caught.value.errors[0]["code"] == "MaxValueExceeded"
    with pytest.raises(MiaError) as empty:
        IceCream.update_one({"_id": doc["_id"]}, {"undeclared": 1})
    assert empty.value.status == 400 and empty.value.errors[0]["code"] == "ModelNotMatch"
    assert IceCream.find_one({"_id": doc["_id"]})["scoops"] == 1


def test_find_one_and_update_returns_the_document_after_the_update(mia_db):
    after = Visit.find_one_and_update({"shopId": "s1", "day": "mon"}, {"$inc": {"count": 1}}, upsert=True)
    assert after["count"] == 1
    after = Visit.find_one_and_update({"shopId": "s1", "day": "mon"}, {"$inc": {"count": "2"}})
    assert after["count"] == 3
    assert Visit.find_one_and_update({"shopId": "nope"}, {"count": 1}) is None


def test_find_count_sort_skip_limit_delete_aggregate(mia_db):
    Visit.insert_many([{"shopId": "a", "day": d, "count": n} for n, d in enumerate(["mon", "tue", "wed", "thu"])])
    assert [v["day"] for v in Visit.find({"shopId": "a"}, sort="-count", skip=1, limit=2)] == ["wed", "tue"]
    assert [v["day"] for v in Visit.find(sort=[("day", 1)], projection={"_id": 0, "day": 1})][:2] == ["mon", "thu"]
    assert Visit.find_one({"day": "tue"}, projection={"_id": 0, "count": 1}) == {"count": 1}
    assert Visit.count({"count": {"$gte": 2}}) == 2
    total = Visit.aggregate([{"$group": {"_id": "$shopId", "n": {"$sum": "$count"}}}])
    assert total == [{"_id": "a", "n": 6}]
    assert Visit.delete_one({"day": "mon"}).deleted_count == 1
    assert Visit.delete_many({"shopId": "a"}).deleted_count == 3
    assert Visit.count() == 0


def test_unique_index_rejects_a_duplicate_with_409(mia_db):
    ensure_indexes(IceCream)
    IceCream.insert_one({"flavour": "Vanilla", "shop": {"name": "A"}})
    with pytest.raises(MiaError) as caught:
        IceCream.insert_one({"flavour": "VANILLA", "shop": {"name": "B"}})
    assert caught.value.status == 409
    assert caught.value.errors == [{"code": "DuplicateKey", "msg": "Data record already exist in database",
                                    "id": "flavour"}]
    assert IceCream.count() == 1


def test_compound_unique_index_rejects_a_duplicate_with_409(mia_db):
    ensure_indexes(Visit)
    Visit.insert_one({"shopId": "s1", "day": "mon"})
    Visit.insert_one({"shopId": "s1", "day": "tue"})
    Visit.insert_one({"shopId": "s2", "day": "mon"})
    with pytest.raises(MiaError) as caught:
        Visit.insert_one({"shopId": "s1", "day": "mon", "count": 5})
    assert caught.value.status == 409 and caught.value.errors[0]["id"] == "shopId,day"
    second = Visit.find_one({"day": "tue"})
    with pytest.raises(MiaError) as update:
        Visit.update_one({"_id": second["_id"]}, {"day": "mon"})
    assert update.value.status == 409
    assert Visit.count() == 3


@pytest.mark.parametrize("model,doc", [
    (IceCream, {"flavour": "Pistachio", "shop": {"name": "A"}}),
    (Visit, {"shopId": "s9", "day": "fri"}),
], ids=["unique", "compound-unique"])
def test_two_threads_inserting_the_same_key_exactly_one_wins(mia_db, model, doc):
    ensure_indexes(model)
    def insert(barrier: threading.Barrier, outcomes: list[object]) -> None:
        barrier.wait(timeout=10)
        try:
            model.insert_one(dict(doc))
            outcomes.append("ok")
        except MiaError as err:
            outcomes.append(err.status)

    for _ in range(5):
        model.delete_many({})
        barrier, outcomes = threading.Barrier(2), []
        threads = [threading.Thread(target=insert, args=(barrier, outcomes)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert sorted(outcomes, key=str) == [409, "ok"]
        assert model.count() == 1


def test_collection_without_a_name_is_an_internal_error(mia_db):
    class Nameless(BaseModel):
        identity = "nameless"

    with pytest.raises(MiaError) as caught:
        Nameless.find_one()
    assert caught.value.status == 500 and "collectionName" in caught.value.errors[0]["msg"]


def test_models_use_their_own_database_name(db_env):
    from core.data import databases as core_db
    from core.shared import Shared

    Shared.reset()
    settings = db_env.settings()
    other = db_env.name + "_other"
    settings["mongoDatabases"]["archive"] = {"url": db_env.url, "database": other}
    Shared.environment = settings
    databases = core_db.install(settings)

    class Archived(BaseModel):
        identity = "archived"
        collection_name = "archive"
        db_name = "archive"
        data = {"a": {"type": int}}

    try:
        Archived.insert_one({"a": 1})
        assert Archived.db().name == other
        assert databases.database("archive").archive.count_documents({}) == 1
        assert databases.database().archive.count_documents({}) == 0
    finally:
        if db_env.url:
            databases.client("archive").drop_database(other)
        databases.close_all()
        Shared.reset()


def test_collection_handle_follows_the_database_and_the_name(db_env):
    """collection() is kept per class, but a new database handle (reset, fork) or name is never served stale."""
    from core.data import databases as core_db
    from core.shared import Shared

    class Kept(BaseModel):
        identity = "kept"
        collection_name = "kept"
        data = {"a": {"type": int}}

    class Child(Kept):
        identity = "kept-child"
        collection_name = "kept_child"

    first = second = None
    try:
        for _ in range(2):
            Shared.reset()
            Shared.environment = db_env.settings()
            databases = core_db.install(Shared.environment)
            handle = Kept.collection()
            assert Kept.collection() is handle and handle.name == "kept"
            assert handle.database is Shared.db()
            assert Child.collection().name == "kept_child"
            Kept.insert_one({"a": 1})
            assert Kept.count() == 1
            Kept.collection().drop()
            first, second = second, handle
            databases.close_all()
        assert first is not second
        Kept.collection_name = "renamed"
        Shared.reset()
        Shared.environment = db_env.settings()
        databases = core_db.install(Shared.environment)
        assert Kept.collection().name == "renamed" and Child.collection().name == "kept_child"
        databases.close_all()
    finally:
        Shared.reset()
        Shared.environment = {}
