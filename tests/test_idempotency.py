"""Idempotency keys (issue 27): a retried write answers the first answer and writes nothing twice.

Routes opt in with ``idempotent`` in their route file (core/http/idempotency.py). The trees below run
on the embedded store, or on MIA_TEST_MONGO_URL's server through ``db_env``.
"""
from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import db_fixtures
import pytest

from conftest import serve_live
from core.errors import StartupError
from core.shared import Shared

db_env = db_fixtures.db_env

GATED = '''
import threading
from core import Controller, Shared

GATE = threading.Event()      # the test opens it: until then the first request is "still running"
ENTERED = threading.Event()

class Orders(Controller):
    identity = "orders"

    def create(self, req, res):
        ENTERED.set()
        GATE.wait(20)
        body = req.mia.body or {}
        result = Shared.db().orders.insert_one({"item": body.get("item")})
        res.send({"id": str(result.inserted_id), "item": body.get("item")}, status=201,
                 headers={"Location": "/api/orders/" + str(result.inserted_id), "X-Order": "new"})

    def fail(self, req, res):
        Shared.db().orders.insert_one({"item": "failed"})
        raise RuntimeError("the database went away")

    def reject(self, req, res):
        raise __import__("core").MiaError(404, code="NoSuchItem", msg="no such item")
'''


def routes(idempotent: Any = True) -> dict[str, Any]:
    return {"group": "t", "prefix": "/api", "routes": {
        "./orders": {"create": {"identity": "orders", "idempotent": idempotent,
                                "controller": [{"name": "orders", "function": "create"}]}},
        "./failing": {"post": {"identity": "failing", "idempotent": True,
                               "controller": [{"name": "orders", "function": "fail"}]}},
        "./rejecting": {"post": {"identity": "rejecting", "idempotent": True,
                                 "controller": [{"name": "orders", "function": "reject"}]}},
        "./plain": {"post": {"identity": "plain", "controller": [{"name": "orders", "function": "create"}]}},
    }}


@pytest.fixture
def orders(tree, db_env):
    tree.env(db_env.settings())
    tree.write("projects/base/controllers/orders.py", GATED)
    tree.write("projects/base/routes/orders.py", f"routes = {routes({'retention': '1h', 'lockTimeout': 60})!r}")
    application = tree.app()
    module = sys.modules[type(Shared.controllers("orders")).__module__]
    yield application, module
    module.GATE.set()
    application.config["mia.databases"].close_all()


def post(url: str, body: dict[str, Any], key: str | None) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_twenty_parallel_retries_create_one_document_and_get_one_body(orders):
    application, module = orders
    busy: list[dict[str, str]] = []
    finals: list[tuple[int, dict[str, str], bytes]] = []
    lock = threading.Lock()

    def client(url: str) -> None:
        for _ in range(400):
            status, headers, body = post(url + "/api/orders", {"item": "espresso"}, "order-7f3a")
            if status != 409:
                with lock:
                    finals.append((status, headers, body))
                return
            with lock:
                busy.append(headers | {"body": body.decode()})
            time.sleep(0.02)  # the client honours Retry-After in real life; the test keeps it short

    with serve_live(application) as url:
        first = threading.Thread(target=client, args=(url,))
        first.start()
        assert module.ENTERED.wait(20)  # the first request holds the key and waits inside its controller
        others = [threading.Thread(target=client, args=(url,)) for _ in range(19)]
        for thread in others:
            thread.start()
        deadline = time.monotonic() + 20
        while len(busy) < 19 and time.monotonic() < deadline:  # each of the 19 was told "still running"
            time.sleep(0.01)
        module.GATE.set()
        for thread in [first, *others]:
            thread.join(30)
    assert len(busy) >= 19
    assert all(h["Retry-After"].isdigit() and int(h["Retry-After"]) >= 1 for h in busy)
    assert all('"code":"IdempotencyKeyInUse"' in h["body"] for h in busy)
    assert len(finals) == 20
    assert {status for status, _, _ in finals} == {201}
    assert len({body for _, _, body in finals}) == 1  # every client got the same order id
    assert sum(1 for _, h, _ in finals if h.get("Idempotency-Replayed") == "true") == 19
    assert {h["Location"] for _, h, _ in finals} == {"/api/orders/" + json.loads(finals[0][2])["id"]}
    assert {h["X-Order"] for _, h, _ in finals} == {"new"}
    assert Shared.db().orders.count_documents({}) == 1


