"""The demo project (spec §8): every demo route, its documents in the database and its docs."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from bson import ObjectId

from client import v1_key, v2_headers
from core.shared import Shared

V1 = "/demo/v1"
DEFAULT_NAMES = ["Eat some icecreme", "Go out for lunch", "Get some sleep", "Get this demo done",
                 "Create own project"]
ABOUT = "This is a demo api"


def todos_collection():
    return Shared.models("demo-todos").collection()


def create(client, name, prefix=V1, **extra):
    reply = client.post(f"{prefix}/todo", json={"name": name, **extra})
    assert reply.status_code == 200, reply.json
    return reply.json["response"]["id"]


# ------------------------------------------------------------------------------------------ list
def test_first_list_seeds_the_five_default_todos(client):
    assert todos_collection().count_documents({}) == 0
    reply = client.get(f"{V1}/todo")
    assert reply.status_code == 200
    assert reply.headers["About"] == ABOUT
    body = reply.json
    assert body["status"] == 200
    assert [t["name"] for t in body["response"]] == DEFAULT_NAMES
    first = body["response"][0]
    assert set(first) == {"_id", "name", "status", "group", "created", "lastModified"}
    assert first["status"] == "unchecked" and first["group"] == "demo"
    assert re.fullmatch(r"[0-9a-f]{24}", first["_id"])
    assert todos_collection().count_documents({}) == 5
    # A second list does not seed again; /demo/latest is the same API on the same collection.
    assert len(client.get("/demo/latest/todo").json["response"]) == 5
    assert todos_collection().count_documents({}) == 5


def test_list_pages_with_limit_and_skip(client):
    now = datetime.now(UTC)
    todos_collection().insert_many([{"name": f"todo {i:02d}", "status": "unchecked", "group": "demo",
                                     "created": now, "lastModified": now} for i in range(30)])
    names = lambda query: [t["name"] for t in client.get(f"{V1}/todo?sort=name&{query}").json["response"]]  # noqa: E731
    assert len(names("")) == 25
    assert len(names("limit=0")) == 25  # mia.js: 0 means the default
    assert names("limit=3") == ["todo 00", "todo 01", "todo 02"]
    assert names("limit=2&skip=5") == ["todo 05", "todo 06"]
    assert len(names("limit=100")) == 30


def test_list_sort_follows_ascending(client):
    for name in ("b", "c", "a"):
        create(client, name)
    ascending = [t["name"] for t in client.get(f"{V1}/todo?sort=name").json["response"]]
    descending = [t["name"] for t in client.get(f"{V1}/todo?sort=name&ascending=false").json["response"]]
    assert ascending == ["a", "b", "c"]
    assert descending == ["c", "b", "a"]  # mia.js always sorted ascending; fixed
    by_created = [t["name"] for t in client.get(f"{V1}/todo?sort=lastModified&ascending=true").json["response"]]
    assert by_created == ["b", "c", "a"]


@pytest.mark.parametrize(("query", "code", "field"), [
    ("limit=101", "MaxValueExceeded", "limit"),
    ("limit=-1", "MinValueUnderachived", "limit"),
    ("limit=ten", "UnexpectedType", "limit"),
    ("skip=-3", "MinValueUnderachived", "skip"),
    ("sort=password", "ValueNotAllowed", "sort"),
    ("ascending=maybe", "UnexpectedType", "ascending"),
])
def test_list_rejects_bad_paging_parameters(client, query, code, field):
    reply = client.get(f"{V1}/todo?{query}")
    assert reply.status_code == 400
    assert reply.json["errors"][0]["code"] == code
    assert reply.json["errors"][0]["id"] == field
    assert todos_collection().count_documents({}) == 0  # nothing ran, nothing was seeded


# ------------------------------------------------------------------------------------------ index
def test_index_answers_an_array_like_mia(client):
    todo_id = create(client, "Read the README")
    reply = client.get(f"{V1}/todo/{todo_id}")
    assert reply.status_code == 200 and reply.headers["About"] == ABOUT
    [todo] = reply.json["response"]
    assert todo["_id"] == todo_id and todo["name"] == "Read the README" and todo["status"] == "unchecked"
    unknown = client.get(f"{V1}/todo/{ObjectId()}")
    assert unknown.status_code == 200 and unknown.json == {"status": 200, "response": []}


@pytest.mark.parametrize("bad_id", ["xyz", "0" * 23, "0" * 25, "g" * 24])
def test_index_with_a_malformed_id_is_400_not_500(client, bad_id):
    reply = client.get(f"{V1}/todo/{bad_id}")
    assert reply.status_code == 400
    assert reply.json["errors"][0]["code"] == "PatternMismatch"
    assert reply.json["errors"][0]["in"] == "path"


# ------------------------------------------------------------------------------------------ create
def test_create_stores_a_validated_document(client):
    reply = client.post(f"{V1}/todo", json={"name": "Buy milk", "status": "CHECKED"})
    assert reply.status_code == 200 and reply.headers["About"] == ABOUT
    todo_id = reply.json["response"]["id"]
    assert reply.json == {"status": 200, "response": {"id": todo_id}}
    stored = todos_collection().find_one({"_id": ObjectId(todo_id)})
    assert stored["name"] == "Buy milk" and stored["status"] == "checked" and stored["group"] == "demo"
    assert isinstance(stored["created"], datetime) and stored["created"] == stored["lastModified"]


def test_create_without_a_name_or_with_a_bad_status_is_400(client):
    reply = client.post(f"{V1}/todo", json={"status": "done"})
    assert reply.status_code == 400
    codes = {(e["id"], e["code"]) for e in reply.json["errors"]}
    assert codes == {("name", "MissingRequiredParameter"), ("status", "ValueNotAllowed")}
    assert todos_collection().count_documents({}) == 0


def test_a_duplicate_name_is_409_not_500(client):
    create(client, "Only once")
    reply = client.post(f"{V1}/todo", json={"name": "Only once"})
    assert reply.status_code == 409
    assert reply.json["errors"][0]["code"] == "DuplicateKey"
    assert reply.json["errors"][0]["id"] == "name"
    assert todos_collection().count_documents({"name": "Only once"}) == 1


# ------------------------------------------------------------------------------------------ update
def test_update_changes_only_the_given_fields(client):
    todo_id = create(client, "Write tests")
    before = todos_collection().find_one({"_id": ObjectId(todo_id)})
    reply = client.put(f"{V1}/todo/{todo_id}", json={"status": "checked"})
    assert reply.status_code == 200 and reply.json == {"status": 200}
    assert reply.headers["About"] == ABOUT
    after = todos_collection().find_one({"_id": ObjectId(todo_id)})
    assert after["status"] == "checked" and after["name"] == "Write tests"
    assert after["created"] == before["created"] and after["lastModified"] >= before["lastModified"]
    client.put(f"/demo/latest/todo/{todo_id}", json={"name": "Write more tests"})
    assert todos_collection().find_one({"_id": ObjectId(todo_id)})["name"] == "Write more tests"


def test_update_of_an_unknown_id_is_404_and_creates_nothing(client):
    reply = client.put(f"{V1}/todo/{ObjectId()}", json={"name": "Ghost"})
    assert reply.status_code == 404
    assert reply.json["errors"] == [{"code": "NothingToUpdate",
                                     "msg": "Id does not exists so there is nothing to update"}]
    assert todos_collection().count_documents({}) == 0  # mia.js upserted here


def test_update_to_a_taken_name_or_bad_values_fails_cleanly(client):
    first, second = create(client, "one"), create(client, "two")
    taken = client.put(f"{V1}/todo/{second}", json={"name": "one"})
    assert taken.status_code == 409 and taken.json["errors"][0]["code"] == "DuplicateKey"
    bad = client.put(f"{V1}/todo/{first}", json={"status": "maybe", "name": ""})
    assert bad.status_code == 400
    assert {e["id"] for e in bad.json["errors"]} == {"status", "name"}
    assert sorted(t["name"] for t in todos_collection().find()) == ["one", "two"]


# ------------------------------------------------------------------------------------------ delete
def test_delete_then_nothing_to_remove_translated(client):
    todo_id = create(client, "Temporary")
    reply = client.delete(f"{V1}/todo/{todo_id}")
    assert reply.status_code == 200 and reply.json == {"status": 200}
    assert todos_collection().count_documents({}) == 0
    again = client.delete(f"{V1}/todo/{todo_id}")
    assert again.status_code == 404 and again.headers["About"] == ABOUT
    assert again.json == {"status": 404, "errors": [{"code": "NothingToRemove",
                                                     "msg": "Id does not exists so there is nothing to delete"}]}
    german = client.delete(f"/demo/latest/todo/{todo_id}", headers={"culture.code": "de-DE"})
    assert german.json["errors"][0]["msg"] == "Die Id existiert nicht, es gibt also nichts zu löschen"
    assert client.delete(f"{V1}/todo/nope").status_code == 400


# ------------------------------------------------------------------------------------------ html, services, assets
def test_html_output_renders_an_escaped_page(client):
    create(client, "<script>alert(1)</script>")
    reply = client.get(f"{V1}/todo.html?sort=name")
    assert reply.status_code == 200
    assert reply.mimetype == "text/html"
    page = reply.get_data(as_text=True)
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>mia.py demo: todos</title>" in page  # the title comes from demo-config
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert "<th>name</th>" in page


def test_services_lists_every_route_of_the_prefix(client):
    reply = client.get(f"{V1}/services")
    assert reply.status_code == 200
    items = {item["id"]: item for item in reply.json["response"]}
    public = {"todos", "todo", "create-todo", "update-todo", "delete-todo", "todos-html", "services", "jwt-login",
              "jwt-refresh", "jwt-revoke"}
    # routes/realtime.py shares group, version, prefix
    assert set(items) == public | {"jwt-me", "jwt-revoke-all", "todo-live"}
    assert items["todo"]["method"] == "GET" and items["todo"]["url"].endswith("/demo/v1/todo/:id")
    assert items["todo-live"]["method"] == "WS" and items["todo-live"]["url"].endswith("/demo/v1/live/todos")
    assert items["create-todo"]["parameters"]["body"]["name"]["required"] is True
    assert all(items[name]["authorization"] is False for name in public)
    assert items["jwt-me"]["authorization"] is True and items["todo-live"]["authorization"] is True
    latest = client.get("/demo/latest/services").json["response"]
    assert "jwt-me" not in {item["id"] for item in latest}
    assert all("/demo/latest/" in item["url"] for item in latest)


def test_public_assets_are_served(client):
    page = client.get("/demo/assets/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert b"/demo/v1/todo" in page.data
    assert client.get("/demo/assets/index.html").data == page.data
    css = client.get("/demo/assets/style.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    missing = client.get("/demo/assets/nothing.js")
    assert missing.status_code == 404 and missing.json["errors"][0]["code"] == "NotFound"
    assert client.get("/demo/assets/%2e%2e/routes/api.py").status_code == 404
    assert client.get("/generic/assets/anything").status_code == 404  # no public folder, no rule


# ------------------------------------------------------------------------------------------ lib and config
def test_lib_and_config_are_reachable_through_shared(app):
    assert Shared.config("demo-config.title") == "mia.py demo: todos"
    assert [t["name"] for t in Shared.config("demo-config.todos")] == DEFAULT_NAMES
    lib = Shared.libs("demo-lib")
    assert lib.seed_if_empty() == 5 and lib.seed_if_empty() == 0
    assert [t["name"] for t in lib.list_todos(limit=2, sort="name", ascending=False)] == [
        "Go out for lunch", "Get this demo done"]


def test_the_manuals_icecream_routes(client):
    reply = client.get("/icecream/latest/flavours?flavour=Vanilla")
    assert reply.json == {"status": 200, "response": "I love vanilla icecream"}
    assert client.get("/icecream/v1/flavours?flavour=mint").status_code == 400
    rules = client.post("/icecream/v1/rules/ab12", json={"name": "Ada Lovelace", "address": {"city": "London"}})
    assert rules.status_code == 200 and rules.json["response"]["path"] == {"code": "AB12"}


def test_every_demo_route_is_exercised_here_and_documented(app, client):
    demo_routes = [r for r in app.config["mia.routes"] if r.file.project == "demo"]
    assert {r.path.split("/")[1] for r in demo_routes} == {"demo", "demo-auth", "demo-notify", "icecream"}
    exercised = {"todos", "todo", "create-todo", "update-todo", "delete-todo", "todos-html", "services",
                 "icecreamFlavours", "rulesShowcase"}
    assert {r.info.identity for r in demo_routes} == exercised | EXERCISED_ELSEWHERE
    document = client.get("/docs/openapi.json").json
    for route in demo_routes:
        path = re.sub(r":(\w+)", r"{\1}", route.path)
        if route.is_websocket:  # described on the path item: a fuzzer must not send it plain GETs
            operation = document["paths"][path]["x-websocket"]
            assert "101" in operation["responses"]
        else:
            operation = document["paths"][path][route.verb.lower()]
            assert "200" in operation["responses"]
        assert operation["operationId"].startswith(route.info.identity), (path, operation["operationId"])
        keyed = route.controllers[0].name in ("generic-validateAccessKey", "generic-validateJWT")
        assert bool(operation.get("security")) == keyed, path
    create_body = document["paths"][f"{V1}/todo"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert create_body["required"] == ["name"]
    list_200 = document["paths"][f"{V1}/todo"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert list_200["properties"]["response"]["type"] == "array"  # the route's responseSchemes
    html_get = document["paths"][f"{V1}/todo.html"]["get"]["responses"]
    assert list(html_get["200"]["content"]) == ["text/html"]  # html-output declares what it produces
    assert list(html_get["400"]["content"]) == ["application/json"]  # errors stay the JSON envelope


# Route identities of the demo tested by the authorization and user tests below.
EXERCISED_ELSEWHERE = {"devices", "device", "signUp", "getProfile", "updateProfile", "deleteAccount", "login",
                       "logout",
                       "welcome", "notification",  # tests/test_notifications_demo.py
                       "welcome-owned", "notification-owned",  # tests/test_notifications_status_ids.py
                       "jwt-login", "jwt-refresh", "jwt-revoke", "jwt-me", "todo-live",  # tests/test_realtime*.py
                       "jwt-revoke-all", "logoutEverywhere", "removeDevice", "requestPasswordReset",
                       "resetPassword",  # tests/test_session_revocation.py
                       "attestation-challenge", "attested-ping"}  # tests/test_attestation.py


# ------------------------------------------------------------------------------------------ /demo-auth/v1
AUTH = "/demo-auth/v1"
SECRET_ID, SECRET = "91205b43c5144068ee9979b093925f77", "74168c7a1868ddeee3355fab9489914b"
STATIC_KEY = "9cd43d5622a2fa78b67b3412a2d8c614"


def register(client, profile=None):
    reply = client.post(f"{AUTH}/devices", json=profile or {"culture": {"code": "en-gb"}})
    assert reply.status_code == 200, reply.json
    return reply.json["response"]["id"]


def signed(client, device_id, method, path, body=None, v2=True, headers=None):
    """Sign like client does for a real server (Host ``localhost``, scheme http)."""
    data = json.dumps(body) if body is not None else None
    headers = dict(headers or {})
    if v2:
        headers.update(v2_headers(device_id, SECRET_ID, SECRET, method, "http://localhost", path, data,
                                  content_type="application/json" if data is not None else None))
    else:
        headers["key"] = v1_key(device_id, SECRET_ID, SECRET, method, "http://localhost", path, data)
    if data is not None:
        headers["Content-Type"] = "application/json"
    return client.open(path, method=method, data=data, headers=headers)


@pytest.fixture
def device(client):
    """A registered device; the demo secret it signs with is seeded by projects/demo/init."""
    return register(client)


def test_device_registration_needs_no_key_and_stores_the_profile(client):
    device_id = register(client, {"culture": {"code": "de-de"}, "device": {"model": "Pixel"}})
    assert re.fullmatch(r"[0-9a-f]{32}", device_id)
    stored = Shared.models("generic-device-model").find_one({"id": device_id})
    assert stored["device"]["model"] == "pixel"
    assert stored["culture"] == {"language": "de", "region": "de"}
    bad = client.post(f"{AUTH}/devices", json={"culture": {"code": "german"}})
    assert bad.status_code == 400 and bad.json["errors"][0]["id"] == "culture.code"


def test_todos_behind_the_key_refuse_anonymous_and_forged_requests(client, device):
    anonymous = client.get(f"{AUTH}/todo")
    assert anonymous.status_code == 400
    assert anonymous.json["errors"][0] == {"code": "MissingRequiredParameter", "id": "key", "in": "header",
                                           "msg": "key is required but invalid value or no value given"}
    forged = client.get(f"{AUTH}/todo", headers={"key": device + SECRET_ID + "1" * 10 + "0" * 64})
    assert forged.status_code == 401
    assert todos_collection().count_documents({}) == 0  # the chain never reached the todos


def test_signed_requests_run_every_todo_route(client, device):
    listing = signed(client, device, "GET", f"{AUTH}/todo", v2=False)  # mia.js's v1 signature
    assert listing.status_code == 200, listing.json
    assert [t["name"] for t in listing.json["response"]] == DEFAULT_NAMES
    assert listing.headers["About"] == ABOUT and "timestamp" in listing.headers
    created = signed(client, device, "POST", f"{AUTH}/todo", {"name": "Signed todo"})
    assert created.status_code == 200, created.json
    todo_id = created.json["response"]["id"]
    assert todos_collection().find_one({"_id": ObjectId(todo_id)})["name"] == "Signed todo"
    index = signed(client, device, "GET", f"{AUTH}/todo/{todo_id}")
    assert index.json["response"][0]["name"] == "Signed todo"
    updated = signed(client, device, "PUT", f"{AUTH}/todo/{todo_id}", {"status": "checked"})
    assert updated.status_code == 200
    assert todos_collection().find_one({"_id": ObjectId(todo_id)})["status"] == "checked"
    deleted = signed(client, device, "DELETE", f"{AUTH}/todo/{todo_id}")
    assert deleted.status_code == 200
    gone = signed(client, device, "DELETE", f"{AUTH}/todo/{todo_id}")
    # The device registered with culture en-gb; its culture picks the language of the message.
    assert gone.status_code == 404 and gone.json["errors"][0]["code"] == "NothingToRemove"


def test_a_replayed_signed_request_is_refused(client, device):
    body = json.dumps({"name": "Only once"})
    headers = {**v2_headers(device, SECRET_ID, SECRET, "POST", "http://localhost", f"{AUTH}/todo", body,
                            content_type="application/json"), "Content-Type": "application/json"}
    assert client.post(f"{AUTH}/todo", data=body, headers=headers).status_code == 200
    replay = client.post(f"{AUTH}/todo", data=body, headers=headers)
    assert replay.status_code == 401 and replay.json["errors"][0]["code"] == "NonceReused"
    assert todos_collection().count_documents({"name": "Only once"}) == 1


def test_the_static_demo_key_opens_the_authorized_api(client):
    reply = client.get(f"{AUTH}/todo?sort=name&limit=2", headers={"key": STATIC_KEY})
    assert reply.status_code == 200, reply.json
    assert [t["name"] for t in reply.json["response"]] == ["Create own project", "Eat some icecreme"]
    wrong = client.get(f"{AUTH}/todo", headers={"key": "0" * 32})
    assert wrong.status_code == 401


def test_device_update_changes_only_the_calling_device(client, device):
    reply = signed(client, device, "PUT", f"{AUTH}/devices/{device}", {"device": {"model": "Pixel 9"}})
    assert reply.status_code == 200 and reply.json["response"] == {"id": device}
    assert Shared.models("generic-device-model").find_one({"id": device})["device"]["model"] == "pixel 9"
    other = register(client)
    stolen = signed(client, device, "PUT", f"{AUTH}/devices/{other}", {"device": {"model": "Stolen"}})
    assert stolen.status_code == 403
    assert "model" not in (Shared.models("generic-device-model").find_one({"id": other}).get("device") or {})
    unsigned = client.put(f"{AUTH}/devices/{device}", json={"device": {"model": "x"}})
    assert unsigned.status_code == 400


def test_authorized_services_listing_needs_no_key(client):
    reply = client.get(f"{AUTH}/services")
    assert reply.status_code == 200
    items = {(item["id"], item["method"]): item for item in reply.json["response"]}
    assert set(items) == {("todos", "GET"), ("todo", "GET"), ("create-todo", "POST"), ("update-todo", "PUT"),
                          ("delete-todo", "DELETE"), ("services", "GET"), ("devices", "POST"), ("device", "PUT"),
                          ("signUp", "POST"), ("getProfile", "GET"), ("updateProfile", "PUT"),
                          ("deleteAccount", "DELETE"), ("login", "POST"), ("logout", "POST"), ("todo-live", "WS"),
                          ("welcome-owned", "POST"), ("notification-owned", "GET"),
                          ("logoutEverywhere", "POST"), ("removeDevice", "DELETE"), ("requestPasswordReset", "POST"),
                          ("resetPassword", "POST"), ("attestation-challenge", "POST"), ("attested-ping", "GET")}
    assert items[("todos", "GET")]["authorization"] is True
    assert items[("todos", "GET")]["parameters"]["header"]["key"]["required"] is True
    assert items[("devices", "POST")]["authorization"] is False
    assert items[("device", "PUT")]["authorization"] is True


# ------------------------------------------------------------------------------------------ users
USERS = f"{AUTH}/users/me"
ADA = {"login": "ada@example.com", "password": "correct horse battery", "name": "Ada", "phone": "+44 20 7946 0000"}


def users_collection():
    return Shared.models("generic-user-model").collection()


def test_sign_up_stores_the_custom_profile_and_logs_the_device_in(client, device):
    reply = signed(client, device, "POST", USERS, ADA)
    assert reply.status_code == 200, reply.json
    account = reply.json["response"]
    assert account["login"] == "ada@example.com"
    assert account["email"] == {"value": "ada@example.com", "validated": False}
    assert account["profile"]["name"] == "Ada" and account["profile"]["phone"] == "+44 20 7946 0000"
    assert "createdAt" in account["profile"] and reply.headers["ETag"]
    stored = users_collection().find_one({"login": "ada@example.com"})
    assert stored["group"] == "demo" and stored["profile"]["demo"]["name"] == "Ada"
    assert "password" not in stored and ADA["password"] not in str(stored)
    assert [t["device"]["id"] for t in stored["accessTokens"]] == [device]  # loginOnSignUp
    profile = signed(client, device, "GET", USERS)
    assert profile.status_code == 200 and profile.json["response"]["userId"] == account["userId"]


def test_sign_up_validates_the_custom_profile_fields(client, device):
    missing = signed(client, device, "POST", USERS, {"login": "bob@example.com", "password": "pw-secret-0"})
    assert missing.status_code == 400
    assert missing.json["errors"][0]["id"] == "name" and missing.json["errors"][0]["in"] == "body"
    bad_phone = signed(client, device, "POST", USERS, {**ADA, "phone": "call me"})
    assert bad_phone.status_code == 400 and bad_phone.json["errors"][0]["id"] == "phone"
    assert users_collection().count_documents({}) == 0


def test_logout_login_and_wrong_password(client, device):
    signed(client, device, "POST", USERS, ADA)
    assert signed(client, device, "POST", f"{USERS}/logout").json == {"status": 200}
    nobody = signed(client, device, "GET", USERS)
    assert nobody.status_code == 401 and nobody.json["errors"][0]["code"] == "NoUserIsLoggedIn"
    wrong = signed(client, device, "POST", f"{USERS}/login", {"login": ADA["login"], "password": "nope"})
    assert wrong.status_code == 401 and wrong.json["errors"][0]["code"] == "InvalidCredentials"
    right = signed(client, device, "POST", f"{USERS}/login", {"login": "ADA@example.com", "password": ADA["password"]})
    assert right.status_code == 200 and right.json["response"]["profile"]["name"] == "Ada"
    assert signed(client, device, "GET", USERS).status_code == 200


def test_update_profile_needs_the_current_etag(client, device):
    etag = signed(client, device, "POST", USERS, ADA).headers["ETag"]
    stale = signed(client, device, "PUT", USERS, {"name": "Ada L."}, headers={"If-Match": "0" * 32})
    assert stale.status_code == 412
    updated = signed(client, device, "PUT", USERS, {"name": "Ada L."}, headers={"If-Match": etag})
    assert updated.status_code == 200 and updated.json["response"]["profile"]["name"] == "Ada L."
    assert updated.headers["ETag"] != etag
    stored = users_collection().find_one({"login": "ada@example.com"})
    assert stored["profile"]["demo"]["name"] == "Ada L." and stored["profile"]["demo"]["phone"] == ADA["phone"]


def test_delete_account_logs_everybody_out(client, device):
    signed(client, device, "POST", USERS, ADA)
    assert signed(client, device, "DELETE", USERS).json == {"status": 200}
    assert users_collection().find_one({"login": "ada@example.com"})["status"] == "deleted"
    assert signed(client, device, "GET", USERS).status_code == 401
