"""Index lifecycle without a gap (core/data/index_builds.py): options change with collMod, a replacement
is built before the old index goes, builds have their own time limit and commitQuorum, text indexes are
compared by weights (MongoDB reports them as ``_fts``/``_ftsx``), TTL 0 is TTL, and start-up refuses
compound indexes MongoDB would make useless (parallel arrays, compound TTL) naming the model's file.

Database tests take ``db_env`` (tests/db_fixtures.py): with MIA_TEST_MONGO_URL they also run on that server.
"""
from __future__ import annotations

from typing import Any

import db_fixtures
import pymongo
import pytest
from pymongo import _csot

from core import BaseModel
from core.data import broadcast, consistency
from core.data.broadcast import MESSAGES, BroadcastBus
from core.data.index_builds import IndexSpec, build, described, same
from core.data.indexes import IndexConflict, ensure_indexes, model_indexes, sync_indexes
from core.errors import StartupError
from core.shared import current_state

db_env = db_fixtures.db_env
mia_db = db_fixtures.mia_db


def _model(ttl: int | None = 3600, unique: bool = False, sparse: bool = False, weights: dict | None = None) -> Any:
    expires: dict[str, Any] = {"type": "Date", "index": True}
    if ttl is not None:
        expires["indexOptions"] = {"expireAfterSeconds": ttl}

    class Token(BaseModel):
        identity = "lifecycle-token"
        collection_name = "tokens"
        data = {"code": {"type": str, "index": True, "unique": unique, "sparse": sparse},
                "expires": expires, "body": {"type": str}}
        text_indexes = [{"fields": ["body"], "name": "fulltext", **({"weights": weights} if weights else {})}]
    return Token


def _ttl(db) -> Any:
    return db.tokens.index_information()["expires"].get("expireAfterSeconds")


def test_a_changed_ttl_is_applied_in_place_at_start_up(mia_db):
    ensure_indexes(_model(ttl=3600))
    assert _ttl(mia_db) == 3600
    ensure_indexes(_model(ttl=60))  # was IndexConflict (error 85 on MongoDB)
    assert _ttl(mia_db) == 60
    ensure_indexes(_model(ttl=0))
    assert _ttl(mia_db) == 0


def test_a_ttl_0_index_is_a_ttl_index(mia_db):
    ensure_indexes(_model(ttl=0))
    with pytest.raises(IndexConflict, match="index 'expires'"):
        ensure_indexes(_model(ttl=None))  # TTL 0 read as "plain" let this pass silently
    assert sync_indexes(_model(ttl=None))["recreated"] == ["expires"]
    assert "expireAfterSeconds" not in mia_db.tokens.index_information()["expires"]


def test_a_new_unique_constraint_is_applied_in_place_and_refused_over_duplicates(mia_db):
    ensure_indexes(_model(unique=False))
    mia_db.tokens.insert_many([{"code": "a"}, {"code": "a"}])
    with pytest.raises(StartupError, match="violate unique index 'code'"):
        ensure_indexes(_model(unique=True))
    assert mia_db.tokens.index_information()["code"].get("unique") in (None, False)  # the old index stays
    mia_db.tokens.delete_one({"code": "a"})
    ensure_indexes(_model(unique=True))
    assert mia_db.tokens.index_information()["code"]["unique"] is True


def test_an_unchanged_text_index_is_left_alone_and_compared_by_weights(mia_db, db_env):
    ensure_indexes(_model())
    assert sync_indexes(_model()) == {"dropped": [], "recreated": [], "modified": [], "created": []}
    if db_env.backend == "mongodb":  # the embedded store keeps no weights: it compares the text fields
        assert sync_indexes(_model(weights={"body": 5}))["recreated"] == ["fulltext"]
    assert sync_indexes(_model(weights={"body": 5}))["recreated"] == []


def test_mongodbs_text_index_shape_matches_its_declaration():
    spec = next(s for s in model_indexes(_model(weights={"body": 3})) if s.kind == "text")
    reported = {"key": [("_fts", "text"), ("_ftsx", 1)], "v": 2, "weights": {"body": 3},
                "default_language": "english", "language_override": "language", "textIndexVersion": 3}
    assert same(reported, spec)
    assert not same({**reported, "weights": {"body": 1}}, spec)
    assert described(reported)[1] == (("body", 3),)


class Recorder:
    """The collection, with every index build and drop recorded and a check that the keys stay indexed."""

    def __init__(self, collection: Any, keys: list[str]) -> None:
        self.collection, self.keys, self.events = collection, keys, []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.collection, name)

    def create_index(self, keys: Any, name: str, **options: Any) -> str:
        self.events.append(("create", name))
        return self.collection.create_index(keys, name=name, **options)

    def drop_index(self, name: str) -> None:
        self.collection.drop_index(name)
        self.events.append(("drop", name))
        covered = [n for n, info in self.collection.index_information().items()
                   if [k for k, _ in info["key"]][:len(self.keys)] == self.keys]
        assert covered, f"after dropping {name} nothing indexes {self.keys}"


