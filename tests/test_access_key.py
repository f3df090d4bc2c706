"""generic-validateAccessKey end to end: v1 (mia.js SDK format), v2 (HMAC + nonce), static keys, client IP."""
from __future__ import annotations

import hashlib
import json
import logging
import time

import pytest

from client import v1_key, v2_headers
from core import Shared

P = "/api/tests/generic/v1"
SECRET_ID, SECRET = "6ff870ad33a86982550543e2f92623c5", "10f2bde9a138ef5aeed40812b0a1594b"  # generic demo secret
DEMO_SECRET_ID, DEMO_SECRET = "91205b43c5144068ee9979b093925f77", "74168c7a1868ddeee3355fab9489914b"
BASE = "http://localhost"


def mia_key(method, scheme, host_header, path_and_query, body_text, device_id, secret_id, secret, clock_offset_s=0):
    """Written from the spec's §1.9 description of the mia.js SDKs, independently of client."""
    ts = str(int(time.time() + clock_offset_s))
    body_hash = hashlib.sha256(body_text.lower().encode("utf-8")).hexdigest() if body_text else ""
    material = (device_id + secret + ts + method.upper() + scheme.lower() + "://" + host_header.lower()
                + path_and_query + body_hash).lower()
    return device_id + secret_id + ts + hashlib.sha256(material.encode("utf-8")).hexdigest()


def register(client, culture="en-gb"):
    body = {"culture": {"code": culture}} if culture else {}
    reply = client.post(P + "/devices", json=body)
    assert reply.status_code == 200
    return reply.json["response"]["id"]


def devices():
    return Shared.models("generic-device-model").collection()


def send_v1(client, device_id, method, path, body=None, secret_id=SECRET_ID, secret=SECRET, offset=0, **kw):
    ts = str(int(time.time() + offset))
    headers = {"key": v1_key(device_id, secret_id, secret, method, BASE, path, body, timestamp=ts)}
    if body is not None:
        headers["Content-Type"] = "application/json"
    headers.update(kw.pop("headers", {}))
    return client.open(path, method=method, headers=headers, data=body, **kw)


@pytest.fixture
def device(client):
    return register(client)


def assert_error(reply, status, code):
    assert reply.status_code == status, reply.get_data(as_text=True)
    assert reply.json["status"] == status
    assert [e["code"] for e in reply.json["errors"]] == [code]


def assert_timestamp_header(reply):
    server_ms = int(reply.headers["timestamp"])
    assert abs(server_ms / 1000 - time.time()) < 5


# ---------------------------------------------------------------------------------------- v1
def test_key_from_the_documented_mia_js_algorithm_is_accepted(client, device):
    path = P + "/ping?b=2&a=hello%20world"
    key = mia_key("GET", "http", "localhost", path, None, device, SECRET_ID, SECRET)
    reply = client.get(path, headers={"key": key})
    assert reply.status_code == 200 and reply.json == {"status": 200}
    assert_timestamp_header(reply)

    body = json.dumps({"name": "Buy milk", "Count": 2})
    key = mia_key("POST", "http", "localhost", P + "/ping", body, device, SECRET_ID, SECRET)
    reply = client.post(P + "/ping", data=body, headers={"key": key, "Content-Type": "application/json"})
    assert reply.status_code == 200


def test_v1_signature_covers_path_query_and_body(client, device):
    path = P + "/ping?item=1"
    key = v1_key(device, SECRET_ID, SECRET, "GET", BASE, path)
    assert client.get(path, headers={"key": key}).status_code == 200
    assert_error(client.get(P + "/ping?item=2", headers={"key": key}), 401, "KeyInvalid")  # tampered query
    assert_error(client.get(P + "/users/me/optional?item=1", headers={"key": key}), 401, "KeyInvalid")  # other path

    body = json.dumps({"amount": 10})
    key = v1_key(device, SECRET_ID, SECRET, "POST", BASE, P + "/ping", body)
    tampered = client.post(P + "/ping", data=json.dumps({"amount": 1000}),
                           headers={"key": key, "Content-Type": "application/json"})
    assert_error(tampered, 401, "KeyInvalid")
    assert tampered.headers["WWW-Authenticate"] == f'Token realm="http://localhost{P}"'
    # mia.js compatibility: v1 lower-cases the body before hashing, so a case change is not detected.
    same_but_upper = client.post(P + "/ping", data=json.dumps({"AMOUNT": 10}),
                                 headers={"key": key, "Content-Type": "application/json"})
    assert same_but_upper.status_code == 200


