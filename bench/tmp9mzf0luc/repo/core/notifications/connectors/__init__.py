"""Connectors deliver one rendered message to one recipient and report failures in one shape.

A connector raises ``DeliveryError``: ``permanent`` failures (a dead device token, a refused
address, a bad template) reject the queue item at once; the others (a server that is down, a
timeout, a refused login, a throttled provider) are retried with backoff until the attempts run out.
``reason`` is a short code (APNs's ``reason``, FCM's ``errorCode``, an SMTP exception name) that the
status document counts; ``clear_token`` asks the processor to remove the device's push token.
"""
from __future__ import annotations

import os
import ssl
import threading
from collections.abc import Callable
from typing import Any


class DeliveryError(Exception):
    """A message that could not be delivered; ``str()`` is the text stored as the item's lastError."""

    def __init__(self, reason: str, message: str = "", *, permanent: bool = False,
                 clear_token: bool = False) -> None:
        super().__init__(f"{reason}: {message}" if message else reason)
        self.reason = reason
        self.permanent = permanent
        self.clear_token = clear_token


def verify_context(settings: dict[str, Any]) -> ssl.SSLContext | bool:
    """TLS verification for an HTTPS connector: the system CAs, or ``caFile`` (a private CA) instead."""
    ca_file = settings.get("caFile")
    return ssl.create_default_context(cafile=ca_file) if ca_file else True


class ClientCache:
    """One client per settings key and process: a provider token and an HTTP/2 connection are reused.

    A forked worker makes its own (the parent's connection is not shared across processes); ``close_all``
    closes this process's clients. The cached object needs ``pid`` and ``close()``.
    """

    def __init__(self) -> None:
        self._clients: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        with self._lock:
            found = self._clients.get(key)
            if found is None or found.pid != os.getpid():
                found = self._clients[key] = make()
            return found

    def close_all(self) -> None:
        with self._lock:
            for found in self._clients.values():
                if found.pid == os.getpid():
                    found.close()
            self._clients.clear()
