"""The data layer: configuration, error mapping (409/503), the embedded store and its snapshots.

Uses tests/db_fixtures.py: tests taking ``db_env`` run on the embedded store, and also on a real
MongoDB when MIA_TEST_MONGO_URL is set (otherwise that parameter is not generated; nothing skips).
The unreachable-database tests point a client at a closed loopback port; the restart tests use the
embedded store with ``embedded.path`` (a real server keeps its data anyway).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import db_fixtures
import pytest
from db_fixtures import write_things_project
from pymongo import errors as pe

from conftest import free_port
from core.app.summary import summary
from core.data import databases as db
from core.data.databases import Databases, translate_db_error
from core.data.embedded_snapshot import Snapshot
from core.errors import StartupError
from core.shared import Shared, flag

ROOT = Path(__file__).resolve().parent.parent

db_env = db_fixtures.db_env
mia_db = db_fixtures.mia_db  # fixtures: one database per test and backend


# ---------------------------------------------------------------------------------- configuration
def test_shared_db_is_the_configured_database(mia_db, db_env):
    assert Shared.db() is Shared.db()
    assert Shared.db().name == db_env.name
    Shared.db().things.insert_one({"a": 1})
    assert mia_db.things.find_one({}, {"_id": 0}) == {"a": 1}


def test_database_names_come_from_option_url_path_or_key():
    databases = Databases({"defaultMongoDatabase": "mia", "mongoDatabases": {
        "mia": {"url": None},
        "logs": {"url": "mongodb://h1,h2,h3/logdb?replicaSet=rs0"},
        "srv": {"url": "mongodb+srv://cluster.example.net/?retryWrites=true"},
        "named": {"url": "mongodb://h/ignored", "database": "chosen"}}})
    assert [databases.database_name(n) for n in (None, "logs", "srv", "named")] == ["mia", "logdb", "srv", "chosen"]
    assert [databases.mode(n) for n in ("mia", "logs")] == ["embedded", "mongodb"]


def test_mongo_url_environment_variables_override_the_files(tree, monkeypatch):
    port = free_port()
    tree.env({"defaultMongoDatabase": "main", "mongoDatabases": {"main": {"url": None}, "logs": {"url": None}}})
    monkeypatch.setenv("MIA_MONGO_URL", f"mongodb://127.0.0.1:{port}/prod")
    monkeypatch.setenv("MIA_MONGO_URL_LOGS", f"mongodb://127.0.0.1:{port}/logs")
    app = tree.app()
    databases = app.config["mia.databases"]
    assert databases.mode() == "mongodb" and databases.mode("logs") == "mongodb"
    assert databases.database_name() == "prod"
    assert "MongoDB at the configured URL" in summary(app)


def test_without_url_the_embedded_store_is_used_and_said_loudly(tree):
    app = tree.app()
    assert app.config["mia.databases"].mode() == "embedded"
    assert "embedded in-process store" in summary(app)


def test_the_embedded_store_refuses_several_workers(tree):
    tree.env({"server": {"workers": 4}})
    with pytest.raises(StartupError, match="embedded in-process store.*MIA_MONGO_URL"):
        tree.app()
    tree.env({"server": {"workers": 4}, "mongoDatabases": {"t": {"url": f"mongodb://127.0.0.1:{free_port()}"}}})
    assert tree.app().config["mia.databases"].mode() == "mongodb"


def test_a_url_that_is_not_mongodb_fails_start_up(tree):
    tree.env({"mongoDatabases": {"t": {"url": "postgres://localhost/x"}}})
    with pytest.raises(StartupError, match="mongodb://"):
        tree.app()


@pytest.mark.parametrize("value,expected", [
    ("true", True), ("1", True), ("Y", True), ("yes", True), (" On ", True), (True, True), (1, True),
    ("false", False), ("0", False), ("no", False), ("", False), (None, False), (False, False)])
def test_truthy_flags(value, expected):
    assert flag(value) is expected
    assert flag(None, default=True) is True  # unset: the setting's default (swaggerMode is on)


def test_a_forked_child_makes_its_own_server_clients_but_keeps_the_embedded_store():
    Shared.reset()
    port = free_port()
    databases = db.install({"defaultMongoDatabase": "a", "mongoDatabases": {
        "a": {"url": None}, "b": {"url": f"mongodb://127.0.0.1:{port}/b"}}})
    try:
        embedded, server = databases.client("a"), databases.client("b")
        Shared.db("b")
        db._after_fork_in_child()
        assert databases.client("a") is embedded
        assert databases.client("b") is not server
        assert not any(key.startswith("db") for key in Shared._handles)
        server.close()
    finally:
        databases.close_all()
        Shared.reset()


# ---------------------------------------------------------------------------------- errors
def test_database_errors_become_mia_errors():
    assert translate_db_error(pe.ServerSelectionTimeoutError("no servers")).status == 503
    assert translate_db_error(pe.AutoReconnect("lost")).errors[0]["code"] == "DatabaseUnavailable"
    assert translate_db_error(pe.NetworkTimeout("slow")).status == 503
    duplicate = pe.DuplicateKeyError("E11000 duplicate key error collection: x.y index: a_1 dup key: { a: 1 }",
                                     11000, {"keyPattern": {"a": 1, "b.c": -1}, "keyValue": {"a": 1, "b.c": 2}})
    error = translate_db_error(duplicate)
    assert (error.status, error.errors) == (409, [{"code": "DuplicateKey", "msg": "Data record already exist in "
                                                   "database", "id": "a,b.c"}])
    legacy = pe.DuplicateKeyError("E11000 duplicate key error index: x.y.$name_1 dup key: { name: \"a\" }", 11000)
    assert translate_db_error(legacy).errors[0]["id"] == "name"
    bulk = pe.BulkWriteError({"writeErrors": [{"code": 11000, "keyPattern": {"k": 1}}]})
    assert translate_db_error(bulk).errors[0]["id"] == "k"
    assert translate_db_error(pe.OperationFailure("other", 2)) is None


@pytest.mark.parametrize("error", [
    pe.WriteConcernError("waiting for replication timed out", 64, {"errInfo": {"wtimeout": True}}),
    pe.WTimeoutError("waiting for replication timed out", 64),
    pe.ExecutionTimeout("operation exceeded time limit", 50),
    pe.CursorNotFound("cursor id 7 not found", 43),
    pe.OperationFailure("not primary", 10107),
    pe.OperationFailure("interrupted due to repl state change", 11602),
    pe.NotPrimaryError("not primary"),
])
def test_transient_server_answers_are_503_not_500(error):
    translated = translate_db_error(error)
    assert translated is not None and translated.status == 503
    assert translated.errors == [{"code": "DatabaseUnavailable"}] and translated.headers == {"Retry-After": "1"}


def test_duplicates_answer_409_json_through_the_server(tree, db_env):
    tree.env(db_env.settings())
    write_things_project(tree)
    client = tree.app().test_client()
    assert client.post("/api/things", json={"name": "lamp"}).status_code == 201
    second = client.post("/api/things", json={"name": "lamp"})
    assert second.status_code == 409
    assert second.json == {"status": 409, "errors": [
        {"code": "DuplicateKey", "msg": "Data record already exist in database", "id": "name"}]}
    # A controller that uses pymongo directly gets the same answer through the error translator.
    assert client.post("/api/raw", json={"name": "chair"}).status_code == 201
    raw = client.post("/api/raw", json={"name": "chair"})
    assert raw.status_code == 409 and raw.json["errors"][0]["code"] == "DuplicateKey"
    bad = client.post("/api/things", json={"name": "x" * 21})
    assert bad.status_code == 400 and bad.json["errors"][0]["code"] == "MaxLengthExceeded"


UNREACHABLE_CONTROLLER = '''
from core import BaseModel, Controller, Shared

class Gadget(BaseModel):
    identity = "gadget"
    collection_name = "gadgets"
    data = {"name": {"type": str}}

class Probe(Controller):
    identity = "probe"
    def raw(self, req, res):
        res.send({"found": Shared.db().things.find_one({})})
    def model(self, req, res):
        res.send({"found": Gadget.find_one({})})
'''


@pytest.mark.parametrize("function", ["raw", "model"])
def test_an_unreachable_database_answers_503_json_quickly(tree, function):
    # The default selection timeout (15 s) outlasts a replica-set election; a down server answers after it.
    tree.env({"mongoDatabases": {"t": {"url": f"mongodb://127.0.0.1:{free_port()}/t",
                                       "options": {"serverSelectionTimeoutMS": 1000}}}})
    tree.write("projects/base/controllers/probe.py", UNREACHABLE_CONTROLLER)
    tree.write("projects/base/routes/probe.py", f"routes = {{'prefix': '/p', 'routes': {{'./x': {{'get': "
               f"{{'controller': [{{'name': 'probe', 'function': '{function}'}}]}}}}}}}}")
    client = tree.app().test_client()
    response = client.get("/p/x")  # answers at all: a hang would end in the test's timeout
    assert response.status_code == 503
    assert response.json == {"status": 503, "errors": [
        {"code": "DatabaseUnavailable", "msg": "The database is not reachable right now"}]}


def test_an_unreachable_database_at_start_up_names_the_model(tree):
    tree.env({"mongoDatabases": {"t": {"url": f"mongodb://127.0.0.1:{free_port()}/t",
                                       "options": {"serverSelectionTimeoutMS": 300}}}})
    path = tree.write("projects/base/models/gadget.py", UNREACHABLE_CONTROLLER.split("class Probe")[0])
    with pytest.raises(StartupError, match="unreachable") as caught:
        tree.app()
    assert str(path) in str(caught.value)


# ---------------------------------------------------------------------------------- restart
def test_data_survives_a_clean_restart_of_the_app(tree):
    snapshot = tree.root / "data" / "store.json"
    tree.env({"embedded": {"path": str(snapshot)}})
    write_things_project(tree)
    client = tree.app().test_client()
    assert client.post("/api/things", json={"name": "lamp", "count": 2}).status_code == 201
    assert client.post("/api/things", json={"name": "desk"}).status_code == 201
    before = client.get("/api/things").json
    db.shutdown()  # the clean-shutdown path (atexit / SIGTERM)
    files = sorted(p.name for p in snapshot.parent.iterdir())
    assert snapshot.exists() and files == ["store.json", "store.json.journal"]
    assert (snapshot.parent / "store.json.journal").stat().st_size == 0  # compacted into the snapshot
    client = tree.app().test_client()
    after = client.get("/api/things").json
    assert after == before
    assert [t["name"] for t in after] == ["desk", "lamp"] and after[0]["created"] == "datetime"
    assert client.post("/api/things", json={"name": "lamp"}).status_code == 409  # unique index restored


def test_a_relative_snapshot_path_is_below_the_root(tree):
    tree.env({"embedded": {"path": ".mia-data/dev.json"}})
    write_things_project(tree)
    tree.app().test_client().post("/api/things", json={"name": "lamp"})
    db.shutdown()
    text = (tree.root / ".mia-data" / "dev.json").read_text()
    assert json.loads(text)["databases"]["t"]["things"]["documents"][0]["name"] == "lamp"


def test_an_unreadable_snapshot_fails_start_up_naming_the_file(tree):
    snapshot = tree.root / "broken.json"
    snapshot.write_text("{not json")
    tree.env({"embedded": {"path": str(snapshot)}})
    write_things_project(tree)
    with pytest.raises(StartupError, match="unreadable") as caught:
        tree.app()
    assert str(snapshot) in str(caught.value)


def test_a_snapshot_replaced_by_another_process_is_not_overwritten(tmp_path):
    import mongomock_ng

    path = tmp_path / "s.json"
    client = mongomock_ng.MongoClient(tz_aware=True)
    client.d.c.insert_one({"a": 1})
    mine = Snapshot(path)
    mine.load(client)
    assert mine.save(client) is True
    other = Snapshot(path)
    other.load(mongomock_ng.MongoClient(tz_aware=True))
    time.sleep(0.01)
    assert other.save(client) is True
    assert mine.save(client) is False  # changed since `mine` loaded/saved it
    restored = mongomock_ng.MongoClient(tz_aware=True)
    assert Snapshot(path).load(restored) == 1 and restored.d.c.find_one({}, {"_id": 0}) == {"a": 1}


def _request(url: str, data: dict | None = None) -> tuple[int, object]:
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _start(root: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIA_")}
    env["PORT"] = str(port)
    process = subprocess.Popen([sys.executable, "server.py", "test"], cwd=root, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stderr.read().decode()}")
        try:
            _request(f"http://127.0.0.1:{port}/api/things")
            return process
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    process.kill()
    raise AssertionError("server did not start within 30 s")


def _stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def test_server_py_keeps_embedded_data_across_a_sigterm_restart(tree):
    """The real ``python server.py test`` in a copy of the repository's code, on a loopback port."""
    shutil.copy(ROOT / "server.py", tree.root / "server.py")
    for package in ("core", "client"):
        shutil.copytree(ROOT / package, tree.root / package, ignore=shutil.ignore_patterns("__pycache__"))
    tree.env({"embedded": {"path": "data/dev.json"}})
    write_things_project(tree)
    port = free_port()
    process = _start(tree.root, port)
    try:
        assert _request(f"http://127.0.0.1:{port}/api/things", {"name": "lamp"})[0] == 201
    finally:
        code = _stop(process)
    assert code == 0 and (tree.root / "data" / "dev.json").exists()
    process = _start(tree.root, port)
    try:
        status, body = _request(f"http://127.0.0.1:{port}/api/things")
        assert status == 200 and [t["name"] for t in body] == ["lamp"]
        assert _request(f"http://127.0.0.1:{port}/api/things", {"name": "lamp"})[0] == 409
    finally:
        _stop(process)
