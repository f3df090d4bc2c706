"""The cache backends: memcached (pymemcache) when configured, else an in-process store.

``Cached`` (core/data/cache.py) and the rate limits (core/http/ratelimit.py) sit on top of these.

Configuration (environment ``memcached``, mia.js's keys)::

    "memcached": {"servers": "10.0.0.1:11211,10.0.0.2:11211",   # or a list; a list = a cluster
                  "flushOnStart": False,                           # flush_all when the app starts
                  "options": {"timeout": 500, "retries": 2, "retry": 5000}}  # ms, count, ms

Why this shape: rate limits and ``Cached`` must keep working when memcached is down (an outage
is never a 500), so every backend call here either answers or raises :class:`CacheError`, and
the callers decide (rate limits fail open, ``Cached`` calls the function). Timeouts are always
set (pymemcache's default is "forever"). Values are JSON text, never pickles: memcached is a
shared network service and unpickling what it returns would run code.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

from core.errors import StartupError
from core.shared import Shared

log = logging.getLogger("mia.cache")
DEFAULT_TIMEOUT_MS = 500
DEFAULT_RETRY_MS = 5000
DEFAULT_RETRIES = 2
LOCAL_MAX_ITEMS = 100_000


def clock() -> float:
    """Wall-clock seconds; module-level so tests can move time (``monkeypatch.setattr``)."""
    return time.time()


class CacheError(Exception):
    """The cache could not answer (memcached down, timed out, marked dead, rejected the value)."""


def hashed_key(namespace: str, key: str) -> str:
    """A memcached-safe key (ASCII, no spaces, short) for any identifier."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"mia:{namespace}:{digest}"


def _to_bytes(value: bytes | str | int) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


class LocalStore:
    """A thread-safe in-process TTL store with memcached's get/set/add/incr/delete semantics.

    Serves a single process only: with several workers every worker counts on its own.
    """

    kind = "local"

    def __init__(self, max_items: int = LOCAL_MAX_ITEMS) -> None:
        self._items: dict[str, tuple[bytes, float | None]] = {}
        self._lock = threading.Lock()
        self._max_items = max_items
        self._writes = 0

    @staticmethod
    def _deadline(expire: int) -> float | None:
        return time.monotonic() + expire if expire and expire > 0 else None

    def _live(self, key: str) -> bytes | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[1] is not None and item[1] <= time.monotonic():
            del self._items[key]
            return None
        return item[0]

    def _store(self, key: str, value: bytes, expire: int) -> None:
        self._items.pop(key, None)
        self._items[key] = (value, self._deadline(expire))
        self._writes += 1
        if self._writes % 256 == 0 or len(self._items) > self._max_items:
            now = time.monotonic()
            for stale in [k for k, (_, dl) in self._items.items() if dl is not None and dl <= now]:
                del self._items[stale]
            while len(self._items) > self._max_items:  # oldest writes go first
                del self._items[next(iter(self._items))]

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._live(key)

    def set(self, key: str, value: bytes | str | int, expire: int = 0) -> bool:
        with self._lock:
            self._store(key, _to_bytes(value), expire)
        return True

    def add(self, key: str, value: bytes | str | int, expire: int = 0) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._store(key, _to_bytes(value), expire)
        return True

    def incr(self, key: str, delta: int = 1) -> int | None:
        with self._lock:
            current = self._live(key)
            if current is None:
                return None
            value = int(current) + delta
            self._items[key] = (str(value).encode(), self._items[key][1])
            return value

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._items.pop(key, None) is not None

    def flush_all(self) -> None:
        with self._lock:
            self._items.clear()

    def close_all(self) -> None:
        """Nothing to close; kept so ``Shared.reset`` can treat every handle alike."""


MEMCACHED_RELATIVE_MAX = 30 * 24 * 3600  # memcached reads a larger expiry as a unix time


def memcached_expiry(expire: Any) -> int:
    """Seconds from now as memcached understands them: past 30 days it wants an absolute unix time."""
    seconds = max(int(expire), 0)
    return int(clock()) + seconds if seconds > MEMCACHED_RELATIVE_MAX else seconds


