"""Real counterparts for project tests: an SMTP sink (aiosmtpd) and a WebSocket client with timeouts.

Used by the fixtures ``mia_smtp`` and ``mia_ws`` of core/app/kit/testing.py. aiosmtpd is a
development requirement (requirements-dev.txt); it is imported when a test asks for the sink.
"""
from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from email.message import EmailMessage
from typing import Any


class SmtpSink:
    """An SMTP server on ``127.0.0.1:<port>`` that keeps every mail it receives, parsed.

    ``messages`` (``EmailMessage``, headers and parts readable), ``envelopes`` (mail from, rcpt to),
    ``connections`` (distinct client connections that delivered), ``wait(count, timeout)``.
    """

    def __init__(self, port: int) -> None:
        self.host, self.port = "127.0.0.1", port
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._peers: list[Any] = []
        self._arrived = threading.Condition()
        self._controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        with self._arrived:
            self._peers.append(tuple(session.peer))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            self._arrived.notify_all()
        return "250 OK"

    @property
    def connections(self) -> int:
        return len(set(self._peers))

    def wait(self, count: int = 1, timeout: float = 5.0) -> list[EmailMessage]:
        """The received mails once there are ``count``; AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.messages)} mail(s) arrived within {timeout} s, expected {count}")
                self._arrived.wait(left)
            return list(self.messages)

    def start(self) -> SmtpSink:
        try:
            from aiosmtpd.controller import Controller
        except ImportError as exc:  # a development requirement
            raise RuntimeError("mia_smtp needs aiosmtpd: pip install -r requirements-dev.txt") from exc
        self._controller = Controller(self, hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


class WsClient:
    """A connected WebSocket client: ``receive(timeout)`` (JSON decoded when it is JSON), ``send``, ``close``."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        import simple_websocket  # comes with flask-sock

        self.url = url
        self._socket = simple_websocket.Client.connect(url, headers=headers or None)

    def receive(self, timeout: float = 5.0) -> Any:
        """The next message (a dict/list for JSON text); AssertionError when none arrives in ``timeout`` s."""
        message = self._socket.receive(timeout=timeout)
        if message is None:
            raise AssertionError(f"no WebSocket message within {timeout} s on {self.url}")
        if isinstance(message, str):
            try:
                return json.loads(message)
            except ValueError:
                return message
        return message

    def send(self, message: Any) -> None:
        self._socket.send(message if isinstance(message, (str, bytes)) else json.dumps(message))

    def close(self) -> None:
        self._socket.close()

    @property
    def connected(self) -> bool:
        return bool(self._socket.connected)
