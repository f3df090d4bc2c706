"""Client mistakes answer a 4xx JSON envelope, never a 500 or a traceback (issue 13, findings 5, 6 and 8).

Also: v2 signs the Content-Type (a switched charset breaks the signature), CORS never reflects an
arbitrary Origin together with credentials.
"""
from __future__ import annotations

import json
import logging
import socket
from urllib.parse import urlsplit

import pytest
from memcached_fixtures import memcached  # noqa: F401 - fixture

from client import v1_key, v2_headers
from core.http.cors import cors_headers

P = "/api/tests/generic/v1"
SECRET_ID, SECRET = "6ff870ad33a86982550543e2f92623c5", "10f2bde9a138ef5aeed40812b0a1594b"  # generic demo secret
BASE = "http://localhost"
SURROGATE = '"\\ud800"'  # a lone surrogate: valid JSON syntax, not encodable as UTF-8


def register(client) -> str:
    reply = client.post(P + "/devices", json={"culture": {"code": "en-gb"}})
    assert reply.status_code == 200
    return reply.json["response"]["id"]


def no_traceback(caplog) -> None:
    for record in caplog.records:
        assert record.exc_info is None, record.getMessage()
        assert "Traceback" not in record.getMessage()
        assert record.levelno < logging.ERROR, record.getMessage()


def assert_client_error(reply, status: int | None = None) -> None:
    assert 400 <= reply.status_code < 500, reply.data
    body = reply.json
    assert body["status"] == reply.status_code and body["errors"][0]["code"] != "InternalServerError"
    if status is not None:
        assert reply.status_code == status


@pytest.mark.parametrize("path,text,signed", [
    ("/demo/v1/todo", f'{{"name": {SURROGATE}}}', False),
    ("/demo-auth/v1/devices", f'{{"culture": {{"code": "en-gb"}}, "device": {{"name": {SURROGATE}}}}}', False),
    (P + "/users/me", f'{{"login": {SURROGATE}, "email": "a@example.com", "password": "correct horse 9"}}', True),
    (P + "/users/me/login/native", f'{{"login": "a@example.com", "password": {SURROGATE}}}', True),
])
def test_a_lone_surrogate_in_json_is_400(client, caplog, path, text, signed):
    caplog.set_level(logging.INFO)
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["key"] = v1_key(register(client), SECRET_ID, SECRET, "POST", BASE, path, text)
    reply = client.post(path, data=text.encode(), headers=headers)
    assert_client_error(reply, 400)
    no_traceback(caplog)


def test_a_lone_surrogate_in_a_todo_update_is_400(client, caplog):
    created = client.post("/demo/v1/todo", json={"name": "surrogate target"}).json["response"]["id"]
    caplog.set_level(logging.INFO)
    reply = client.put(f"/demo/v1/todo/{created}", data=f'{{"name": {SURROGATE}}}',
                       headers={"Content-Type": "application/json"})
    assert_client_error(reply, 400)
    no_traceback(caplog)


@pytest.mark.parametrize("charset", ["punycode", "utf-7", "base64", "idna"])
def test_an_odd_charset_is_4xx(client, caplog, charset):
    caplog.set_level(logging.INFO)
    reply = client.post("/demo/v1/todo", data=b'{"name": "charset probe"}',
                        headers={"Content-Type": f"application/json; charset={charset}"})
    assert_client_error(reply, 415)
    no_traceback(caplog)


def raw(base: str, payload: bytes) -> tuple[int, bytes]:
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(payload)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


@pytest.mark.parametrize("chunk", [b"zz", b"-5", b"g"])
def test_a_bad_chunk_size_is_400(live, caplog, chunk):
    caplog.set_level(logging.INFO)
    request = (b"POST /demo/v1/todo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
               b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + b"\r\n{}\r\n0\r\n\r\n")
    status, body = raw(live, request)
    assert status == 400
    assert json.loads(body)["errors"][0]["code"] == "BadRequest"
    no_traceback(caplog)


@pytest.mark.parametrize("value", ["bytes=999999-", "bytes=5-2", "bytes=x"])
def test_a_bad_range_on_an_asset_is_416_or_ignored_and_never_an_internal_error(client, caplog, value):
    caplog.set_level(logging.INFO)
    reply = client.get("/demo/assets/style.css", headers={"Range": value})
    if reply.status_code != 200:  # a malformed Range may be ignored (RFC 9110); an unsatisfiable one is 416
        assert reply.status_code == 416
        assert reply.json["errors"][0]["code"] == "RangeNotSatisfiable"
        assert reply.headers["Content-Range"].startswith("bytes */")
    no_traceback(caplog)


