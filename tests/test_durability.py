"""Durability and freshness on MongoDB: writes that guard security or coordination wait for a majority,
reads go to the primary unless a route opts in (``readPreference``), client options survive an
election; all of it visible in ``server.py ENV config`` and overridable in the environment file.

Database tests take ``db_env`` (tests/db_fixtures.py): with MIA_TEST_MONGO_URL they also run on that server.
"""
from __future__ import annotations

import json
import subprocess
import sys

import db_fixtures
import pytest
from db_fixtures import write_things_project

from conftest import ROOT, free_port
from core.app.factory import create_app
from core.data.cron_slots import CronStore
from core.data.databases import Databases
from core.errors import StartupError
from core.notifications.settings import collection as notification_collection
from core.shared import Shared

db_env = db_fixtures.db_env
MAJORITY = {"w": "majority", "wtimeout": 10000}
GUARDED_MODELS = ["generic-nonce-model", "generic-refreshToken-model", "generic-user-model", "generic-device-model"]


def test_guarded_collections_write_with_majority(db_env):
    app = create_app("test", ROOT, overrides=db_env.settings())
    with app.app_context():
        for identity in GUARDED_MODELS:
            assert Shared.models(identity).collection().write_concern.document == MAJORITY, identity
        database = Shared.db()
        store = CronStore(database, server_id="s1")
        assert store.executions.write_concern.document == MAJORITY
        assert store.heartbeats.write_concern.document == MAJORITY
        from projects.generic.libs.login_protection import _collection as lockouts

        assert lockouts().write_concern.document == MAJORITY
        settings = {"collections": {"queue": "notifications", "status": "notificationStatus", "devices": "devices"}}
        assert notification_collection(settings, "queue", database).write_concern.document == MAJORITY
        assert notification_collection(settings, "status", database).write_concern.document == MAJORITY
        # everything else keeps the client's (server default) write concern
        assert Shared.models("generic-userProfile-model").collection().write_concern.document == {}


def test_the_guarded_write_concern_is_overridable_in_the_environment_file(tree, db_env):
    tree.env({**db_env.settings(), "mongo": {"guardedWriteConcern": {"w": 2, "wtimeout": 500}}})
    tree.write("projects/base/models/token.py", """
        from core import BaseModel

        class Token(BaseModel):
            identity = "token-model"
            collection_name = "tokens"
            guarded = True
            data = {"value": {"type": str}}
    """)
    app = tree.app()
    with app.app_context():
        assert Shared.models("token-model").collection().write_concern.document == {"w": 2, "wtimeout": 500}


def test_client_options_outlast_an_election_and_pin_the_primary():
    url = f"mongodb://127.0.0.1:{free_port()}/x?readPreference=secondaryPreferred"
    client = Databases({"defaultMongoDatabase": "x", "mongoDatabases": {"x": {"url": url}}}).client()
    try:
        assert client.read_preference.mongos_mode == "primary"  # a URL's secondary* no longer makes reads stale
        assert client.options.server_selection_timeout >= 12  # an election takes up to ~12 s
        assert client.options.retry_writes and client.options.retry_reads
    finally:
        client.close()
    client = Databases({"defaultMongoDatabase": "x", "mongoDatabases": {"x": {
        "url": url + "&serverSelectionTimeoutMS=2000"}}}).client()
    try:
        assert client.options.server_selection_timeout == 2  # what the URL says explicitly is kept
    finally:
        client.close()
    env = {"defaultMongoDatabase": "x", "mongo": {"readPreference": "nearest"},
           "mongoDatabases": {"x": {"url": url, "options": {"serverSelectionTimeoutMS": 20000}}}}
    client = Databases(env).client()
    try:
        assert client.read_preference.mongos_mode == "nearest" and client.options.server_selection_timeout == 20
    finally:
        client.close()


PROBE = '''
from core import Controller, Shared
from core.data.consistency import read_from

class Probe(Controller):
    identity = "probe"
    def mode(self, req, res):
        Shared.models("thing-model").find({})
        res.send({"mode": read_from(Shared.models("thing-model").collection()).read_preference.mongos_mode})
'''


def _probe_routes(read_preference=None):
    method = {"controller": [{"name": "probe", "function": "mode"}]}
    if read_preference:
        method["readPreference"] = read_preference
    return {"prefix": "/p", "routes": {"./stale": {"get": method},
                                       "./fresh": {"get": {"controller": [{"name": "probe", "function": "mode"}]}}}}


def test_a_route_opts_into_secondary_reads_and_others_stay_on_the_primary(tree, db_env):
    tree.env(db_env.settings())
    write_things_project(tree)
    tree.write("projects/base/controllers/probe.py", PROBE)
    tree.write("projects/base/routes/probe.py", f"routes = {_probe_routes('secondaryPreferred')!r}")
    client = tree.app().test_client()
    for _ in range(2):  # one thread serves both: the opt-in must not leak into the next request
        assert client.get("/p/stale").json == {"mode": "secondaryPreferred"}
        assert client.get("/p/fresh").json == {"mode": "primary"}


def test_an_unknown_read_preference_fails_start_up_naming_the_route_file(tree):
    write_things_project(tree)
    tree.write("projects/base/controllers/probe.py", PROBE)
    path = tree.write("projects/base/routes/probe.py", f"routes = {_probe_routes('secondary-ish')!r}")
    with pytest.raises(StartupError, match="readPreference") as caught:
        tree.app()
    assert str(path) in str(caught.value)


def test_the_defaults_are_visible_in_env_config():
    out = subprocess.run([sys.executable, "server.py", "test", "config"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    shown = json.loads(out.stdout[out.stdout.index("{"):])
    assert shown["mongo"] == {"readPreference": "primary", "guardedWriteConcern": MAJORITY,
                              "indexBuildTimeout": 3600, "commitQuorum": "votingMembers"}


FLAKY = '''
from pymongo import errors
from core import Controller

FAILURES = {"wtimeout": errors.WTimeoutError("waiting for replication timed out", 64),
            "concern": errors.WriteConcernError("write concern failed", 100),
            "timeout": errors.ExecutionTimeout("operation exceeded time limit", 50),
            "cursor": errors.CursorNotFound("cursor id 9 not found", 43)}

class Flaky(Controller):
    identity = "flaky"
    def fail(self, req, res):
        raise FAILURES[req.mia.validated_parameters["path"]["kind"]]
    preconditions = {"fail": {"parameters": {"path": {"kind": {"type": str, "required": True}}},
                              "responses": {503: "DatabaseUnavailable"}}}
'''


@pytest.mark.parametrize("kind", ["wtimeout", "concern", "timeout", "cursor"])
def test_a_database_that_is_not_ready_answers_503_json(tree, kind):
    tree.write("projects/base/controllers/flaky.py", FLAKY)
    tree.write("projects/base/routes/flaky.py", "routes = {'prefix': '/f', 'routes': {'./:kind': {'get': "
               "{'controller': [{'name': 'flaky', 'function': 'fail'}]}}}}")
    response = tree.app().test_client().get(f"/f/{kind}")
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.json == {"status": 503, "errors": [
        {"code": "DatabaseUnavailable", "msg": "The database is not reachable right now"}]}
