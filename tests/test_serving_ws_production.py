"""WebSocket routes on the production WebSocket server (gunicorn gthread on ``server.websocket``, beside
granian for HTTP): 200 idle sockets held, messages echoed meanwhile, an HTTP route answered, slow
clients harmless, and the listener stops with the server. Bounded: loopback, free ports, short waits."""
from __future__ import annotations

import json
import socket
import time

import pytest
import simple_websocket
from serving_fixtures import ServerProcess, free_ports, get, open_slow_clients, serving_tree

pytestmark = pytest.mark.timeout(150)
# routes never reach this database; a URL means several processes may serve (no embedded store)
UNREACHABLE = "mongodb://127.0.0.1:9/none?serverSelectionTimeoutMS=300"

ECHO_CONTROLLER = '''
from core import Controller

class Echo(Controller):
    identity = "echo"
    def on_message(self, ws, req, message):
        ws.send({"echo": message})
'''

WS_ROUTES = '''
routes = {"group": "w", "prefix": "/w", "routes": {
    "./echo": {"ws": {"identity": "echo-ws", "controller": [], "handler": {"name": "echo"}}},
}}
'''

HANDSHAKE = (b"GET /w/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


def open_idle(port: int, count: int) -> list[socket.socket]:
    """``count`` upgraded sockets that then say nothing (no client thread each)."""
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(HANDSHAKE)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk, "closed during the handshake"
            head += chunk
        assert head.startswith(b"HTTP/1.1 101"), head[:200]
        sockets.append(sock)
    return sockets


def test_idle_sockets_messages_and_http_together_on_the_production_websocket_server(tmp_path):
    http_port, ws_port = free_ports(2)
    server = {"http": {"host": "127.0.0.1", "port": http_port}, "websocket": {"port": ws_port, "connections": 400},
              "engine": "granian", "workers": 1}
    tree = serving_tree(tmp_path / "app", {"server": server, "mongoDatabases": {"t": {"url": UNREACHABLE}},
                                           "logLevel": "warn"})
    tree.write("projects/base/controllers/echo.py", ECHO_CONTROLLER)
    tree.write("projects/base/routes/w.py", WS_ROUTES)
    with ServerProcess(tree.root) as proc:
        proc.wait_ready(f"http://127.0.0.1:{http_port}/t/hello")
        proc.wait_ready(f"http://127.0.0.1:{ws_port}/t/hello")
        idle = open_idle(ws_port, 200)
        slow = open_slow_clients(ws_port, 50)
        try:
            client = simple_websocket.Client.connect(f"ws://127.0.0.1:{ws_port}/w/echo")
            try:
                for number in range(50):
                    client.send(f"m{number}")
                    assert json.loads(client.receive(timeout=5)) == {"echo": f"m{number}"}
            finally:
                client.close()
            status, _, body = get(f"http://127.0.0.1:{http_port}/t/hello", timeout=5)
            assert (status, body) == (200, {"status": 200, "response": "hello"})
            for sock in idle:  # every idle socket is still open: nothing was sent to it and it was not closed
                sock.setblocking(False)
                try:
                    assert sock.recv(1) != b"", "an idle socket was closed"
                except BlockingIOError:
                    pass
        finally:
            for sock in idle + slow:
                sock.close()
        out = proc.output()
        started = time.monotonic()
        code = proc.terminate()
    assert code == 0 and time.monotonic() - started < 40, out
    assert f"listening on ws://127.0.0.1:{ws_port} (WebSocket routes)" in out and "server: granian" in out
    assert "WebSocket routes: gunicorn gthread, up to 400 open sockets" in out
