"""Database fixtures shared by the data-layer tests (imported by test_db/test_models/test_indexes).

Backends: ``embedded`` (the in-process store) always; ``mongodb`` only when the environment variable
MIA_TEST_MONGO_URL names a server (``mongodb://127.0.0.1:27017``, a replica set or an Atlas URL).
Without it the ``mongodb`` parameter is simply not generated, so nothing is reported as skipped;
with it every test using ``db_env`` runs once per backend. Each test gets its own database
(``mia_test_<uuid>``), which is dropped afterwards.
"""
from __future__ import annotations

import os
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from core.data import databases as db
from core.shared import Shared

TEST_URL = os.environ.get("MIA_TEST_MONGO_URL") or None
BACKENDS = ["embedded"] + (["mongodb"] if TEST_URL else [])

# An output controller and a CRUD controller over a model, for HTTP-level tests in a `tree`.
THINGS_MODEL = '''
from datetime import datetime, timezone
from core import BaseModel

class Thing(BaseModel):
    identity = "thing-model"
    collection_name = "things"
    data = {
        "name": {"type": str, "required": True, "unique": True, "maxLength": 20},
        "count": {"type": int, "default": 0},
        "created": {"type": datetime, "default": lambda: datetime.now(timezone.utc)},
    }
'''

THINGS_CONTROLLER = '''
from core import Controller, Shared

class Things(Controller):
    identity = "things"

    def create(self, req, res):
        doc = Shared.models("thing-model").insert_one(req.mia.body or {})
        res.send({"id": str(doc["_id"]), "name": doc["name"]}, status=201)

    def list(self, req, res):
        docs = Shared.models("thing-model").find({}, sort="name")
        res.send([{"id": str(d["_id"]), "name": d["name"], "count": d["count"],
                   "created": type(d["created"]).__name__} for d in docs])

    def raw(self, req, res):
        Shared.db().things.insert_one(dict(req.mia.body or {}))
        res.send({"ok": True}, status=201)
'''

THINGS_ROUTES = {"group": "t", "prefix": "/api", "routes": {
    "./things": {
        "list": {"identity": "things-list", "controller": [{"name": "things", "function": "list"}]},
        "create": {"identity": "things-create", "controller": [{"name": "things", "function": "create"}]},
    },
    "./raw": {"post": {"identity": "raw", "controller": [{"name": "things", "function": "raw"}]}},
}}


@dataclass
class DbEnv:
    """One test's database: its backend, URL (None = embedded) and unique name."""

    backend: str
    url: str | None
    name: str

    def settings(self, **extra: Any) -> dict[str, Any]:
        """Environment-config keys that point the default database at this test's database."""
        entry: dict[str, Any] = {"url": self.url, "database": self.name}
        entry.update(extra)
        return {"defaultMongoDatabase": self.name, "mongoDatabases": {self.name: entry}}


@pytest.fixture(params=BACKENDS)
def db_env(request: pytest.FixtureRequest) -> Iterator[DbEnv]:
    backend = request.param
    env = DbEnv(backend, TEST_URL if backend == "mongodb" else None, f"mia_test_{uuid.uuid4().hex[:12]}")
    yield env
    if env.url:
        import pymongo

        client = pymongo.MongoClient(env.url, serverSelectionTimeoutMS=3000)
        try:
            client.drop_database(env.name)
        finally:
            client.close()


@pytest.fixture
def mia_db(db_env: DbEnv) -> Iterator[Any]:
    """``Shared.db()`` pointed at this test's database without building an app; yields the Database."""
    Shared.reset()
    Shared.environment = db_env.settings()
    databases = db.install(Shared.environment)
    yield databases.database()
    databases.close_all()
    Shared.reset()
    Shared.environment = {}


def register(*models: Any) -> None:
    """Register model classes as the loader would (for ensure_all_indexes)."""
    for model in models:
        Shared.model_registry.add(model.identity, model.version, model, "")


def write_things_project(tree: Any, routes: dict[str, Any] | None = None) -> None:
    """The `thing-model` model, the `things` controller and its routes in a tree's project."""
    tree.write("projects/base/models/thing.py", THINGS_MODEL)
    tree.write("projects/base/controllers/things.py", THINGS_CONTROLLER)
    tree.write("projects/base/routes/things.py", f"routes = {routes or THINGS_ROUTES!r}")



def dedent(text: str) -> str:
    return textwrap.dedent(text)