def test_without_the_option_every_retry_writes(orders):
    application, module = orders
    module.GATE.set()
    client = application.test_client()
    for _ in range(3):
        assert client.post("/api/plain", json={"item": "tea"}, headers={"Idempotency-Key": "k1"}).status_code == 201
    assert Shared.db().orders.count_documents({}) == 3


def test_a_changed_request_with_the_same_key_is_422(orders):
    application, module = orders
    module.GATE.set()
    client = application.test_client()
    first = client.post("/api/orders", json={"item": "tea"}, headers={"Idempotency-Key": "k2"})
    assert first.status_code == 201
    changed = client.post("/api/orders", json={"item": "coffee"}, headers={"Idempotency-Key": "k2"})
    assert changed.status_code == 422
    assert changed.json["errors"][0]["code"] == "IdempotencyKeyMismatch"
    other_path = client.post("/api/rejecting", json={"item": "tea"}, headers={"Idempotency-Key": "k2"})
    assert other_path.status_code == 422
    again = client.post("/api/orders", json={"item": "tea"}, headers={"Idempotency-Key": "k2"})
    assert again.status_code == 201 and again.headers["Idempotency-Replayed"] == "true"
    assert again.data == first.data
    assert Shared.db().orders.count_documents({}) == 1


def test_keys_are_per_caller_and_checked(orders):
    application, module = orders
    module.GATE.set()
    client = application.test_client()
    quoted = client.post("/api/orders", json={"item": "a"}, headers={"Idempotency-Key": '"quoted-key"'})
    assert quoted.status_code == 201
    replay = client.post("/api/orders", json={"item": "a"}, headers={"Idempotency-Key": "quoted-key"})
    assert replay.headers.get("Idempotency-Replayed") == "true"  # the sf-string form and the bare form are one key
    bad = client.post("/api/orders", json={"item": "a"}, headers={"Idempotency-Key": "two words"})
    assert bad.status_code == 400 and bad.json["errors"][0]["code"] == "IdempotencyKeyInvalid"
    assert client.post("/api/orders", json={"item": "b"}).status_code == 201  # no key: an ordinary request
    assert Shared.db().orders.count_documents({}) == 2


def test_a_5xx_releases_the_key_and_a_4xx_is_replayed(orders):
    application, module = orders
    client = application.test_client()
    for _ in range(2):
        failed = client.post("/api/failing", json={}, headers={"Idempotency-Key": "k3"})
        assert failed.status_code == 500 and "Idempotency-Replayed" not in failed.headers
    assert Shared.db().orders.count_documents({"item": "failed"}) == 2  # the retry ran the chain again
    first = client.post("/api/rejecting", json={}, headers={"Idempotency-Key": "k4"})
    again = client.post("/api/rejecting", json={}, headers={"Idempotency-Key": "k4"})
    assert (first.status_code, again.status_code) == (404, 404)
    assert again.headers["Idempotency-Replayed"] == "true" and again.data == first.data


def test_the_record_has_a_ttl_index_and_holds_the_answer(orders):
    application, module = orders
    module.GATE.set()
    application.test_client().post("/api/orders", json={"item": "tea"}, headers={"Idempotency-Key": "k5"})
    store = Shared.db().idempotencyKeys
    assert store.index_information()["expires"]["expireAfterSeconds"] == 0
    record = store.find_one({"key": "k5"})
    assert record["state"] == "done" and record["response"]["status"] == 201
    assert record["scope"] == "anonymous" and record["method"] == "POST" and record["path"] == "/api/orders"
    assert 3500 <= (record["expires"] - record["created"]).total_seconds() <= 3700  # retention '1h'


