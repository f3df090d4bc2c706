"""WebSocket routes against a live server on loopback: the handshake runs the chain, broadcasts arrive, dead
clients are reaped by the ping, oversized messages close the socket.

The app is the repository's (environment ``test``) with ``websocket.pingInterval`` 0.3 s, served by
werkzeug's threaded server (tests/conftest.py ``serve_live``).
"""
from __future__ import annotations

import json
import logging
import time

import pytest
import simple_websocket
from realtime_kit import (
    JWT_FEED,
    KEY_FEED,
    STATIC_KEY,
    add_demo_user,
    handshake,
    login,
    post_json,
    raw_socket,
    read_frames,
    ws_url,
)

from conftest import ROOT, serve_live
from core.app.factory import create_app
from core.shared import Shared

PING = 0.3


@pytest.fixture
def live_ws():
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_app("test", ROOT, overrides={"websocket": {"pingInterval": PING}})
    add_demo_user()
    with serve_live(app) as url:
        yield url, app
    app.config["mia.hub"].close_all()
    app.config["mia.databases"].close_all()


def connect(url, path, **headers):
    return simple_websocket.Client.connect(ws_url(url, path), headers=headers or None)


def receive_json(ws, timeout=1.0):
    message = ws.receive(timeout=timeout)
    assert message is not None, f"nothing arrived within {timeout} s"
    return json.loads(message)


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


# ------------------------------------------------------------------------------------------ handshake
def test_handshake_without_token_is_refused_with_the_json_envelope(live_ws):
    url, app = live_ws
    status, headers, body = handshake(url, JWT_FEED)
    assert status == 401
    assert json.loads(body) == {"status": 401, "errors": [
        {"code": "TokenMissing", "msg": "Authentication required: send Authorization: Bearer <token>"}]}
    assert headers["www-authenticate"].startswith('Bearer realm="http://')
    with pytest.raises(simple_websocket.ConnectionError) as refused:
        connect(url, JWT_FEED)
    assert refused.value.status_code == 401
    status, _, body = handshake(url, JWT_FEED, {"Authorization": "Bearer not.a.token"})
    assert status == 401 and json.loads(body)["errors"][0]["code"] == "TokenInvalid"
    assert app.config["mia.hub"].local(JWT_FEED) == []  # nothing was ever upgraded


def test_handshake_with_a_token_is_accepted_header_or_query(live_ws):
    url, _ = live_ws
    token = login(url)["accessToken"]
    by_header = connect(url, JWT_FEED, Authorization=f"Bearer {token}")
    assert receive_json(by_header) == {"event": "welcome", "username": "grace"}  # the on_connect hook
    by_query = simple_websocket.Client.connect(ws_url(url, f"{JWT_FEED}?access_token={token}"))
    assert receive_json(by_query) == {"event": "welcome", "username": "grace"}
    by_header.close()
    by_query.close()


def test_handshake_runs_the_policy(live_ws):
    url, _ = live_ws
    outsider = Shared.libs("generic-jwtKeys").sign({"sub": "eve", "account": "demo", "groups": ["guests"]})[0]
    status, _, body = handshake(url, JWT_FEED, {"Authorization": f"Bearer {outsider}"})
    assert status == 403
    assert json.loads(body)["errors"][0]["code"] == "GroupPolicyViolation"


def test_handshake_with_access_key(live_ws):
    url, _ = live_ws
    status, _, body = handshake(url, KEY_FEED)  # the key header is a required precondition
    assert status == 400 and json.loads(body)["errors"][0] == {
        "code": "MissingRequiredParameter", "id": "key", "in": "header",
        "msg": "key is required but invalid value or no value given"}
    status, headers, body = handshake(url, KEY_FEED, {"key": "0" * 32})
    assert status == 401 and json.loads(body)["errors"][0]["code"] == "KeyInvalid"
    assert "timestamp" in headers  # generic-validateAccessKey's headers on the refusal too
    device = connect(url, KEY_FEED, key=STATIC_KEY)
    assert receive_json(device) == {"event": "welcome", "username": None}
    device.close()


def test_unknown_websocket_path_is_the_json_404(live_ws):
    url, _ = live_ws
    status, _, body = handshake(url, "/demo/v1/nothing/here")
    assert status == 404 and json.loads(body)["errors"][0]["code"] == "NotFound"


def test_plain_get_on_a_websocket_route_answers_426(live_ws):
    url, _ = live_ws
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as plain:
        urllib.request.urlopen(f"{url}{JWT_FEED}", timeout=5)
    assert plain.value.code == 426
    assert json.loads(plain.value.read())["errors"][0]["code"] == "UpgradeRequired"
    assert plain.value.headers["Upgrade"] == "websocket"