def test_a_changed_index_is_built_before_the_old_one_is_dropped(mia_db, monkeypatch):
    ensure_indexes(_model(unique=True))
    changed = _model(unique=True, sparse=True)
    recorder = Recorder(mia_db.tokens, ["code"])
    monkeypatch.setattr(changed, "collection", classmethod(lambda cls: recorder))
    assert sync_indexes(changed)["recreated"] == ["code"]
    assert recorder.events == [("create", "code__next"), ("drop", "code"), ("create", "code"),
                               ("drop", "code__next")]
    info = mia_db.tokens.index_information()
    assert info["code"]["sparse"] is True and "code__next" not in info


class FakeClient:
    """Just enough of a MongoClient on a replica set to see what a build is given (never connects)."""

    def __init__(self) -> None:
        self.admin, self.builds = self, []

    def command(self, name: str) -> dict[str, Any]:
        return {"setName": "rs0", "isWritablePrimary": True}


class FakeCollection:
    def __init__(self, client: FakeClient) -> None:
        self.database = type("Db", (), {"client": client})()

    def create_index(self, keys: Any, name: str, **options: Any) -> str:
        self.database.client.builds.append((name, options, _csot.get_timeout()))
        return name


def test_index_builds_have_their_own_time_limit_and_commit_quorum(monkeypatch):
    monkeypatch.setattr(current_state(), "environment", {})
    client = FakeClient()
    build(FakeCollection(client), [("a", 1)], "a", {"unique": True})
    assert client.builds == [("a", {"unique": True, "commitQuorum": "votingMembers"}, 3600.0)]
    monkeypatch.setattr(current_state(), "environment",
                        {"mongo": {"indexBuildTimeout": 120, "commitQuorum": "majority"}})
    with pymongo.timeout(None):
        build(FakeCollection(client), [("b", 1)], "b", {})
    assert client.builds[-1] == ("b", {"commitQuorum": "majority"}, 120.0)
    assert consistency.deployment(client) == "replicaSet"


PARALLEL = '''
from core import BaseModel

class Post(BaseModel):
    identity = "post-model"
    collection_name = "posts"
    data = {"tags": {"type": list}, "comments": [{"author": {"type": str}, "at": {"type": "Date"}}],
            "created": {"type": "Date"}, "title": {"type": str}}
    compound_indexes = [COMPOUND]
'''


@pytest.mark.parametrize("compound,message", [
    ('{"fields": ["tags", "comments.author"]}', "parallel arrays"),
    ('{"fields": ["created", "title"], "indexOptions": {"expireAfterSeconds": 60}}', "compound index"),
])
def test_start_up_refuses_compounds_mongodb_would_break_on(tree, compound, message):
    path = tree.write("projects/base/models/post.py", PARALLEL.replace("COMPOUND", compound))
    with pytest.raises(StartupError, match=message) as caught:
        tree.app()
    assert str(path) in str(caught.value)


def test_a_compound_inside_one_array_of_documents_is_fine(tree):
    tree.write("projects/base/models/post.py",
               PARALLEL.replace("COMPOUND", '{"fields": ["comments.author", "comments.at"]}'))
    tree.app()


def test_a_changed_broadcast_retention_keeps_publish_and_poll_working(mia_db, monkeypatch):
    monkeypatch.setattr(broadcast, "deployment", lambda client: "standalone")  # the polling transport
    reader = BroadcastBus(lambda: mia_db, "reader", {"retention": 60})
    reader.catch_up()
    BroadcastBus(lambda: mia_db, "a", {"retention": 60}).publish("/c", "one", None)
    BroadcastBus(lambda: mia_db, "b", {"retention": 30}).publish("/c", "two", None)  # was error 85
    assert [d["text"] for d in reader.poll()] == ["one", "two"]
    assert mia_db[MESSAGES].index_information()["created_1"]["expireAfterSeconds"] == 30


def test_index_spec_is_the_one_models_use():
    assert all(isinstance(s, IndexSpec) for s in model_indexes(_model()))


def test_an_index_whose_keys_change_keeps_its_constraint_while_it_is_rebuilt(mia_db, monkeypatch):
    def pair(second: str) -> Any:
        class Slot(BaseModel):
            identity = "lifecycle-slot"
            collection_name = "slots"
            data = {"day": {"type": str}, "room": {"type": str}, "desk": {"type": str}}
            compound_indexes = [{"fields": ["day", second], "name": "booking", "unique": True}]
        return Slot

    ensure_indexes(pair("room"))
    changed = pair("desk")
    recorder = Recorder(mia_db.slots, ["day"])
    monkeypatch.setattr(changed, "collection", classmethod(lambda cls: recorder))
    assert sync_indexes(changed)["recreated"] == ["booking"]
    assert recorder.events == [("create", "booking__next"), ("drop", "booking"), ("create", "booking"),
                               ("drop", "booking__next")]
    info = mia_db.slots.index_information()
    assert info["booking"]["key"] == [("day", 1), ("desk", 1)] and info["booking"]["unique"] is True
    assert set(info) == {"_id_", "booking"}