class MemcachedStore:
    """pymemcache ``HashClient`` behind the same interface; every failure is a :class:`CacheError`."""

    kind = "memcached"

    def __init__(self, client: Any) -> None:
        self.client = client

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, name)(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - socket errors, timeouts, server errors, dead nodes
            raise CacheError(f"memcached {name} failed: {type(exc).__name__}: {exc}") from exc

    def get(self, key: str) -> bytes | None:
        return self._call("get", key)

    def set(self, key: str, value: bytes | str | int, expire: int = 0) -> bool:
        if self._call("set", key, _to_bytes(value), expire=memcached_expiry(expire), noreply=False) is not True:
            raise CacheError("memcached set was not stored (server failing or value too large)")
        return True

    def add(self, key: str, value: bytes | str | int, expire: int = 0) -> bool:
        # noreply=False: with pymemcache's default noreply, ``add`` always says True.
        return bool(self._call("add", key, _to_bytes(value), expire=memcached_expiry(expire), noreply=False))

    def incr(self, key: str, delta: int = 1) -> int | None:
        value = self._call("incr", key, delta, noreply=False)
        if value is False:  # HashClient answers its default while a failed node waits for a retry
            raise CacheError("memcached incr failed: server marked as failing")
        return None if value is None else int(value)

    def delete(self, key: str) -> bool:
        return bool(self._call("delete", key, noreply=False))

    def flush_all(self) -> None:
        self._call("flush_all", noreply=False)

    def close_all(self) -> None:
        try:
            self.client.close()
        except Exception:  # noqa: BLE001 - closing a broken connection is harmless
            log.debug("error closing the memcached client", exc_info=True)


def parse_servers(value: Any) -> list[tuple[str, int]]:
    """``"h:p,h2:p2"`` or ``["h:p", ("h", p)]`` -> ``[(host, port), ...]``; raises StartupError."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    servers = []
    for item in items:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            host, port = str(item[0]), item[1]
        else:
            text = str(item).strip()
            if not text:
                continue
            host, _, port = text.rpartition(":")
            if not host:
                host, port = text, 11211
        try:
            servers.append((host.strip("[]"), int(port)))
        except (TypeError, ValueError):
            raise StartupError(f"memcached server {item!r} must look like 'host:port'") from None
    return servers


def make_client(settings: dict[str, Any]) -> Any:
    """A pymemcache HashClient over the configured servers, with timeouts always set."""
    from pymemcache.client.hash import HashClient

    servers = parse_servers(settings.get("servers"))
    if not servers:
        raise StartupError("memcached is configured but 'servers' is empty")
    options = settings.get("options") or {}
    timeout = float(options.get("timeout", DEFAULT_TIMEOUT_MS)) / 1000
    retry = float(options.get("retry", DEFAULT_RETRY_MS)) / 1000
    return HashClient(servers, connect_timeout=timeout, timeout=timeout, no_delay=True,
                      use_pooling=True, max_pool_size=options.get("poolSize"), pool_idle_timeout=60,
                      retry_attempts=int(options.get("retries", DEFAULT_RETRIES)), retry_timeout=retry,
                      dead_timeout=retry, ignore_exc=False, default_noreply=False)


def build_backend(environment: dict[str, Any]) -> LocalStore | MemcachedStore:
    """memcached when ``environment.memcached.servers`` is set, else an in-process store."""
    settings = environment.get("memcached") or {}
    if not settings.get("servers"):
        return LocalStore()
    return MemcachedStore(make_client(settings))


def install(environment: dict[str, Any]) -> LocalStore | MemcachedStore:
    """Make this environment's cache the process's; honour ``memcached.flushOnStart``."""
    backend = build_backend(environment)
    Shared._handles["cache"] = backend
    if backend.kind == "memcached" and (environment.get("memcached") or {}).get("flushOnStart"):
        try:
            backend.flush_all()
            log.info("memcached flushed on start (flushOnStart)")
        except CacheError as exc:
            log.warning("memcached flushOnStart failed, continuing without: %s", exc)
    return backend


def cache_backend() -> LocalStore | MemcachedStore:
    """The process's cache: memcached when configured, else the in-process store."""
    backend = Shared._handles.get("cache")
    if backend is None:
        with Shared._lock:
            backend = Shared._handles.get("cache")
            if backend is None:
                backend = Shared._handles["cache"] = build_backend(Shared.environment)
    return backend


def memcached_client() -> Any:
    """The pymemcache HashClient of this process, or None when memcached is not configured."""
    backend = cache_backend()
    return backend.client if isinstance(backend, MemcachedStore) else None
