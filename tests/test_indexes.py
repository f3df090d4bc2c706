"""Indexes derived from models: mia's names, idempotent creation, conflicts and start-up behaviour.

Uses tests/db_fixtures.py: every database test runs on the embedded store, and also on a real
MongoDB when MIA_TEST_MONGO_URL is set (otherwise that parameter is not generated; nothing skips).
"""
from __future__ import annotations

from datetime import datetime

import db_fixtures
import pytest
from db_fixtures import register

from core import BaseModel
from core.data.indexes import IndexConflict, ensure_all_indexes, ensure_indexes, index_name, model_indexes
from core.errors import StartupError

db_env = db_fixtures.db_env
mia_db = db_fixtures.mia_db  # fixtures: one database per test and backend


class Session(BaseModel):
    """The shape of mia's own test model (spec §4.3) plus nested, array, TTL and text indexes."""

    identity = "test-session-model"
    collection_name = "sessions"
    data = {
        "userId": {"type": str, "unique": True, "sparse": True},
        "appversion": {"type": str, "required": True},
        "date": {"type": datetime, "index": True},
        "culture": {"region": {"type": str}, "language": {"type": str}},
        "session": {"id": {"type": str, "index": True}},
        "a": {"b": {"c": {"type": str, "index": True}}},
        "messages": [{"name": {"type": str, "index": True}}],
        "expires": {"type": datetime, "index": True, "indexOptions": {"expireAfterSeconds": 3600}},
        "body": {"type": str},
    }
    compound_indexes = [
        {"fields": ["userId", "culture.region", "culture.language"], "unique": True, "sparse": True},
        {"fields": ["appversion", "date"]},
        {"fields": ["appversion", {"date": -1}], "name": "newest"},
    ]
    text_indexes = [{"fields": ["body"], "name": "fulltext"}]


EXPECTED = [
    {"key": {"userId": 1}, "name": "userId", "unique": True, "sparse": True},
    {"key": {"date": 1}, "name": "date"},
    {"key": {"session.id": 1}, "name": "sessionid"},
    {"key": {"a.b.c": 1}, "name": "ab.c"},
    {"key": {"messages.name": 1}, "name": "messagesname"},
    {"key": {"expires": 1}, "name": "expires", "expireAfterSeconds": 3600},
    {"key": {"userId": 1, "culture.region": 1, "culture.language": 1}, "name": "userIdcultureregionculturelanguage",
     "unique": True, "sparse": True},
    {"key": {"appversion": 1, "date": 1}, "name": "appversiondate"},
    {"key": {"appversion": 1, "date": -1}, "name": "newest"},
    {"key": {"body": "text"}, "name": "fulltext"},
]


def test_index_names_and_specs_follow_mia():
    assert index_name("session.id") == "sessionid"
    assert index_name("a.b.c") == "ab.c"
    assert index_name("plain") == "plain"
    assert [spec.document() for spec in model_indexes(Session)] == EXPECTED
    assert [spec.kind for spec in Session.indexes()][-4:] == ["compound", "compound", "compound", "text"]


def _info(database, collection="sessions"):
    return {name: {k: v for k, v in info.items() if k in ("key", "unique", "sparse", "expireAfterSeconds")}
            for name, info in database[collection].index_information().items()}


def test_ensure_indexes_creates_them_and_is_idempotent(mia_db):
    names = ensure_indexes(Session)
    assert names == [spec["name"] for spec in EXPECTED]
    first = _info(mia_db)
    assert first["userId"] == {"key": [("userId", 1)], "unique": True, "sparse": True}
    assert first["expires"] == {"key": [("expires", 1)], "expireAfterSeconds": 3600}
    assert first["newest"]["key"] == [("appversion", 1), ("date", -1)]
    assert first["userIdcultureregionculturelanguage"]["unique"] is True
    assert "fulltext" in first and set(first) == {"_id_", *names}
    assert ensure_indexes(Session) == names
    assert _info(mia_db) == first