def test_v1_wrong_secret_and_unknown_secret_look_the_same(client, device):
    assert_error(send_v1(client, device, "GET", P + "/ping", secret="f" * 32), 401, "KeyInvalid")
    assert_error(send_v1(client, device, "GET", P + "/ping", secret_id="a" * 32), 401, "KeyInvalid")
    # A secret of another group with a wrong signature says nothing about its groups ...
    assert_error(send_v1(client, device, "GET", P + "/ping", secret_id=DEMO_SECRET_ID, secret="0" * 32),
                 401, "KeyInvalid")
    # ... only a correct signature learns that the secret does not cover this group.
    assert_error(send_v1(client, device, "GET", P + "/ping", secret_id=DEMO_SECRET_ID, secret=DEMO_SECRET),
                 403, "KeyInvalidForGroup")


def test_disabled_secret_is_refused(client, device):
    Shared.models("generic-secret-model").collection().insert_one(
        {"id": "b" * 32, "secret": "c" * 32, "groups": ["generic"], "enabled": False})
    assert_error(send_v1(client, device, "GET", P + "/ping", secret_id="b" * 32, secret="c" * 32), 401, "KeyInvalid")


@pytest.mark.parametrize("offset", [-301, 301])
def test_expired_and_future_timestamps(client, device, offset):
    reply = send_v1(client, device, "GET", P + "/ping", offset=offset)
    assert_error(reply, 401, "KeyExpired")
    assert reply.json["errors"][0]["msg"] == "Key is expired"
    assert_timestamp_header(reply)
    assert reply.headers["WWW-Authenticate"].startswith('Token realm="http://localhost')


def test_clock_skew_inside_the_window_is_accepted(client, device):
    assert send_v1(client, device, "GET", P + "/ping", offset=-250).status_code == 200
    assert send_v1(client, device, "GET", P + "/ping", offset=250).status_code == 200


def test_unknown_disabled_and_inactive_devices(client, device):
    assert_error(send_v1(client, "d" * 32, "GET", P + "/ping"), 401, "DeviceIdInvalid")
    assert devices().find_one({"id": device})["status"] == "inactive"
    assert send_v1(client, device, "GET", P + "/ping").status_code == 200
    assert devices().find_one({"id": device})["status"] == "active"  # the first signed request activates it
    devices().update_one({"id": device}, {"$set": {"status": "disabled"}})
    reply = send_v1(client, device, "GET", P + "/ping")
    assert_error(reply, 403, "TemporaryDisabled")
    assert "WWW-Authenticate" not in reply.headers
    assert_timestamp_header(reply)


def test_malformed_keys(client, device):
    assert_error(client.get(P + "/ping", headers={"key": device + "a"}), 401, "KeyInvalid")  # 33 characters
    assert_error(client.get(P + "/ping", headers={"key": device + SECRET_ID + "12345"}), 401, "KeyExpired")
    assert_error(client.get(P + "/ping", headers={"key": device + SECRET_ID + "notanumber" + "0" * 64}), 401,
                 "KeyInvalid")
    missing = client.get(P + "/ping")
    assert missing.status_code == 400
    assert missing.json["errors"][0]["code"] == "MissingRequiredParameter"
    assert missing.json["errors"][0]["in"] == "header"
    bogus = client.get(P + "/ping", headers={"key": "x" * 138, "signaturemethod": "md5"})
    assert bogus.status_code == 400 and bogus.json["errors"][0]["code"] == "ValueNotAllowed"


def test_keys_and_signatures_are_never_logged(client, device, caplog):
    caplog.set_level(logging.DEBUG)
    ts = str(int(time.time()))
    key = v1_key(device, SECRET_ID, SECRET, "GET", BASE, P + "/ping", timestamp=ts)
    expected = key[74:]
    wrong = key[:74] + "0" * 64
    assert client.get(P + "/ping", headers={"key": wrong}).status_code == 401
    assert expected not in caplog.text and wrong not in caplog.text and SECRET not in caplog.text


# ---------------------------------------------------------------------------------------- v2
def send_v2(client, device_id, method, path, body=None, content_type="application/json", nonce=None, sign=None):
    headers = v2_headers(device_id, SECRET_ID, SECRET, sign or method, BASE, path, body, nonce=nonce,
                         content_type=content_type if body is not None else None)
    if body is not None:
        headers["Content-Type"] = content_type
    return client.open(path, method=method, headers=headers, data=body)


