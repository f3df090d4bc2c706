"""flask-sock WebSocket routes in production mode: granian serves HTTP (and answers a handshake
with 426 naming the WebSocket listener), the ``server.websocket`` listener carries the routes."""
from __future__ import annotations

import pytest
import simple_websocket
from serving_fixtures import ServerProcess, free_ports, get, serving_tree

pytestmark = pytest.mark.timeout(120)

ECHO = """
from flask_sock import Sock
sock = Sock(app)

@sock.route("/ws/echo")
def echo(ws):
    while True:
        ws.send("echo:" + ws.receive())
"""


@pytest.mark.parametrize("engine", ["granian", "threaded"])
def test_websocket_route_in_production_mode(tmp_path, engine):
    http_port, ws_port = free_ports(2)
    server = {"http": {"host": "127.0.0.1", "port": http_port}, "websocket": {"port": ws_port},
              "engine": engine, "workers": 1}
    tree = serving_tree(tmp_path / "app", {"server": server})
    with ServerProcess(tree.root, extra=ECHO) as proc:
        proc.wait_ready(f"http://127.0.0.1:{http_port}/t/hello")
        proc.wait_ready(f"http://127.0.0.1:{ws_port}/t/hello")
        client = simple_websocket.Client.connect(f"ws://127.0.0.1:{ws_port}/ws/echo")
        try:
            client.send("hi")
            assert client.receive(timeout=5) == "echo:hi"
        finally:
            client.close()
        if engine == "granian":  # granian's WSGI interface has no WebSockets: it says where to go
            status, _, body = get(f"http://127.0.0.1:{http_port}/ws/echo",
                                  headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                                           "Sec-WebSocket-Version": "13"})
            assert status == 426 and body["errors"][0]["code"] == "UseWebSocketListener"
            assert f"ws://127.0.0.1:{ws_port}" in body["errors"][0]["msg"]
        else:  # the threaded server carries WebSockets on every listener
            client = simple_websocket.Client.connect(f"ws://127.0.0.1:{http_port}/ws/echo")
            try:
                client.send("there")
                assert client.receive(timeout=5) == "echo:there"
            finally:
                client.close()
        out = proc.output()
    assert f"listening on ws://127.0.0.1:{ws_port} (WebSocket routes)" in out
    assert f"server: {engine}" in out
