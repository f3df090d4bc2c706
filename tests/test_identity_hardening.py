"""Hardening of the identity services (projects/generic, projects/demo, client/, core/http/clientip.py).

Each test shows one user-visible defect found in review (status code, JSON body or stored
document) and stays as its regression test; the last group pins behaviour that was probed
(NoSQL-shaped bodies, races, odd inputs) and found correct.
"""
from __future__ import annotations

import hashlib
import json
import logging
import socket
import threading
import time
from urllib.parse import urlsplit

import bson
import pytest
from memcached_fixtures import memcached  # noqa: F401 - fixture
from test_users import custom, custom_device, graph  # noqa: F401 - fixtures (a custom project, a fake Graph API)

from client import MiaClient, v1_key, v2_headers
from core import Shared
from core.http.clientip import in_networks, parse_network

P = "/api/tests/generic/v1"
SECRET_ID, SECRET = "6ff870ad33a86982550543e2f92623c5", "10f2bde9a138ef5aeed40812b0a1594b"  # generic demo secret
BASE = "http://localhost"
STATIC = "5f4dcc3b5aa765d61d8327deb882cf99"


# ---------------------------------------------------------------------------------------------- helpers
def register(client):
    reply = client.post(P + "/devices", json={"culture": {"code": "en-gb"}})
    assert reply.status_code == 200
    return reply.json["response"]["id"]


def codes(reply):
    return [e.get("code") for e in reply.json["errors"]]


def signed(client, device, method, path, body=None, **headers):
    """A v1-signed request through Flask's test client."""
    text = json.dumps(body) if body is not None else None
    headers["key"] = v1_key(device, SECRET_ID, SECRET, method, BASE, path, text)
    if text is not None:
        headers["Content-Type"] = "application/json"
    return client.open(path, method=method, data=text, headers=headers)


def users_col():
    return Shared.models("generic-user-model").collection()


def static_device(**access):
    col = Shared.models("generic-device-model").collection()
    col.delete_many({"$or": [{"access.key": STATIC}, {"id": "e" * 32}]})
    col.insert_one({"id": "e" * 32, "status": "active", "culture": {"language": "en", "region": "gb"},
                    "access": {"key": STATIC, "groups": ["generic"], **access}})


def in_parallel(app, count, work):
    """Run ``work(test_client, index)`` in ``count`` threads released at once; their results."""
    results, barrier = [], threading.Barrier(count)

    def run(index):
        client = app.test_client()
        barrier.wait()
        results.append(work(client, index))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def device(client):
    return register(client)




def raw_request(base, method, target: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """Send a request line byte for byte (as curl does with an unencoded URL)."""
    parts = urlsplit(base)
    lines = [method.encode() + b" " + target + b" HTTP/1.1", f"Host: {parts.netloc}".encode(),
             b"Connection: close", b"Content-Length: 0"]
    lines += [f"{k}: {v}".encode("latin-1") for k, v in headers.items() if k.lower() != "host"]
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), payload


def use_fake_graph(monkeypatch, url):
    config = Shared.configs.get("generic-identity")
    monkeypatch.setattr(config, "facebook", {**config.facebook, "graphUrl": url, "timeout": 2})


# ---------------------------------------------------------------------------------------------- signed keys
@pytest.mark.parametrize("offset", [-300, 300])
def test_a_key_exactly_300_seconds_off_is_still_inside_the_window(client, device, offset):
    """README: timestamps are accepted within ±300 s; a whole-second timestamp 300 s old was refused."""
    ts = str(int(time.time()) + offset)
    key = v1_key(device, SECRET_ID, SECRET, "GET", BASE, P + "/ping", timestamp=ts)
    reply = client.get(P + "/ping", headers={"key": key})
    assert reply.status_code == 200, reply.json


