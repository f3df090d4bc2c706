"""The WebSocket hub of a process: who is connected to which ``ws`` route, and broadcasts to them.

``Shared.ws("/demo/v1/live/todos").broadcast(message, to={"account": "acme"})`` from a controller,
lib or cron job reaches every matching connection on that path in every process: this process's
sockets at once (in-process), the others through :mod:`core.data.broadcast`. The hub is made by
the app factory and registered in ``Shared`` (which imports nothing from here).

A connection's ``tags`` (``account``, ``username``, ``groups`` from the JWT session, ``device``
from a signed key, plus whatever a handler adds) are what ``to`` is matched against: every key of
``to`` must equal the tag, or be in it when the tag is a list. ``conn.filter`` is a per-subscription
predicate on top (``conn.filter = lambda message: message["todo"]["status"] == "checked"``).
Messages are queued per connection and written by the connection's own thread, so one slow client
never holds up a broadcast; a client whose queue overflows is closed (1008).
"""
from __future__ import annotations

import json
import logging
import os
import queue
import secrets
import socket
import threading
from collections.abc import Callable
from typing import Any

from core.data.jsonutil import dumps

log = logging.getLogger("mia.websocket")
POLICY_VIOLATION = 1008
MAX_QUEUED = 1000


def encode(message: Any) -> str | bytes:
    """What goes on the wire: dict/list as JSON text, bytes as a binary frame, anything else as text."""
    if isinstance(message, (bytes, str)):
        return message
    if isinstance(message, (dict, list)):
        return dumps(message)
    return str(message)


def matches(to: dict[str, Any] | None, tags: dict[str, Any]) -> bool:
    """Whether a connection with ``tags`` is addressed by ``to`` (None: everybody)."""
    if not to:
        return True
    for key, wanted in to.items():
        have = tags.get(key)
        if isinstance(have, (list, tuple, set)):
            if wanted not in have:
                return False
        elif have != wanted:
            return False
    return True


class Connection:
    """One open socket, as handlers see it (``ws``): send, close, tags, filter, session."""

    def __init__(self, server: Any, path: str, req: Any, route: Any) -> None:
        self.id = secrets.token_hex(8)
        self.server = server  # simple_websocket.Server
        self.path = path
        self.req = req
        self.route = route
        mia = getattr(req, "mia", None)
        self.session: dict[str, Any] | None = getattr(mia, "session", None)
        self.device: dict[str, Any] | None = getattr(mia, "device", None)
        self.tags: dict[str, Any] = {}
        if self.session:
            self.tags.update({k: self.session.get(k) for k in ("account", "username", "groups")})
        if isinstance(self.device, dict) and self.device.get("id"):
            self.tags["device"] = self.device["id"]
        self.filter: Callable[[Any], bool] | None = None
        self.outbox: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.closing: tuple[int, str] | None = None

    def send(self, message: Any) -> None:
        """Queue ``message`` (dict/list -> JSON); the connection's thread writes it."""
        if self.outbox.qsize() >= MAX_QUEUED:
            self.close(POLICY_VIOLATION, "Client too slow")
            return
        self.outbox.put(("send", encode(message)))
        self._wake()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close with ``code`` (1000 normal, 1008 policy, 1011 error) once queued messages are written."""
        if self.closing is None:
            self.closing = (code, reason)
            self.outbox.put(("close", (code, reason)))
            self._wake()

    def deliver(self, message: Any, text: str | bytes) -> None:
        """A broadcast for this connection: through its filter, then queued."""
        if self.filter is not None:
            try:
                if not self.filter(message):
                    return
            except Exception:  # noqa: BLE001 - a broken filter skips the message, never the broadcast
                log.warning("filter of connection %s on %s raised", self.id, self.path, exc_info=True)
                return
        if self.outbox.qsize() >= MAX_QUEUED:
            self.close(POLICY_VIOLATION, "Client too slow")
            return
        self.outbox.put(("send", text))
        self._wake()

    def _wake(self) -> None:
        event = getattr(self.server, "event", None)
        if event is not None:
            event.set()


class Channel:
    """What ``Shared.ws(path)`` answers: broadcast to (and count) the connections of one path."""

    def __init__(self, hub: Hub, path: str) -> None:
        self.hub = hub
        self.path = path

    def broadcast(self, message: Any, to: dict[str, Any] | None = None) -> None:
        """Send ``message`` to every connection on this path, in every process, whose tags match ``to``."""
        self.hub.broadcast(self.path, message, to)

    def connections(self) -> list[Connection]:
        """The connections of this path in this process."""
        return self.hub.local(self.path)

    def count(self) -> int:
        return len(self.hub.local(self.path))


class Hub:
    """This process's connections per path, and its end of the broadcast bus."""

    def __init__(self, paths: set[str], bus: Any = None) -> None:
        self.id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.paths = set(paths)
        self.bus = bus
        self._connections: dict[str, dict[str, Connection]] = {}
        self._lock = threading.Lock()

    def channel(self, path: str) -> Channel:
        if path not in self.paths:
            raise KeyError(f"no WebSocket route is declared for {path!r} (ws routes: {', '.join(sorted(self.paths))})")
        return Channel(self, path)

    def local(self, path: str) -> list[Connection]:
        with self._lock:
            return list(self._connections.get(path, {}).values())

    def add(self, conn: Connection) -> None:
        with self._lock:
            self._connections.setdefault(conn.path, {})[conn.id] = conn
        if self.bus is not None:
            self.bus.start(self.receive)

    def remove(self, conn: Connection) -> None:
        with self._lock:
            self._connections.get(conn.path, {}).pop(conn.id, None)
            empty = not any(self._connections.values())
        if empty and self.bus is not None:
            self.bus.idle()

    def broadcast(self, path: str, message: Any, to: dict[str, Any] | None = None) -> None:
        if path not in self.paths:
            raise KeyError(f"no WebSocket route is declared for {path!r}")
        text = encode(message)
        self._deliver_local(path, message, text, to)
        if self.bus is not None:
            self.bus.publish(path, text, dict(to) if to else None)

    def receive(self, doc: dict[str, Any]) -> None:
        """A message another process published (called by the bus's poller)."""
        text = doc.get("text") or ""
        message: Any
        if isinstance(text, (bytes, bytearray)):
            text = message = bytes(text)
        else:
            try:
                message = json.loads(text)
            except ValueError:
                message = text
        self._deliver_local(doc.get("channel", ""), message, text, doc.get("to"))

    def _deliver_local(self, path: str, message: Any, text: str | bytes, to: dict[str, Any] | None) -> None:
        for conn in self.local(path):
            if matches(to, conn.tags):
                conn.deliver(message, text)

    def close_all(self) -> None:
        """Shutdown (``Shared.reset`` calls this): stop polling and close every socket."""
        if self.bus is not None:
            self.bus.stop()
        with self._lock:
            conns = [c for per_path in self._connections.values() for c in per_path.values()]
        for conn in conns:
            conn.close(1001, "Server going away")