# ------------------------------------------------------------------------------------------ broadcast
def test_broadcast_caused_by_http_reaches_two_clients_within_one_second(live_ws):
    url, _ = live_ws
    token = login(url)["accessToken"]
    first = connect(url, JWT_FEED, Authorization=f"Bearer {token}")
    second = connect(url, KEY_FEED, key=STATIC_KEY)
    third = connect(url, JWT_FEED, Authorization=f"Bearer {token}")
    for ws in (first, second, third):
        receive_json(ws)  # welcome
    status, created = post_json(f"{url}/demo/v1/todo", {"name": "Broadcast me"})
    assert status == 200
    for ws in (first, second, third):
        event = receive_json(ws, timeout=1.0)
        assert event["event"] == "created"
        assert event["todo"]["name"] == "Broadcast me" and event["todo"]["_id"] == created["response"]["id"]
    for ws in (first, second, third):
        ws.close()


def test_per_subscription_filter_and_tags(live_ws):
    url, _ = live_ws
    token = login(url)["accessToken"]
    ws = connect(url, JWT_FEED, Authorization=f"Bearer {token}")
    receive_json(ws)
    ws.send(json.dumps({"status": "checked"}))  # the handler sets ws.filter
    assert receive_json(ws) == {"event": "filter", "status": "checked"}
    post_json(f"{url}/demo/v1/todo", {"name": "Still open"})
    post_json(f"{url}/demo/v1/todo", {"name": "Already done", "status": "checked"})
    assert receive_json(ws)["todo"]["name"] == "Already done"  # the unchecked one was filtered out
    ws.send(json.dumps({"status": None}))
    assert receive_json(ws) == {"event": "filter", "status": None}
    channel = Shared.ws(JWT_FEED)
    channel.broadcast({"only": "other tenant"}, to={"account": "acme"})
    channel.broadcast({"only": "editors"}, to={"groups": "editors"})  # grace's groups: ["users"]
    channel.broadcast({"only": "users"}, to={"groups": "users"})
    channel.broadcast({"only": "grace"}, to={"account": "demo", "username": "grace"})
    assert receive_json(ws) == {"only": "users"}  # the session's account, username and groups are the tags
    assert receive_json(ws) == {"only": "grace"}
    assert ws.receive(timeout=0.3) is None
    ws.close()


def test_disconnect_hook_and_count(live_ws):
    url, app = live_ws
    ws = connect(url, KEY_FEED, key=STATIC_KEY)
    receive_json(ws)
    assert Shared.ws(KEY_FEED).count() == 1
    ws.close()
    assert wait_until(lambda: Shared.ws(KEY_FEED).count() == 0)
    with pytest.raises(KeyError):
        Shared.ws("/demo/v1/not-a-socket")


# ------------------------------------------------------------------------------------------ liveness and limits
def test_dead_client_is_reaped_by_the_ping(live_ws):
    url, app = live_ws
    alive = connect(url, KEY_FEED, key=STATIC_KEY)  # answers pings (simple_websocket does it in its thread)
    receive_json(alive)
    dead = raw_socket(url, KEY_FEED, {"key": STATIC_KEY})  # handshakes, then never answers a ping
    assert wait_until(lambda: Shared.ws(KEY_FEED).count() == 2)
    frames = read_frames(dead)  # until the server hangs up
    opcodes = [opcode for opcode, _ in frames]
    assert 0x9 in opcodes  # it was pinged
    close = [payload for opcode, payload in frames if opcode == 0x8]
    assert close and int.from_bytes(close[0][:2], "big") == 1008  # policy violation: ping/pong timeout
    assert opcodes.count(0x9) <= 10  # hung up after a few unanswered pings, not left open
    assert wait_until(lambda: Shared.ws(KEY_FEED).count() == 1)  # reaped; the live one stays
    Shared.ws(KEY_FEED).broadcast({"still": "here"})
    assert receive_json(alive) == {"still": "here"}
    alive.close()
    dead.close()


def test_message_over_the_route_limit_closes_with_1009(live_ws):
    url, _ = live_ws
    ws = connect(url, KEY_FEED, key=STATIC_KEY)
    receive_json(ws)
    ws.send("x" * 2048)  # the route allows 1kb
    with pytest.raises(simple_websocket.ConnectionClosed) as closed:
        while True:
            ws.receive(timeout=5)
    assert closed.value.reason == 1009


def test_socket_is_closed_with_1008_when_its_session_expires(live_ws):
    import jwt as pyjwt

    url, _ = live_ws
    now = int(time.time())
    claims = {"sub": "grace", "account": "demo", "groups": ["users"], "iat": now - 60, "exp": now - 29,
              "iss": "mia.py", "aud": "mia.py-demo"}  # expired, but inside the 30 s leeway for about a second
    token = pyjwt.encode(claims, "demo-only-jwt-secret-0f5b2c7e9a4d4e1f8c3b", algorithm="HS256",
                         headers={"kid": "demo-1"})  # the test environment's demo key
    ws = connect(url, JWT_FEED, Authorization=f"Bearer {token}")
    assert receive_json(ws)["event"] == "welcome"
    with pytest.raises(simple_websocket.ConnectionClosed) as closed:
        while True:
            ws.receive(timeout=5)
    assert closed.value.reason == 1008 and closed.value.message == "Session expired"
    assert wait_until(lambda: Shared.ws(JWT_FEED).count() == 0)