@pytest.mark.parametrize("order", ["memcached_down_then_up", "memcached_up_then_down"])
def test_a_v2_nonce_cannot_be_replayed_across_a_memcached_outage(memcached, order):  # noqa: F811
    """The nonce seen while memcached was down (or before it went down) was accepted a second time."""
    from core.app.factory import create_app

    app = create_app("test", overrides={"memcached": {"servers": memcached.address,
                                                      "options": {"timeout": 300, "retries": 0, "retry": 100}}})
    try:
        client = app.test_client()
        device = register(client)
        headers = v2_headers(device, SECRET_ID, SECRET, "GET", BASE, P + "/ping", None, nonce="outage-nonce-0123456789")
        if order == "memcached_down_then_up":
            memcached.kill()
            assert client.get(P + "/ping", headers=headers).status_code == 200
            memcached.start()
            time.sleep(0.3)  # past the client's retry delay (100 ms): memcached answers again
        else:
            assert client.get(P + "/ping", headers=headers).status_code == 200
            memcached.kill()
        replay = client.get(P + "/ping", headers=headers)
        assert replay.status_code == 401 and codes(replay) == ["NonceReused"], replay.json
    finally:
        app.config["mia.databases"].close_all()


@pytest.mark.parametrize("method", ["v1", "v2"])
def test_an_unencoded_utf8_query_verifies_on_the_development_server(live, method):
    """curl sends ``?q=é`` as raw UTF-8; werkzeug's dev server re-encoded it and every signature failed."""
    client = MiaClient(live, SECRET_ID, SECRET, method="v2", timeout=5)
    device = client.register_device(P + "/devices", {"culture": {"code": "en-gb"}})
    target = (P + "/ping?q=é").encode("utf-8")
    if method == "v2":
        headers = v2_headers(device, SECRET_ID, SECRET, "GET", live, target, b"")
    else:
        headers = {"key": v1_key(device, SECRET_ID, SECRET, "GET", live, target.decode("utf-8"))}
    status, payload = raw_request(live, "GET", target, headers)
    assert status == 200, payload


def test_the_deprecated_session_flow_refuses_a_disabled_secret(client):
    """Disabling a leaked secret ({"enabled": False}) must also close generic-accessKeyService."""
    device_id = register(client)
    Shared.models("generic-secret-model").collection().update_one({"id": SECRET_ID}, {"$set": {"enabled": False}})
    key = hashlib.md5((SECRET + device_id).encode()).hexdigest() + SECRET_ID
    reply = client.post(f"{P}/devices/{device_id}/sessions", headers={"key": key})
    assert reply.status_code == 403 and codes(reply) == ["AccessKeyInvalid"], reply.json


# ---------------------------------------------------------------------------------------------- client/
@pytest.mark.parametrize("method", ["v1", "v2"])
@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/vnd.api+json", None,
                                          "text/plain"])
def test_the_client_signs_every_json_content_type_as_the_server_checks_it(live, method, content_type):
    """v1 with ``application/json; charset=utf-8`` (or ``+json``) answered 401 KeyInvalid."""
    client = MiaClient(live, SECRET_ID, SECRET, method=method, timeout=5)
    client.register_device(P + "/devices", {"culture": {"code": "en-gb"}})
    for verb in ("POST", "PUT"):
        reply = client.request(verb, P + "/ping", data=b'{"a": 1}', content_type=content_type)
        assert reply.status == 200, (verb, reply.status, reply.json())


def test_the_client_reads_a_content_type_given_in_headers(live):
    client = MiaClient(live, SECRET_ID, SECRET, method="v1", timeout=5)
    client.register_device(P + "/devices", {"culture": {"code": "en-gb"}})
    reply = client.request("POST", P + "/ping", data=b'{"a": 1}', headers={"content-type": "application/json"})
    assert reply.status == 200, reply.json()


@pytest.mark.parametrize("method", ["v1", "v2"])
@pytest.mark.parametrize("path", ["/ping?q=é", "/ping?q=a b", "/ping?q=%C3%A9&x=a+b", "/ping?a=1&a=2&b=%2F"])
def test_the_client_sends_non_ascii_paths_instead_of_crashing(live, method, path):
    """``client.request("GET", "/x?q=é")`` raised UnicodeEncodeError inside urllib."""
    client = MiaClient(live, SECRET_ID, SECRET, method=method, timeout=5)
    client.register_device(P + "/devices", {"culture": {"code": "en-gb"}})
    reply = client.request("GET", P + path)
    assert reply.status == 200, (reply.status, reply.json())