def test_v2_valid_and_replayed_nonce(client, device):
    body = json.dumps({"name": "Buy milk"})
    assert send_v2(client, device, "POST", P + "/ping", body, nonce="n0nce-" + "a" * 20).status_code == 200
    replay = send_v2(client, device, "POST", P + "/ping", body, nonce="n0nce-" + "a" * 20)
    assert_error(replay, 401, "NonceReused")
    assert_timestamp_header(replay)
    assert send_v2(client, device, "POST", P + "/ping", body).status_code == 200  # a fresh nonce works


def test_v2_detects_body_case_changes_and_method_case(client, device):
    signed = v2_headers(device, SECRET_ID, SECRET, "POST", BASE, P + "/ping", '{"name":"milk"}',
                        content_type="application/json")
    reply = client.post(P + "/ping", data='{"name":"Milk"}', headers={**signed, "Content-Type": "application/json"})
    assert_error(reply, 401, "KeyInvalid")
    # The method is signed exactly as sent: "post" on the wire is not "POST" in the signature.
    assert_error(send_v2(client, device, "post", P + "/ping", "{}", sign="POST"), 401, "KeyInvalid")
    assert send_v2(client, device, "post", P + "/ping", "{}").status_code == 200


def test_v2_covers_query_and_non_json_bodies(client, device):
    path = P + "/ping?Sort=Name&q=%41"
    headers = v2_headers(device, SECRET_ID, SECRET, "GET", BASE, path)
    assert client.get(path, headers=headers).status_code == 200
    other = v2_headers(device, SECRET_ID, SECRET, "GET", BASE, path)
    assert_error(client.get(P + "/ping?Sort=name&q=%41", headers=other), 401, "KeyInvalid")
    assert send_v2(client, device, "PUT", P + "/ping", "plain text", content_type="text/plain").status_code == 200
    text_headers = v2_headers(device, SECRET_ID, SECRET, "PUT", BASE, P + "/ping", "plain text",
                              content_type="text/plain")
    tampered = client.put(P + "/ping", data="plain texT", headers={**text_headers, "Content-Type": "text/plain"})
    assert_error(tampered, 401, "KeyInvalid")


def test_v2_rejects_a_v1_signature_and_bad_nonces(client, device):
    key = v1_key(device, SECRET_ID, SECRET, "GET", BASE, P + "/ping")
    headers = {"key": key, "signaturemethod": "hmac-sha256", "nonce": "x" * 32}
    assert_error(client.get(P + "/ping", headers=headers), 401, "KeyInvalid")
    assert_error(send_v2(client, device, "GET", P + "/ping", nonce="short"), 401, "NonceInvalid")
    no_nonce = v2_headers(device, SECRET_ID, SECRET, "GET", BASE, P + "/ping")
    del no_nonce["nonce"]
    assert_error(client.get(P + "/ping", headers=no_nonce), 401, "NonceInvalid")


def test_v2_nonce_guard_in_the_database_honours_expiry(client, device):
    nonce = "expiring-nonce-0001"
    assert send_v2(client, device, "GET", P + "/ping", nonce=nonce).status_code == 200
    store = Shared.models("generic-nonce-model").collection()
    assert store.count_documents({}) >= 1
    assert_error(send_v2(client, device, "GET", P + "/ping", nonce=nonce), 401, "NonceReused")
    # The embedded store has no TTL monitor: an expired entry must not block the nonce forever.
    store.update_many({}, {"$set": {"expires": store.find_one()["created"].replace(year=2000)}})
    assert send_v2(client, device, "GET", P + "/ping", nonce=nonce).status_code == 200


# ---------------------------------------------------------------------------------------- static keys
STATIC = "5f4dcc3b5aa765d61d8327deb882cf99"


def static_device(**access):
    devices().delete_many({"access.key": STATIC})
    document = {"id": "e" * 32, "status": access.pop("status", "active"), "culture": {"language": "en", "region": "gb"},
                "access": {"key": STATIC, "groups": ["generic"], **access}}
    if "rateLimit" in document["access"]:
        document["rateLimit"] = document["access"].pop("rateLimit")
    devices().delete_many({"id": document["id"]})
    devices().insert_one(document)


