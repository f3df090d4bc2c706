"""Helpers of the realtime tests: a demo user with a JWT, raw handshakes, and WebSocket frames read by hand."""
from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import struct
import urllib.request
from typing import Any

from core.shared import Shared

PASSWORD = "correct horse battery"
STATIC_KEY = "9cd43d5622a2fa78b67b3412a2d8c614"  # seeded by projects/demo/init (demo value)
JWT_FEED = "/demo/v1/live/todos"
KEY_FEED = "/demo-auth/v1/live/todos"


def add_demo_user(login: str = "grace") -> None:
    """A generic-users account of the group ``demo`` (what sign-up would store)."""
    users = Shared.models("generic-user-model")
    users.collection().insert_one(users.validate({
        "login": login, "group": "demo", "nativeLoginIsSet": True, "status": "active",
        "passHash": Shared.libs("generic-passwords").hash(PASSWORD)}))


def post_json(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def login(base: str, login_name: str = "grace") -> dict[str, Any]:
    status, body = post_json(f"{base}/demo/v1/token", {"login": login_name, "password": PASSWORD})
    assert status == 200, body
    return body["response"]


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://", 1) + path


def handshake(base: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """An upgrade request by hand: (status, headers, body) of a refused handshake, or of the 101."""
    host = base.split("//", 1)[1]
    conn = http.client.HTTPConnection(host, timeout=10)
    conn.request("GET", path, headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                       "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
                                       "Sec-WebSocket-Version": "13", **(headers or {})})
    reply = conn.getresponse()
    body = reply.read() if reply.status != 101 else b""
    conn.close()
    return reply.status, {k.lower(): v for k, v in reply.getheaders()}, body


def raw_socket(base: str, path: str, headers: dict[str, str] | None = None) -> socket.socket:
    """A client that completes the handshake and then never answers anything (a dead phone)."""
    host, port = base.split("//", 1)[1].split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}", "Sec-WebSocket-Version: 13"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, "server closed during the handshake"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def read_frames(sock: socket.socket) -> list[tuple[int, bytes]]:
    """Every (opcode, payload) the server sends until it closes the TCP connection."""
    data = b""
    while True:
        try:
            chunk = sock.recv(4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    frames, index = [], 0
    while index + 2 <= len(data):
        opcode, length = data[index] & 0x0F, data[index + 1] & 0x7F
        index += 2
        if length == 126:
            length = struct.unpack("!H", data[index:index + 2])[0]
            index += 2
        elif length == 127:
            length = struct.unpack("!Q", data[index:index + 8])[0]
            index += 8
        frames.append((opcode, data[index:index + length]))
        index += length
    return frames