# ---------------------------------------------------------------------------------------------- core/http/clientip.py
def test_an_ipv4_mapped_network_covers_ipv4_only():
    """``::ffff:0:0/96`` ("all IPv4") became 0.0.0.0/0 and then matched every IPv6 client too."""
    assert in_networks("10.1.2.3", ["::ffff:0:0/96"])
    assert not in_networks("2001:db8::1", ["::ffff:0:0/96"])
    assert in_networks("10.9.9.9", ["::ffff:10.0.0.0/104"]) and not in_networks("11.0.0.1", ["::ffff:10.0.0.0/104"])
    assert in_networks("::ffff:10.0.0.1", ["10.0.0.0/8"]) and in_networks("10.0.0.1", ["::ffff:10.0.0.1"])
    assert in_networks("2001:db8::1", ["0.0.0.0/0"]) and in_networks("10.0.0.1", ["::/0"])
    assert in_networks("fe80::5", ["fe80::1%eth0/64"]) and in_networks("10.0.0.1", "10.0.0.0/8")
    for bad in ["bogus", "1.2.3.4/", "1.2.3.4/33", None]:
        with pytest.raises(ValueError):
            parse_network(bad)


def test_forwarded_for_entries_with_ports_name_the_client_not_the_proxy():
    """``X-Forwarded-For: 203.0.113.7:51234`` (Azure, IIS) made the trusted proxy itself the client."""
    from core.app.factory import create_app

    app = create_app("test", overrides={"trustedProxies": ["127.0.0.0/8"]})
    try:
        client = app.test_client()

        def get(forwarded_for):
            return client.get(P + "/ping", headers={"key": STATIC, "X-Forwarded-For": forwarded_for},
                              environ_base={"REMOTE_ADDR": "127.0.0.1"})

        static_device(cidr=["127.0.0.0/8"])  # meant for local callers only
        assert get("203.0.113.7:51234").status_code == 403
        assert get("[2001:db8::7]:443").status_code == 403
        static_device(cidr=["203.0.113.0/24", "2001:db8::/32"])
        assert get("203.0.113.7:51234").status_code == 200
        assert get("[2001:db8::7]:443").status_code == 200
        assert get("10.0.0.1, 203.0.113.7").status_code == 200
    finally:
        app.config["mia.databases"].close_all()


def test_static_keys_with_ipv6_and_broken_access_lists(client):
    def get(ip):
        return client.get(P + "/ping", headers={"key": STATIC}, environ_base={"REMOTE_ADDR": ip})

    static_device(cidr=["2001:db8::/32"])
    assert get("2001:db8::5").status_code == 200
    assert get("2001:db9::5").status_code == 403 and get("10.0.0.1").status_code == 403
    static_device(cidr=["::/0"], blockcidr=["2001:db8::/32"])
    assert get("2001:db8::5").status_code == 403 and get("10.0.0.1").status_code == 200
    static_device(cidr="10.0.0.0/8")  # one CIDR stored as a plain string
    assert get("10.0.0.1").status_code == 200
    # A malformed entry fails closed with the default 500 entry; the stored list stays internal.
    for access in ({"cidr": ["10.0.0.0/8", "not-a-cidr"]}, {"cidr": ["0.0.0.0/0"], "blockcidr": [None]}):
        static_device(**access)
        reply = get("192.168.0.1")
        assert reply.status_code == 500 and codes(reply) == ["InternalServerError"], reply.json
        assert "cidr" not in reply.get_data(as_text=True).lower()