def get_static(client, ip="127.0.0.1", **headers):
    return client.get(P + "/ping", headers={"key": STATIC, **headers}, environ_base={"REMOTE_ADDR": ip})


def test_static_key_inside_and_outside_cidr(client):
    static_device(cidr=["10.0.0.0/8"])
    reply = get_static(client, "10.1.2.3")
    assert reply.status_code == 200
    assert_timestamp_header(reply)
    assert_error(get_static(client, "192.168.1.1"), 403, "IPNotAllowed")
    assert get_static(client, "::ffff:10.9.9.9").status_code == 200  # IPv4-mapped IPv6 peer
    query = client.get(P + f"/ping/query?key={STATIC}", environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert query.status_code == 200


def test_static_key_blocked_cidr_and_missing_cidr(client):
    static_device(cidr=["0.0.0.0/0"], blockcidr=["10.0.0.0/8"])
    assert_error(get_static(client, "10.1.2.3"), 403, "IPNotAllowed")
    assert get_static(client, "11.1.2.3").status_code == 200
    assert get_static(client, "2001:db8::1").status_code == 200  # 0.0.0.0/0 means everyone, as in mia.js
    static_device()
    assert_error(get_static(client, "10.1.2.3"), 403, "IPNotAllowed")


def test_static_key_groups_status_and_unknown_key(client):
    static_device(cidr=["0.0.0.0/0"], groups=["demo"])
    assert_error(get_static(client), 403, "KeyInvalidForGroup")
    static_device(cidr=["0.0.0.0/0"], groups=["generic"])
    assert get_static(client).status_code == 200
    static_device(cidr=["0.0.0.0/0"], status="inactive")
    assert_error(get_static(client), 403, "TemporaryDisabled")
    reply = client.get(P + "/ping", headers={"key": "0" * 32})
    assert_error(reply, 401, "KeyInvalid")
    assert "WWW-Authenticate" in reply.headers


def test_static_key_rate_limit_per_device(client):
    static_device(cidr=["0.0.0.0/0"], rateLimit={"interval": 5, "maxRequests": 2})
    first, second, third = (get_static(client) for _ in range(3))
    assert first.status_code == second.status_code == 200
    assert second.headers["X-Rate-Limit-Remaining"] == "0"
    assert_error(third, 429, "RateLimitExceededForKey")
    assert third.headers["X-Rate-Limit-Limit"] == "2" and third.headers["X-Rate-Limit-Remaining"] == "0"
    assert int(third.headers["X-Rate-Limit-Reset"]) <= 300


def test_demo_static_key_is_seeded_for_the_demo_group(client):
    reply = client.get("/demo-auth/v1/todo", headers={"key": "9cd43d5622a2fa78b67b3412a2d8c614"})
    assert reply.status_code == 200


# ---------------------------------------------------------------------------------------- client IP / proxies
def test_spoofed_forwarded_for_is_ignored_without_trusted_proxy(client):
    static_device(cidr=["10.0.0.0/8"])
    assert_error(get_static(client, "127.0.0.1", **{"X-Forwarded-For": "10.1.1.1"}), 403, "IPNotAllowed")


def test_forwarded_headers_honoured_from_a_trusted_proxy():
    from core.app.factory import create_app

    app = create_app("test", overrides={"trustedProxies": ["127.0.0.0/8"]})
    try:
        client = app.test_client()
        static_device(cidr=["10.0.0.0/8"])
        assert get_static(client, "127.0.0.1", **{"X-Forwarded-For": "192.168.0.9, 10.1.1.1"}).status_code == 200
        # Only the trusted peer counts: the same header from elsewhere is the caller's own claim.
        assert_error(get_static(client, "172.16.0.1", **{"X-Forwarded-For": "10.1.1.1"}), 403, "IPNotAllowed")
        # X-Forwarded-Proto from the proxy decides the scheme that is signed.
        device = register(client)
        key = v1_key(device, SECRET_ID, SECRET, "GET", "https://localhost", P + "/ping")
        assert client.get(P + "/ping", headers={"key": key, "X-Forwarded-Proto": "https"}).status_code == 200
        spoofed = client.get(P + "/ping", headers={"key": key, "X-Forwarded-Proto": "https"},
                             environ_base={"REMOTE_ADDR": "172.16.0.1"})
        assert_error(spoofed, 401, "KeyInvalid")
    finally:
        app.config["mia.databases"].close_all()