def test_ensure_all_indexes_covers_registered_models_and_skips_disabled(mia_db):
    class Other(BaseModel):
        identity = "test-other"
        collection_name = "others"
        data = {"code": {"type": str, "unique": True}}

    class Off(BaseModel):
        identity = "test-off"
        collection_name = "off"
        disabled = True
        data = {"code": {"type": str, "unique": True}}

    register(Session, Other, Off)
    done = ensure_all_indexes()
    assert done["test-other@1.0"] == ["code"]
    assert len(done["test-session-model@1.0"]) == len(EXPECTED)
    assert "test-off@1.0" not in done and "off" not in mia_db.list_collection_names()


MODEL_V1 = '''
from core import BaseModel

class Item(BaseModel):
    identity = "item-model"
    collection_name = "items"
    data = {"code": {"type": str, "unique": True}, "name": {"type": str}}
'''


def _persistent_tree(tree, db_env, **env):
    """A tree whose data outlives the app: a real server, or the embedded store with a snapshot."""
    tree.env({**db_env.settings(), "embedded": {"path": str(tree.root / "data" / "snapshot.json")}, **env})
    return tree


def _restart(app, tree):
    app.config["mia.databases"].close_all()  # clean shutdown (saves the embedded snapshot)
    return tree.app()


@pytest.mark.parametrize("v2,reason", [
    ('data = {"code": {"type": str, "index": True}, "name": {"type": str}}', "code"),
    ('data = {"code": {"type": str}, "name": {"type": str}}\n'
     '    compound_indexes = [{"fields": ["code"], "name": "byCode", "unique": True}]', "byCode"),
], ids=["same-name-other-options", "same-keys-other-name"])
def test_a_conflicting_index_definition_fails_start_up_naming_the_model_file(tree, db_env, v2, reason):
    _persistent_tree(tree, db_env)
    path = tree.write("projects/base/models/item.py", MODEL_V1)
    app = tree.app()
    assert "code" in app.config["mia.databases"].database()["items"].index_information()
    app.config["mia.databases"].close_all()
    tree.write("projects/base/models/item.py", MODEL_V1.replace(
        'data = {"code": {"type": str, "unique": True}, "name": {"type": str}}', v2))
    with pytest.raises(IndexConflict) as caught:
        tree.app()
    message = str(caught.value)
    assert str(path) in message and f"index '{reason}'" in message and "item-model" in message


def test_the_same_model_restarted_keeps_its_indexes_without_error(tree, db_env):
    _persistent_tree(tree, db_env)
    tree.write("projects/base/models/item.py", MODEL_V1)
    app = tree.app()
    app = _restart(app, tree)
    assert app.config["mia.databases"].database()["items"].index_information()["code"]["unique"] is True


@pytest.mark.parametrize("flag,indexed_at_first_start", [("yes", False), ("on", False), (True, False),
                                                         ("false", True), (False, True)])
def test_skip_indexing_on_new_collections(tree, db_env, flag, indexed_at_first_start):
    _persistent_tree(tree, db_env, skipDatabaseIndexingOnNewCollections=flag)
    tree.write("projects/base/models/item.py", MODEL_V1)
    app = tree.app()
    database = app.config["mia.databases"].database()
    assert "items" in database.list_collection_names()  # the collection is created either way
    assert ("code" in database["items"].index_information()) is indexed_at_first_start
    app = _restart(app, tree)  # now the collection exists: it is indexed
    assert "code" in app.config["mia.databases"].database()["items"].index_information()


def test_bad_index_declarations_fail_start_up(tree):
    tree.write("projects/base/models/item.py", MODEL_V1.replace(
        '"name": {"type": str}}', '"name": {"type": str}}\n    compound_indexes = [{"fields": "code"}]'))
    with pytest.raises(StartupError, match="compound_indexes"):
        tree.app()


def test_existing_duplicates_fail_start_up_when_a_unique_index_is_added(tree, db_env):
    _persistent_tree(tree, db_env)
    tree.write("projects/base/models/item.py", MODEL_V1.replace('"unique": True', '"index": False'))
    app = tree.app()
    app.config["mia.databases"].database()["items"].insert_many([{"code": "a"}, {"code": "a"}])
    app.config["mia.databases"].close_all()
    path = tree.write("projects/base/models/item.py", MODEL_V1)
    with pytest.raises(StartupError, match="violate unique index 'code'") as caught:
        tree.app()
    assert str(path) in str(caught.value)
