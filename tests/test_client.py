"""client against a live server on loopback: registration, v1 and v2 requests, clock correction."""
from __future__ import annotations

import hashlib
import hmac

import pytest

from client import MiaClient, v2_canonical, v2_headers

P = "/api/tests/generic/v1"
SECRET_ID, SECRET = "6ff870ad33a86982550543e2f92623c5", "10f2bde9a138ef5aeed40812b0a1594b"  # generic demo secret




@pytest.mark.parametrize("method", ["v1", "v2"])
def test_register_and_signed_requests(live, method):
    client = MiaClient(live, SECRET_ID, SECRET, method=method, timeout=5)
    device_id = client.register_device(P + "/devices", {"culture": {"code": "en-gb"}})
    assert len(device_id) == 32 and client.device_id == device_id
    reply = client.request("GET", P + "/ping?page=2&q=a%20b")
    assert reply.status == 200 and reply.json() == {"status": 200}
    assert int(reply.headers["timestamp"]) > 0
    updated = client.request("PUT", f"{P}/devices/{device_id}", json={"device": {"model": "Pixel"}})
    assert updated.status == 200 and updated.json()["response"] == {"id": device_id}
    signup = client.request("POST", P + "/users/me", json={"login": f"{method}@example.com", "password": "pw-secret-0"})
    assert signup.status == 200 and signup.json()["response"]["login"] == f"{method}@example.com"


def test_wrong_secret_is_reported_not_raised(live):
    client = MiaClient(live, SECRET_ID, "0" * 32)
    client.register_device(P + "/devices")
    reply = client.request("GET", P + "/ping")
    assert reply.status == 401 and reply.json()["errors"][0]["code"] == "KeyInvalid"
    assert reply.headers["www-authenticate"].startswith('Token realm="http://127.0.0.1:')


@pytest.mark.parametrize("method", ["v1", "v2"])
def test_clock_offset_is_learnt_from_the_timestamp_header(live, method):
    client = MiaClient(live, SECRET_ID, SECRET, method=method)
    client.register_device(P + "/devices")
    client.clock_offset = -3600.0  # this device's clock is an hour late
    reply = client.request("GET", P + "/ping")
    assert reply.status == 200
    assert abs(client.clock_offset) < 5


def test_v2_headers_follow_the_documented_canonical_string():
    headers = v2_headers("a" * 32, "b" * 32, "s" * 32, "PATCH", "https://api.example.com", "/x?y=1", b'{"a":1}',
                         timestamp="1700000000", nonce="0123456789abcdef", content_type="application/json")
    canonical = b"\n".join([b"MIA-HMAC-SHA256", b"a" * 32, b"b" * 32, b"1700000000", b"0123456789abcdef", b"PATCH",
                            b"https://api.example.com", b"/x?y=1", b"application/json",
                            hashlib.sha256(b'{"a":1}').hexdigest().encode()])
    assert v2_canonical("a" * 32, "b" * 32, "1700000000", "0123456789abcdef", "PATCH", "https://api.example.com",
                        "/x?y=1", b'{"a":1}', "application/json") == canonical
    signature = hmac.new(b"s" * 32, canonical, hashlib.sha256).hexdigest()
    assert headers == {"key": "a" * 32 + "b" * 32 + "1700000000" + signature, "signaturemethod": "hmac-sha256",
                       "nonce": "0123456789abcdef"}


def test_client_refuses_unusable_settings():
    with pytest.raises(ValueError):
        MiaClient("localhost:3000", SECRET_ID, SECRET)
    with pytest.raises(ValueError):
        MiaClient("http://localhost:3000", SECRET_ID, SECRET, method="v3")
    with pytest.raises(RuntimeError):
        MiaClient("http://localhost:3000", SECRET_ID, SECRET).signed_headers("GET", "/x")