def test_a_runner_whose_lease_ran_out_hands_the_key_to_the_retry(orders):
    """What a crash leaves: a record still 'running' whose lease is over. One retry takes it over."""
    application, module = orders
    module.GATE.set()
    client = application.test_client()
    client.post("/api/orders", json={"item": "tea"}, headers={"Idempotency-Key": "k6"})
    store = Shared.db().idempotencyKeys
    created = store.find_one({"key": "k6"})["created"]
    store.update_one({"key": "k6"}, {"$set": {"state": "running", "lockedUntil": created}, "$unset": {"response": ""}})
    retry = client.post("/api/orders", json={"item": "tea"}, headers={"Idempotency-Key": "k6"})
    assert retry.status_code == 201 and "Idempotency-Replayed" not in retry.headers
    assert store.find_one({"key": "k6"})["state"] == "done"


@pytest.mark.parametrize("value, message", [
    ({"retention": "forever"}, "idempotent.retention"),
    ({"retentoin": "1h"}, "idempotent of"),
    ("yes", "idempotent of"),
])
def test_a_bad_option_stops_start_up_naming_the_file(tree, value, message):
    tree.write("projects/base/controllers/orders.py", GATED)
    path = tree.write("projects/base/routes/orders.py", f"routes = {routes(value)!r}")
    with pytest.raises(StartupError) as caught:
        tree.app()
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_a_get_route_cannot_be_idempotent(tree):
    tree.write("projects/base/controllers/orders.py", GATED)
    tree.write("projects/base/routes/orders.py", "routes = " + repr({"group": "t", "prefix": "/api", "routes": {
        "./orders": {"list": {"identity": "o", "idempotent": True,
                              "controller": [{"name": "orders", "function": "create"}]}}}}))
    with pytest.raises(StartupError, match="idempotent applies to POST"):
        tree.app()


def test_the_openapi_document_shows_idempotency_attestation_and_the_audit_trail(client):
    """Issue 27: each of the three is in /docs/openapi.json with its headers and answers."""
    paths = client.get("/docs/openapi.json").json["paths"]
    create = paths["/demo/v1/todo"]["post"]
    key = next(p for p in create["parameters"] if p["name"] == "Idempotency-Key")
    assert key["in"] == "header" and key["required"] is False
    assert "IdempotencyKeyInUse" in create["responses"]["409"]["description"]
    assert create["responses"]["409"]["headers"]["Retry-After"]["schema"]["type"] == "integer"
    assert create["responses"]["422"]["description"] == "IdempotencyKeyMismatch"
    assert "Idempotency-Replayed" in create["responses"]["200"]["headers"]
    assert not any(p["name"] == "Idempotency-Key" for p in paths["/demo/v1/todo"]["get"].get("parameters", []))

    ping = paths["/demo-auth/v1/attested/ping"]["get"]
    assert any(p["name"] == "x-app-attest-assertion" and p["in"] == "header" for p in ping["parameters"])
    assert "AssertionInvalid" in ping["responses"]["401"]["description"]
    assert "DeviceNotAttested" in ping["responses"]["403"]["description"]
    register = paths["/demo-auth/v1/devices"]["post"]
    body = register["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert set(body["attestation"]["properties"]) >= {"type", "challenge", "keyId", "attestationObject", "token"}
    assert "AttestationInvalid" in register["responses"]["403"]["description"]
    assert "post" in paths["/demo-auth/v1/devices/attestation/challenge"]

    events = paths["/audit/v1/events"]["get"]
    assert {"signedKeyV2": []} in events["security"] and "200" in events["responses"]
    export = paths["/audit/v1/events/export"]["get"]
    assert "application/x-ndjson" in export["responses"]["200"]["content"]
    assert {p["name"] for p in export["parameters"]} >= {"since", "until", "key"}