# ---------------------------------------------------------------------------------------------- user accounts
def test_sign_up_cannot_reuse_a_deleted_account_to_duplicate_an_active_email(client):
    """A deleted account that also matched was picked first: two active accounts then had one email."""
    a, b = register(client), register(client)
    bob = {"login": "bob@example.com", "password": "pw-secret-0"}
    assert signed(client, b, "POST", P + "/users/me", bob).status_code == 200
    signed(client, b, "POST", P + "/users/me/login/native", {"login": "bob@example.com", "password": "pw-secret-0"})
    assert signed(client, b, "DELETE", P + "/users/me").status_code == 200
    alice = signed(client, a, "POST", P + "/users/me", {"login": "alice@example.com", "password": "pw-secret-0"})
    assert alice.status_code == 200
    reply = signed(client, a, "POST", P + "/users/me",
                   {"login": "bob@example.com", "email": "alice@example.com", "password": "pw-secret-0"})
    assert reply.status_code == 401 and codes(reply) == ["LoginAlreadyExists"], reply.json
    assert users_col().count_documents({"status": "active", "messaging.value": "alice@example.com"}) == 1


def test_a_facebook_login_is_not_merged_after_an_email_change(custom, graph, monkeypatch):  # noqa: F811
    """Validate your own email, switch to the victim's: the victim's Facebook login landed in your account."""
    use_fake_graph(monkeypatch, graph)
    attacker = custom_device(custom)
    assert attacker.call("POST", "/users/me", {"login": "mallory@example.com", "password": "pw-secret-0",
                                               "name": "M"}).status_code == 200
    users_col().update_one({"login": "mallory@example.com"}, {"$set": {"messaging.0.validated": True,
                                                                       "validated": True}})
    etag = attacker.call("GET", "/users/me").headers["ETag"]
    changed = attacker.call("PUT", "/users/me", {"email": "jo@example.com"}, **{"If-Match": etag})
    assert changed.json["response"]["email"] == {"value": "jo@example.com", "validated": False}
    assert users_col().find_one({"login": "mallory@example.com"})["validated"] is False
    victim = custom_device(custom)
    reply = victim.call("POST", "/users/me/login/fb", {"fbUserToken": "merge-token"})
    assert reply.status_code == 401 and codes(reply) == ["EmailAddressIsNotValidated"], reply.json


def test_a_facebook_login_is_not_merged_into_a_login_that_only_equals_the_email(custom, graph,  # noqa: F811
                                                                                monkeypatch):
    """Sign up with login = the victim's address and a validated own email: the merge used to follow."""
    use_fake_graph(monkeypatch, graph)
    attacker = custom_device(custom)
    assert attacker.call("POST", "/users/me", {"login": "jo@example.com", "email": "mallory@example.com",
                                               "password": "pw-secret-0", "name": "M"}).status_code == 200
    users_col().update_one({"login": "jo@example.com"}, {"$set": {"messaging.0.validated": True, "validated": True}})
    victim = custom_device(custom)
    reply = victim.call("POST", "/users/me/login/fb", {"fbUserToken": "merge-token"})
    assert reply.status_code == 401 and codes(reply) == ["EmailAddressIsNotValidated"], reply.json


# ---------------------------------------------------------------------------------------------- demo todos
def test_a_huge_skip_answers_an_empty_page_not_a_500(client, monkeypatch):
    """pymongo cannot encode a skip above 2**63-1 (OverflowError -> 500 on a real MongoDB)."""
    model = Shared.models("demo-todos")
    original = model.find.__func__

    def find(cls, filter=None, projection=None, sort=None, skip=0, limit=0):
        bson.encode({"skip": skip, "limit": limit})  # what pymongo does before talking to a real server
        return original(cls, filter, projection, sort, skip, limit)

    monkeypatch.setattr(model, "find", classmethod(find))
    reply = client.get("/demo/v1/todo?skip=99999999999999999999")
    assert reply.status_code == 200 and reply.json == {"status": 200, "response": []}, reply.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------- probed, found right
@pytest.mark.parametrize("path,body", [
    ("/users/me/login/native", {"login": {"$ne": None}, "password": {"$ne": None}}),
    ("/users/me/requestPasswordReset", {"login": {"$ne": None}}),
    ("/users/me", {"login": {"$gt": ""}, "password": "x"}),
])
def test_operator_dicts_in_user_bodies_are_400(client, device, path, body):
    reply = signed(client, device, "POST", P + path, body)
    assert reply.status_code == 400 and set(codes(reply)) == {"UnexpectedType"}, reply.json


