"""The Python stacks bench/run.py starts: this project, bare Flask doing the same by hand, FastAPI, Eve.

Each serves the same URLs with the same answers, so one load script drives them all:

* ``GET /icecream/v1/flavours?flavour=Vanilla``: query precondition -> controller -> JSON (+ CORS)
* ``GET /demo-auth/v1/todo`` with a static ``key`` header: device lookup -> todo list from the store
* the same list signed with a v2 HMAC signature and a one-time nonce
* ``POST /icecream/v1/rules/ab12``: a validated JSON body echoed back
* ``GET /demo/v1/todo/<id>``: one embedded-store read

Every Python stack reads the same seeded documents from an in-process mongomock store (our embedded
default), so the store costs the same everywhere. Entry points are ``module:function`` factories for
granian/gunicorn/uvicorn (``BENCH_ROOT`` makes :func:`ours` serve a root written by bench/scale.py,
``BENCH_ROUTES=N`` one it generates itself with N routes).
"""
from __future__ import annotations

import datetime as _dt
import hmac
import ipaddress
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEVICE_ID = "0123456789abcdef0123456789abcdef"
STATIC_KEY = "9cd43d5622a2fa78b67b3412a2d8c614"  # the demo's published static key (demo value)
SECRET_ID, SECRET = "91205b43c5144068ee9979b093925f77", "74168c7a1868ddeee3355fab9489914b"  # demo values
TODO_ID = "65a1b2c3d4e5f60718293a4b"
FLAVOURS = ("cookies and cream", "vanilla", "strawberry")
TODOS = ["Get this demo done", "Go out for lunch", "Buy some milk", "Call mum", "Write tests"]
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Methods": "GET"}
POST_BODY = (b'{"name":"Ada Lovelace","age":36,"email":"ADA@example.com",'
             b'"address":{"city":"London","zip":"12345"},"items":[{"sku":"a1","qty":2}]}')


def _seed(db: Any) -> None:
    """The documents every stack reads: the static-key device, the signing device and five todos."""
    from bson import ObjectId

    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0)
    if db["devices"].find_one({"id": DEVICE_ID}) is None:
        db["devices"].insert_one({"id": DEVICE_ID, "status": "active", "created": now, "lastModified": now,
                                  "culture": {"code": "en-gb", "language": "en", "region": "gb"}})
    if db["devices"].find_one({"access.key": STATIC_KEY}) is None:  # the document ours' demo init stores
        db["devices"].insert_one({"id": "f" * 32, "session": {"cidr": ["0.0.0.0/0"], "expireable": False},
                                  "access": {"key": STATIC_KEY, "cidr": ["0.0.0.0/0"], "groups": ["demo"]},
                                  "culture": {"language": "de", "region": "de"},
                                  "device": {"notification": {"environment": "production"}},
                                  "created": now, "lastModified": now, "status": "active"})
    if db["todos"].find_one({}) is None:
        db["todos"].insert_many([{"_id": ObjectId(TODO_ID) if i == 0 else ObjectId(), "name": name,
                                  "status": "unchecked", "group": "demo", "created": now, "lastModified": now}
                                 for i, name in enumerate(TODOS)])
    db["todos"].create_index("name", unique=True)


# ---------------------------------------------------------------------------------------------- ours
def ours() -> Any:
    """This project's app in its production configuration, one worker, on the embedded store."""
    from core.app.serving import memory

    memory.pause_collection()  # as core/app/serving/granian_run.py's worker: no collection until the app is built
    from core.app.factory import create_app
    from core.shared import Shared

    root, routes = os.environ.get("BENCH_ROOT"), int(os.environ.get("BENCH_ROUTES") or 0)
    if root or routes:  # bench/run.py --scale writes the files before it starts the server (BENCH_ROOT)
        from bench.scale import make_root

        app = create_app("bench", root=root or make_root(routes))
    else:
        overrides = {"server": {"workers": 1}, "embedded": {"path": None}, "logLevel": "warn",
                     "allowDemo": True}  # the benchmarked routes are the demo's
        app = create_app("production", overrides=overrides)
        devices = Shared.models("generic-device-model").collection()
        _seed({"devices": devices, "todos": Shared.models("demo-todos").collection()})
    memory.freeze_after_build()
    return app


# ---------------------------------------------------------------------------------------------- bare Flask
def _store() -> Any:
    import mongomock_ng as mongomock

    from core.data.embedded import make_thread_safe

    make_thread_safe()  # the same embedded store as ours: write lock, tz-aware client
    db = mongomock.MongoClient(tz_aware=True)["bench"]
    _seed(db)
    return db