# ------------------------------------------------------------------------------------- v2 signs Content-Type
def test_v2_breaks_when_the_content_type_is_switched(client):
    device = register(client)
    body = b'{"name": "milk"}'
    headers = v2_headers(device, SECRET_ID, SECRET, "POST", BASE, P + "/ping", body,
                         content_type="application/json; charset=utf-8")
    good = client.post(P + "/ping", data=body, headers={**headers, "Content-Type": "application/json; charset=utf-8"})
    assert good.status_code == 200, good.json
    headers = v2_headers(device, SECRET_ID, SECRET, "POST", BASE, P + "/ping", body,
                         content_type="application/json; charset=utf-8")
    switched = client.post(P + "/ping", data=body,
                           headers={**headers, "Content-Type": "application/json; charset=latin-1"})
    assert switched.status_code == 401 and switched.json["errors"][0]["code"] == "KeyInvalid"


# ------------------------------------------------------------------------------------------------------ CORS
def test_cors_star_with_credentials_never_reflects_an_origin():
    headers = cors_headers({"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": True},
                           "https://evil.example", "GET")
    reflected = headers.get("Access-Control-Allow-Origin") == "https://evil.example"
    assert not (reflected and headers.get("Access-Control-Allow-Credentials") == "true")
    assert headers.get("Access-Control-Allow-Origin") == "*"
    assert "Access-Control-Allow-Credentials" not in headers


def test_cors_star_without_credentials_still_answers_the_origin():
    headers = cors_headers({"Access-Control-Allow-Origin": "*"}, "https://app.example", "GET")
    assert headers["Access-Control-Allow-Origin"] == "https://app.example" and headers["Vary"] == "Origin"


def test_cors_credentials_with_a_listed_origin_are_kept():
    configured = {"Access-Control-Allow-Origin": ["https://app.example"], "Access-Control-Allow-Credentials": True}
    good = cors_headers(configured, "https://app.example", "GET")
    assert good["Access-Control-Allow-Origin"] == "https://app.example"
    assert good["Access-Control-Allow-Credentials"] == "true"
    other = cors_headers(configured, "https://evil.example", "GET")
    assert "Access-Control-Allow-Origin" not in other and "Access-Control-Allow-Credentials" not in other


# ------------------------------------------------------------------------ 5. nonces during a memcached outage
def test_fresh_v2_nonces_are_accepted_once_while_memcached_is_down(memcached):  # noqa: F811
    """memcached's client answers ``add`` with False while a killed server waits for its retry: not a reuse."""
    from core.app.factory import create_app

    app = create_app("test", overrides={"memcached": {"servers": memcached.address}})  # default retry: 5 s
    try:
        client = app.test_client()
        device = register(client)
        first = v2_headers(device, SECRET_ID, SECRET, "GET", BASE, P + "/ping", None)
        assert client.get(P + "/ping", headers=first).status_code == 200  # memcached up
        memcached.kill()
        for number in range(3):
            headers = v2_headers(device, SECRET_ID, SECRET, "GET", BASE, P + "/ping", None)
            fresh = client.get(P + "/ping", headers=headers)
            assert fresh.status_code == 200, (number, fresh.json)
            replay = client.get(P + "/ping", headers=headers)
            assert replay.status_code == 401 and replay.json["errors"][0]["code"] == "NonceReused"
        again = client.get(P + "/ping", headers=first)
        assert again.status_code == 401 and again.json["errors"][0]["code"] == "NonceReused"
    finally:
        app.config["mia.databases"].close_all()


# ------------------------------------------------------------------------------- 4. access logs
@pytest.mark.parametrize("args", [
    ('"PUT /demo-auth/v1/devices/0123456789abcdef0123456789abcdef HTTP/1.1" 200 -',),  # werkzeug
    {"r": "GET /api/v1/todo?key=9cd43d5622a2fa78b67b3412a2d8c614 HTTP/1.1",  # gunicorn's atoms
     "U": "/demo-auth/v1/devices/0123456789abcdef0123456789abcdef", "q": "key=9cd43d5622a2fa78b67b3412a2d8c614"},
])
def test_access_logs_carry_no_key_and_no_device_id(args):
    from core.app.logs import RedactQueryKeys

    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%s", None, None)
    record.args = args
    RedactQueryKeys().filter(record)
    text = repr(record.args)
    assert "0123456789abcdef0123456789abcdef" not in text and "key=9cd43d" not in text