@pytest.mark.parametrize("path", ["/users/me/resetPassword", "/users/me/validate", "/users/me/invalidate"])
def test_operator_dicts_as_tokens_are_400(client, path):
    reply = client.post(P + path, json={"token": {"$ne": None}, "password": "x"})
    assert reply.status_code == 400 and reply.json["status"] == 400, reply.json


def test_non_latin_keys_are_refused_cleanly(client):
    for key in ("é" * 138, "é" * 32):
        reply = client.get(P + "/ping", headers={"key": key})
        assert reply.status_code == 401 and codes(reply) == ["KeyInvalid"]


def test_parallel_requests_with_one_nonce_let_exactly_one_through(app, device):
    headers = v2_headers(device, SECRET_ID, SECRET, "GET", BASE, P + "/ping", None, nonce="parallel-nonce-0123456789")
    results = in_parallel(app, 8, lambda c, _: c.get(P + "/ping", headers=headers).status_code)
    assert sorted(results) == [200] + [401] * 7, results


@pytest.mark.parametrize("value", ["2024-01-01", "2024-01-01T00:00:00", "1700000000000", "9999-12-31T23:59:59Z",
                                   "0001-01-01T00:00:00Z", "-1", "1e30", "99999999999999999999"])
def test_odd_request_dates_never_fail_the_request(client, device, value):
    key = v1_key(device, SECRET_ID, SECRET, "GET", BASE, P + "/ping")
    assert client.get(P + "/ping", headers={"key": key, "requestdate": value}).status_code in (200, 400)
    assert client.get(P + "/session/ping", headers={"session": "a" * 64, "date": value}).status_code in (400, 403)


def test_password_reset_token_is_single_use_and_logout_is_per_device(client):
    a, b = register(client), register(client)
    cred = {"login": "carol@example.com", "password": "pw-secret-1"}
    assert signed(client, a, "POST", P + "/users/me", cred).status_code == 200
    assert signed(client, a, "POST", P + "/users/me/login/native", cred).status_code == 200
    assert signed(client, b, "POST", P + "/users/me/login/native", cred).status_code == 200
    assert signed(client, a, "POST", P + "/users/me/logout").status_code == 200
    assert signed(client, a, "GET", P + "/users/me").status_code == 401
    assert signed(client, b, "GET", P + "/users/me").status_code == 200
    signed(client, b, "POST", P + "/users/me/requestPasswordReset", {"login": "carol@example.com"})
    token = users_col().find_one({"login": "carol@example.com"})["inspectTokens"]["passwordResetToken"]["token"]
    reset = client.post(P + "/users/me/resetPassword", json={"token": token, "password": "pw-secret-2"})
    assert reset.status_code == 200
    again = client.post(P + "/users/me/resetPassword", json={"token": token, "password": "pw-secret-3"})
    assert again.status_code == 401 and codes(again) == ["WrongOrMissingRequestParameter"]
    assert signed(client, b, "GET", P + "/users/me").status_code == 401  # the reset logged every device out
    again = signed(client, b, "POST", P + "/users/me/login/native", {**cred, "password": "pw-secret-2"})
    assert again.status_code == 200


def test_parallel_profile_updates_with_one_etag_let_exactly_one_through(app, client):
    device = register(client)
    cred = {"login": "dave@example.com", "password": "pw-secret-1"}
    signed(client, device, "POST", P + "/users/me", cred)
    signed(client, device, "POST", P + "/users/me/login/native", cred)
    etag = signed(client, device, "GET", P + "/users/me").headers["ETag"]

    def update(c, i):
        return signed(c, device, "PUT", P + "/users/me", {"login": f"dave{i}@example.com"},
                      **{"If-Match": etag}).status_code

    results = in_parallel(app, 6, update)
    assert sorted(results) == [200] + [412] * 5, results