def _jsonable(doc: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in doc.items():
        if isinstance(value, _dt.datetime):
            value = value.replace(tzinfo=_dt.UTC).isoformat().replace("+00:00", "Z")
        elif not isinstance(value, (str, int, float, bool, type(None), list, dict)):
            value = str(value)
        out[key] = value
    return out


def _list_params(args: Any) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    errors, out = [], {}
    for name, default, low, high in (("limit", 25, 0, 100), ("skip", 0, 0, None)):
        text = args.get(name)
        if text is None:
            out[name] = default
            continue
        try:
            out[name] = int(text)
        except ValueError:
            errors.append({"code": "UnexpectedType", "id": name, "in": "query"})
            continue
        if out[name] < low or (high is not None and out[name] > high):
            errors.append({"code": "ValueOutOfRange", "id": name, "in": "query"})
    sort = args.get("sort", "created")
    if sort not in ("name", "status", "created", "lastModified"):
        errors.append({"code": "ValueNotAllowed", "id": "sort", "in": "query"})
    out["sort"] = sort
    out["ascending"] = args.get("ascending", "true").lower() != "false"
    return (None if errors else out), errors


def _device_for(db: Any, key: str, remote: str) -> dict[str, Any] | None:
    """Ours' static-key checks by hand: the device, its status, the route's group, its CIDR list."""
    device = db["devices"].find_one({"access.key": key})
    if device is None or device.get("status") != "active":
        return None
    groups = device["access"].get("groups") or []
    if "*" not in groups and "demo" not in groups:
        return None
    address = ipaddress.ip_address(remote)
    if not any(address in ipaddress.ip_network(c) for c in device["access"].get("cidr") or []):
        return None
    return device


def _signed_device(db: Any, key: str, nonce: str, method: str, host: str, target: bytes, body: bytes
                   ) -> dict[str, Any] | None:
    from client.signing import v2_canonical, v2_signature

    device_id, secret_id, stamp, signature = key[:32], key[32:64], key[64:74], key[74:]
    if not stamp.isdigit() or abs(int(stamp) - int(time.time())) > 300 or not 16 <= len(nonce or "") <= 64:
        return None
    secret = db["secrets"].find_one({"id": secret_id})
    if secret is None:
        return None
    canonical = v2_canonical(device_id, secret_id, stamp, nonce, method, f"http://{host}", target, body)
    if not hmac.compare_digest(signature.encode(), v2_signature(secret["secret"], canonical).encode()):
        return None
    now = _dt.datetime.now(_dt.UTC)
    try:  # stored as ours stores them: a TTL index on ``expires`` (the embedded store scans it on writes)
        db["nonces"].insert_one({"_id": f"{device_id}\n{nonce}", "created": now,
                                 "expires": now + _dt.timedelta(seconds=660)})
    except Exception:  # noqa: BLE001 - a replayed nonce
        return None
    return db["devices"].find_one({"id": device_id})


def bare_flask() -> Any:
    """The same five answers written by hand in plain Flask, on the same kind of store."""
    from bson import ObjectId
    from flask import Flask, jsonify, request

    db = _store()
    db["secrets"].insert_one({"id": SECRET_ID, "secret": SECRET, "groups": ["demo"]})
    db["nonces"].create_index("expires", expireAfterSeconds=0)
    app = Flask("bare")

    def fail(status: int, errors: list[dict[str, str]]) -> Any:
        return jsonify({"status": status, "errors": errors}), status

    @app.get("/icecream/v1/flavours")
    def flavours() -> Any:
        flavour = request.args.get("flavour")
        if flavour is None:
            return fail(400, [{"code": "MissingRequiredParameter", "id": "flavour", "in": "query"}])
        flavour = flavour.lower()
        if flavour not in FLAVOURS:
            return fail(400, [{"code": "ValueNotAllowed", "id": "flavour", "in": "query"}])
        response = jsonify({"status": 200, "response": f"I love {flavour} icecream"})
        response.headers.update(CORS)
        if request.headers.get("Origin"):
            response.headers["Access-Control-Allow-Origin"] = request.headers["Origin"]
        return response

    def todo_list(device: dict[str, Any] | None) -> Any:
        if device is None:
            return fail(401, [{"code": "KeyInvalid"}])
        params, errors = _list_params(request.args)
        if params is None:
            return fail(400, errors)
        direction = 1 if params["ascending"] else -1
        todos = db["todos"].find({}, sort=[(params["sort"], direction), ("_id", direction)],
                                 skip=params["skip"], limit=params["limit"] or 25)
        response = jsonify({"status": 200, "response": [_jsonable(t) for t in todos]})
        response.headers["timestamp"] = str(int(time.time() * 1000))
        response.headers["About"] = "This is a demo api"
        return response

    @app.get("/demo-auth/v1/todo")
    def todos() -> Any:
        key = request.headers.get("key")
        if not key:
            return fail(400, [{"code": "MissingRequiredParameter", "id": "key", "in": "header"}])
        if len(key) == 32:
            return todo_list(_device_for(db, key, request.remote_addr))
        target = request.environ.get("RAW_URI") or request.full_path.rstrip("?")
        return todo_list(_signed_device(db, key, request.headers.get("nonce", ""), request.method,
                                        request.host, target.encode("latin-1"), b""))

    @app.get("/demo/v1/todo/<todo_id>")
    def todo(todo_id: str) -> Any:
        if not re.fullmatch(r"[0-9a-fA-F]{24}", todo_id):
            return fail(400, [{"code": "PatternMismatch", "id": "id", "in": "path"}])
        found = db["todos"].find_one({"_id": ObjectId(todo_id)})
        response = jsonify({"status": 200, "response": [_jsonable(found)] if found else []})
        response.headers["About"] = "This is a demo api"
        return response

    @app.post("/icecream/v1/rules/<code>")
    def rules(code: str) -> Any:
        body = request.get_json(silent=True)
        errors, out = _check_rules_body(body)
        if not re.fullmatch(r"[a-z]{2}\d{2}", code, re.IGNORECASE):
            errors.append({"code": "PatternMismatch", "id": "code", "in": "path"})
        if errors:
            return fail(400, errors)
        return jsonify({"status": 200, "response": {"query": {"limit": 25, "sort": "created"},
                                                    "path": {"code": code.upper()}, "body": out}})

    return app


def _check_rules_body(body: Any) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """The rules showcase's body checks, by hand: required name, bounded age, email, address, items."""
    errors: list[dict[str, str]] = []
    if not isinstance(body, dict):
        return [{"code": "MissingRequiredParameter", "id": "name", "in": "body"}], {}
    name = body.get("name")
    if not isinstance(name, str) or not 2 <= len(name) <= 40:
        errors.append({"code": "MissingRequiredParameter", "id": "name", "in": "body"})
    age = body.get("age")
    if age is not None and (not isinstance(age, int) or not 0 <= age <= 150):
        errors.append({"code": "UnexpectedType", "id": "age", "in": "body"})
    email = body.get("email")
    if email is not None and (not isinstance(email, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+", email)):
        errors.append({"code": "PatternMismatch", "id": "email", "in": "body"})
    address = body.get("address") or {}
    if not isinstance(address, dict) or not isinstance(address.get("city"), str):
        errors.append({"code": "MissingRequiredParameter", "id": "address.city", "in": "body"})
    elif "zip" in address and not re.fullmatch(r"\d{5}", str(address["zip"])):
        errors.append({"code": "PatternMismatch", "id": "address.zip", "in": "body"})
    items = body.get("items") or []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("sku"), str):
            errors.append({"code": "MissingRequiredParameter", "id": "items.sku", "in": "body"})
    out = {"name": name, "age": age, "email": email.lower() if isinstance(email, str) else email,
           "address": address, "items": items}
    return errors, out


# ---------------------------------------------------------------------------------------------- Eve
def eve_app() -> Any:
    """Eve serving the todos behind a token check on the devices collection (its usual auth hook)."""
    import mongomock_ng as mongomock
    import pymongo

    from core.data.embedded import make_thread_safe

    make_thread_safe()  # the same embedded store as ours and bare Flask
    pymongo.MongoClient = mongomock.MongoClient  # Eve opens its own client: give it the in-process store
    from eve import Eve
    from eve.auth import TokenAuth

    class DeviceKey(TokenAuth):
        def check_auth(self, token: str, allowed_roles: Any, resource: Any, method: str) -> bool:
            from flask import current_app

            devices = current_app.data.driver.db["devices"]
            device = devices.find_one({"access.key": token, "status": "active"})
            return device is not None

        def authorized(self, allowed_roles: Any, resource: Any, method: str) -> bool:
            from flask import request

            return bool(self.check_auth(request.headers.get("key", ""), allowed_roles, resource, method))

    settings = {"MONGO_URI": "mongodb://localhost:27017/bench", "URL_PREFIX": "demo-auth", "API_VERSION": "v1",
                "PAGINATION_DEFAULT": 25, "HATEOAS": False, "IF_MATCH": False, "OPTIMIZE_PAGINATION_FOR_SPEED": True,
                "DOMAIN": {"todo": {"datasource": {"source": "todos", "default_sort": [("created", 1)]},
                                    "schema": {"name": {"type": "string"}, "status": {"type": "string"},
                                               "group": {"type": "string"}}}}}
    app = Eve(settings=settings, auth=DeviceKey)
    with app.app_context():
        _seed(app.data.driver.db)
    return app
