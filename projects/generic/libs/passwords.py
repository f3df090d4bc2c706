"""Password hashes: argon2id with a per-user salt; legacy mia.js md5 hashes verify once.

mia.js stored ``md5(password + salt + group)`` with one salt for everybody (spec §3.1, §10.4).
Those hashes still verify here, so migrated accounts keep working, and the caller replaces them
with an argon2id hash on the first successful login.

argon2 is slow and memory-hard on purpose, so every hash and verification runs in a bounded pool
(``generic-identity.passwordHashing``: ``concurrency`` at once per process): a flood of logins
queues here instead of taking every CPU from the other routes. The queue is bounded too, because a
waiting request holds a server thread that other routes need: at most ``maxWaiting`` callers wait,
each at most ``queueTimeout`` seconds; any other caller answers 503 ServerBusy with ``Retry-After``
at once.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core import Lib, MiaError, Shared

_LEGACY = re.compile(r"^[0-9a-f]{32}$")


class Passwords(Lib):
    identity = "generic-passwords"
    version = "1.0"

    def __init__(self) -> None:
        self.hasher = PasswordHasher()  # argon2id, random 16-byte salt per hash
        self._dummy: str | None = None
        self._pool: threading.BoundedSemaphore | None = None
        self._pool_size = 0
        self._pool_guard = threading.Lock()
        self._waiting = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        """One of ``passwordHashing.concurrency`` hashing slots; 503 ServerBusy when the queue is full
        (``maxWaiting``) or after ``queueTimeout`` seconds in it."""
        settings = Shared.config("generic-identity.passwordHashing") or {}
        size = max(1, int(settings.get("concurrency") or 2))
        with self._pool_guard:
            if self._pool is None or self._pool_size != size:
                self._pool, self._pool_size = threading.BoundedSemaphore(size), size
            pool = self._pool
        if not pool.acquire(blocking=False):
            with self._pool_guard:
                if self._waiting >= int(settings.get("maxWaiting", 2 * size)):
                    raise MiaError(503, code="ServerBusy", headers={"Retry-After": "1"})
                self._waiting += 1
            try:
                acquired = pool.acquire(timeout=float(settings.get("queueTimeout") or 2))
            finally:
                with self._pool_guard:
                    self._waiting -= 1
            if not acquired:
                raise MiaError(503, code="ServerBusy", headers={"Retry-After": "1"})
        try:
            yield
        finally:
            pool.release()

    def _pooled(self, work: Callable[..., Any], *args: Any) -> Any:
        with self.slot():
            return work(*args)

    def hash(self, password: str) -> str:
        return self._pooled(self.hasher.hash, password)

    @staticmethod
    def legacy_hash(password: str, salt: str, group: str) -> str:
        """mia.js's hash, only for verifying old accounts."""
        return hashlib.md5((password + salt + group).encode("utf-8")).hexdigest()

    def verify(self, stored: Any, password: str, group: str = "", salt: str = "") -> tuple[bool, bool]:
        """``(matches, needs_new_hash)``; never raises for a malformed stored value."""
        if not isinstance(stored, str) or not stored or not isinstance(password, str):
            self.burn(password)
            return False, False
        if _LEGACY.match(stored):
            legacy = self.legacy_hash(password, salt, group)
            return hmac.compare_digest(stored.encode(), legacy.encode()), True
        try:
            self._pooled(self.hasher.verify, stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False, False
        return True, self.hasher.check_needs_rehash(stored)

    def burn(self, password: Any) -> None:
        """Spend the time of one verification, so an unknown login answers as slowly as a known one."""
        if self._dummy is None:
            self._dummy = self.hash("dummy password for timing")
        try:
            self._pooled(self.hasher.verify, self._dummy, str(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            pass