def test_no_password_token_hash_or_secret_reaches_the_log(client, caplog):
    caplog.set_level(logging.DEBUG)
    device = register(client)
    cred = {"login": "erin@example.com", "password": "s3cret-pass"}
    signed(client, device, "POST", P + "/users/me", cred)
    signed(client, device, "POST", P + "/users/me/login/native", cred)
    signed(client, device, "POST", P + "/users/me/login/native", {**cred, "password": "wrong-pass"})
    signed(client, device, "POST", P + "/users/me/requestPasswordReset", {"login": "erin@example.com"})
    token = users_col().find_one({"login": "erin@example.com"})["inspectTokens"]["passwordResetToken"]["token"]
    client.post(P + "/users/me/resetPassword", json={"token": token, "password": "n3w-pass"})
    client.post(P + "/users/me/resetPassword", json={"token": token, "password": "n3w-pass"})
    client.get(P + "/ping", headers={"key": "0" * 32})
    client.get(P + "/ping", headers={"key": device + SECRET_ID + "1" * 74})
    pass_hash = users_col().find_one({"login": "erin@example.com"})["passHash"]
    for value in ["s3cret-pass", "wrong-pass", "n3w-pass", token, pass_hash, SECRET, "0" * 32]:
        assert value not in caplog.text, value


@pytest.mark.parametrize("body", [{"device": None}, {"device": "x"}, {"device": []}, {"culture": None}, {"app": None},
                                  {"device": {"os": None}}, {"device": {"screen": "1x2"}}, [], "x", None,
                                  {"culture": {"code": None}}, {"device": {"userAgent": "abc"}}])
def test_odd_device_profiles_answer_200_or_400(client, body):
    reply = client.post(P + "/devices", data=json.dumps(body),
                        headers={"Content-Type": "application/json", "User-Agent": "Mozilla/5.0 (iPhone)"})
    assert reply.status_code in (200, 400) and reply.json["status"] == reply.status_code, reply.get_data(as_text=True)


@pytest.mark.parametrize("body", [{"name": None}, {"name": ["a"]}, {"name": {"$gt": ""}}, {"status": None},
                                  {"name": "x", "status": ["checked"]}, {"name": "x", "_id": "abc"},
                                  {"name": "y", "group": "other"}, [], {"name": "z" * 201}])
def test_odd_todo_bodies_answer_200_or_400_and_store_clean_documents(client, body):
    reply = client.post("/demo/v1/todo", json=body)
    assert reply.status_code in (200, 400) and reply.json["status"] == reply.status_code, reply.get_data(as_text=True)
    if reply.status_code == 200:
        stored = Shared.models("demo-todos").collection().find_one({"name": body["name"]})
        assert stored["group"] == "demo" and isinstance(stored["_id"], bson.ObjectId), stored


@pytest.mark.parametrize("body", [{"name": None}, {"status": None}, {}, {"name": {"$set": 1}}, []])
def test_odd_todo_updates_leave_the_document_intact(client, body):
    todo_id = client.post("/demo/v1/todo", json={"name": "orig"}).json["response"]["id"]
    reply = client.put(f"/demo/v1/todo/{todo_id}", json=body)
    assert reply.status_code in (200, 400), reply.get_data(as_text=True)
    stored = Shared.models("demo-todos").collection().find_one({})
    assert stored["name"] == "orig" and stored["status"] == "unchecked", stored


def test_parallel_todos_with_one_name_give_one_200_and_409s(app):
    results = in_parallel(app, 8, lambda c, _: c.post("/demo/v1/todo", json={"name": "same"}).status_code)
    assert sorted(results) == [200] + [409] * 7, results


def test_parallel_first_lists_seed_the_examples_once(app):
    results = in_parallel(app, 8, lambda c, _: c.get("/demo/v1/todo").status_code)
    assert results == [200] * 8
    assert Shared.models("demo-todos").collection().count_documents({}) == 5


@pytest.mark.parametrize("query,status", [("skip=-0", 200), ("limit=0", 200), ("sort=NAME", 200), ("skip=1.5", 400),
                                          ("ascending=yes", 400), ("limit=", 400)])
def test_todo_paging_edge_cases(client, query, status):
    reply = client.get("/demo/v1/todo?" + query)
    assert reply.status_code == status and reply.json["status"] == status, reply.get_data(as_text=True)
