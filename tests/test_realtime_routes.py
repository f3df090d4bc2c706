"""``ws`` route declarations: compiled at start-up (bad ones stop it, naming the file), described in the
OpenAPI document next to the bearer security schemes."""
from __future__ import annotations

import pytest

from core.errors import StartupError

HANDLER = '''
from core import Controller

class Feed(Controller):
    identity = "feed"
    def on_connect(self, ws, req):
        ws.send({"hello": True})
'''


def write_ws(tree, method):
    tree.write("projects/base/controllers/feed.py", HANDLER)
    tree.write("projects/base/routes/ws.py", f"routes = {{'group': 'w', 'prefix': '/w', 'routes': {{'./feed': "
                                             f"{{'ws': {method!r}}}}}}}")


def test_a_ws_route_compiles_without_controllers(tree):
    write_ws(tree, {"identity": "feed", "handler": {"name": "feed"}, "maxMessageSize": "2kb"})
    app = tree.app()
    (route,) = [r for r in app.config["mia.routes"] if r.is_websocket]
    assert route.path == "/w/feed" and route.max_message_size == 2048
    assert route.socket.on_connect is not None and route.socket.on_message is None
    assert app.config["mia.hub"].paths == {"/w/feed"}
    reply = app.test_client().get("/w/feed")  # a plain request
    assert reply.status_code == 426 and reply.json["errors"][0]["code"] == "UpgradeRequired"


@pytest.mark.parametrize(("method", "message"), [
    ({"handler": {"name": "nobody"}}, "does not exists"),
    ({"handler": {"name": "feed", "onMessage": "missing"}}, "missing does not exists"),
    ({"handler": "feed"}, "handler of"),
    ({"handler": {"name": "feed"}, "maxMessageSize": "lots"}, "size like"),
])
def test_bad_ws_routes_stop_start_up(tree, method, message):
    write_ws(tree, method)
    with pytest.raises(StartupError, match=message) as failed:
        tree.app()
    assert "ws.py" in str(failed.value)


def test_ws_only_keys_on_http_routes_stop_start_up(tree):
    tree.write("projects/base/routes/ws.py", "routes = {'prefix': '/w', 'routes': {'./x': {'get': "
                                             "{'controller': [{'name': 'out'}], 'maxMessageSize': '1kb'}}}}")
    with pytest.raises(StartupError, match="only apply to 'ws' routes"):
        tree.app()


def test_openapi_describes_bearer_routes_and_websockets(client):
    document = client.get("/docs/openapi.json").json
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerJWT"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                    "description": schemes["bearerJWT"]["description"]}
    assert schemes["bearerJWTQuery"]["in"] == "query" and schemes["bearerJWTQuery"]["name"] == "access_token"
    me = document["paths"]["/demo/v1/me"]["get"]
    assert me["security"] == [{"bearerJWT": []}]
    assert me["x-policy"] == {"groups": ["users"], "groupPolicy": "at_least_one"}
    assert "TokenExpired" in me["responses"]["401"]["description"]
    assert "GroupPolicyViolation" in me["responses"]["403"]["description"]
    live = document["paths"]["/demo/v1/live/todos"]
    assert set(live) == {"x-websocket"}  # no get operation: nothing sends it a plain GET
    socket = live["x-websocket"]
    assert socket["responses"]["101"]["description"].startswith("Switching Protocols")
    assert "200" not in socket["responses"] and "403" in socket["responses"]
    assert socket["security"] == [{"bearerJWT": []}, {"bearerJWTQuery": []}]
    assert [p["name"] for p in socket["parameters"] if p["in"] == "query"] == ["access_token"]
    keyed = document["paths"]["/demo-auth/v1/live/todos"]["x-websocket"]
    assert {"signedKeyV1": []} in keyed["security"]
