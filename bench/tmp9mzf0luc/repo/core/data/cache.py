"""``Cached``: mia-js-core's cache-aside call with refresh-ahead and a grace time; and ``@cached``.

``Cached(identifier, lifetime, renew, gracetime, fn)`` (mia-js-core's form) or
``Cached(identifier, lifetime, fn)`` (the manual's 3-argument form: ``renew = gracetime = 0``)
returns mia-js-core's answer ``{"cached", "value", "timeleft", "cacheTime"}``, never the bare value
(``@cached`` is the form that returns the value). Times in seconds; a stored value has three ages:

* fresh, younger than ``lifetime - renew``: served as it is;
* due, from ``lifetime - renew`` on: still served, and **one** caller per key (an ``add``-based lock
  in the cache backend, so one across threads, workers and servers sharing memcached) runs ``fn``
  in a background thread and stores the new value. A failed refresh keeps the old value and is
  tried again ``lifetime - renew`` later (mia-js-core's rule);
* in grace, from ``lifetime`` to ``lifetime + gracetime``: the stale value is still served (and a
  refresh is tried as above), so an ``fn`` that fails keeps the old value alive for ``gracetime``.

After that (or with ``gracetime = 0``, at ``lifetime``) the value is gone: the next call is a miss
and calls ``fn`` in the caller. On a miss concurrent callers of one key also wait for one ``fn``
(the lock holder's) instead of all calling it; if ``fn`` raises, the exception reaches that caller.

Why not dogpile.cache (which gives a lock and background creation): its ``get_or_create`` has no
grace window (an exception from the creator reaches the caller or is lost in the async runner, so
a failing ``fn`` cannot keep the stale value alive), the background runner is left to the user,
its memcached backends bring their own client next to the pymemcache client the rate limits and
outage handling already share, and it pickles values by default. What mia's contract needs from
it is an ``add`` lock and a thread; both are a few lines over the backends in ``cache_backends``.
"""
from __future__ import annotations

import functools
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from core.data.cache_backends import (  # noqa: F401 - re-exported: core.data.cache is the public module
    CacheError,
    LocalStore,
    MemcachedStore,
    build_backend,
    cache_backend,
    clock,
    hashed_key,
    install,
    make_client,
    memcached_client,
    memcached_expiry,
    parse_servers,
)
from core.data.jsonutil import dumps

log = logging.getLogger("mia.cache")
LOCK_SECONDS = 60  # a lock outlives a crashed holder by at most this long
MISS_WAIT_SECONDS = 10  # on a miss, how long others wait for the lock holder's fn before calling fn themselves
WAIT_STEP = 0.01
_refreshes: set[threading.Thread] = set()
_refreshes_lock = threading.Lock()


def _result(cached: bool, value: Any, timeleft: float, cache_time: float) -> dict[str, Any]:
    return {"cached": cached, "value": value, "timeleft": timeleft, "cacheTime": cache_time}


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _arguments(args: tuple[Any, ...]) -> tuple[float, float, Callable[[], Any] | None, bool]:
    """``(fn[, force_update])`` or mia-js-core's ``(renew, gracetime, fn[, force_update])``."""
    if not args:
        return 0.0, 0.0, None, False
    if (args[0] is None or callable(args[0])) and len(args) <= 2:
        return 0.0, 0.0, args[0], bool(args[1]) if len(args) == 2 else False
    if len(args) > 4:
        raise TypeError("Cached(identifier, lifetime, renew, gracetime, fn, force_update=False)")
    fn = args[2] if len(args) > 2 else None
    if fn is not None and not callable(fn):
        raise TypeError(f"Cached: fn must be callable, not {type(fn).__name__}")
    return _number(args[0]), _number(args[1]), fn, bool(args[3]) if len(args) == 4 else False


def Cached(identifier: str, lifetime: float, *args: Any, force_update: bool = False,  # noqa: N802 - mia.js's name
           backend: Any = None) -> dict[str, Any]:
    """mia-js-core's ``Cached``: ``{cached, value, timeleft, cacheTime}`` for ``identifier``.

    ``Cached(id, lifetime, renew, gracetime, fn)`` or ``Cached(id, lifetime, fn)`` (see the module
    docstring for the three ages). ``timeleft`` is the seconds until the value is gone (the end of
    the grace time once it is stale), ``cacheTime`` the seconds until it is due for a refresh
    (generic-cachingCacheControl's ``max-age``). Values are stored as JSON, so a hit and a miss look
    alike (tuples come back as lists, datetimes as ISO strings). Without ``fn`` a miss gives
    ``value: None``. ``force_update`` calls ``fn`` now and stores it. When the cache is unreachable
    ``fn()`` is called and returned uncached, without an error.
    """
    renew, gracetime, fn, force = _arguments(args)
    lifetime = max(_number(lifetime), 0.0)
    renew = min(max(renew, 0.0), lifetime)
    spec = _Spec(backend or cache_backend(), identifier, lifetime, renew, max(gracetime, 0.0), fn)
    try:
        if force or force_update:
            if fn is None:
                return _result(False, None, 0, 0)
            return spec.fill()
        now = clock()
        entry = spec.read()
        if entry is not None and now < entry["graceUntil"]:
            if fn is not None and now >= entry["renewAt"]:
                spec.refresh_in_background(entry)
            return spec.hit(entry, now)
        if fn is None:
            return _result(False, None, 0, 0)
        return spec.miss()
    except CacheError as exc:
        log.warning("Cached(%r): cache unavailable, calling the function: %s", identifier, exc)
        return _result(False, fn() if fn is not None else None, 0, 0)


class _Spec:
    """One call's key, times and function; the steps ``Cached`` is made of."""

    def __init__(self, store: Any, identifier: str, lifetime: float, renew: float, gracetime: float,
                 fn: Callable[[], Any] | None) -> None:
        self.store, self.identifier, self.fn = store, identifier, fn
        self.lifetime, self.renew, self.gracetime = lifetime, renew, gracetime
        self.key = hashed_key("c", identifier)
        self.lock_key = hashed_key("cl", identifier)

    # --------------------------------------------------------------------------------- entries
    def read(self) -> dict[str, Any] | None:
        return _decode(self.store.get(self.key))

    def write(self, entry: dict[str, Any]) -> None:
        ttl = max(math.ceil(entry["graceUntil"] - clock()), 1)
        self.store.set(self.key, dumps(entry).encode("utf-8"), expire=ttl)

    def new_entry(self, value: Any) -> dict[str, Any]:
        now = clock()
        expires = now + self.lifetime
        return {"value": value, "created": now, "refreshed": now, "renewAt": expires - self.renew,
                "expires": expires, "graceUntil": expires + self.gracetime}

    def hit(self, entry: dict[str, Any], now: float) -> dict[str, Any]:
        end = entry["expires"] if now < entry["expires"] else entry["graceUntil"]
        return _result(True, entry["value"], max(round(end - now), 0), max(round(entry["renewAt"] - now), 0))

    def fill(self) -> dict[str, Any]:
        """Call ``fn`` here and store its value (a miss, or ``force_update``)."""
        assert self.fn is not None
        value = self.fn()
        entry = self.new_entry(value)
        text = dumps(entry)  # a value JSON cannot encode raises TypeError here, before storing
        try:
            self.write(entry)
        except CacheError as exc:
            log.warning("Cached(%r): value not stored: %s", self.identifier, exc)
            return _result(False, value, 0, 0)
        stored = json.loads(text)["value"]
        return _result(False, stored, _whole(self.lifetime), _whole(self.lifetime - self.renew))

    # ------------------------------------------------------------------------------- the lock
    def lock(self) -> bool:
        return bool(self.store.add(self.lock_key, b"1", expire=LOCK_SECONDS))

    def unlock(self) -> None:
        try:
            self.store.delete(self.lock_key)
        except CacheError as exc:  # the lock expires by itself
            log.warning("Cached(%r): lock not released: %s", self.identifier, exc)

    def miss(self) -> dict[str, Any]:
        """One caller calls ``fn``; the others wait for its value (or take over if it fails)."""
        deadline = time.monotonic() + MISS_WAIT_SECONDS
        while True:
            if self.lock():
                try:
                    entry = self.read()
                    now = clock()
                    if entry is not None and now < entry["graceUntil"]:
                        return self.hit(entry, now)  # filled while we waited for the lock
                    return self.fill()
                finally:
                    self.unlock()
            time.sleep(WAIT_STEP)
            entry = self.read()
            now = clock()
            if entry is not None and now < entry["graceUntil"]:
                return self.hit(entry, now)
            if time.monotonic() > deadline:
                return self.fill()

    # ------------------------------------------------------------------------- refresh ahead
    def refresh_in_background(self, seen: dict[str, Any]) -> None:
        if not self.lock():
            return  # another caller (thread, worker or server) refreshes this key
        thread = threading.Thread(target=self._refresh, args=(seen,), name=f"Cached-refresh:{self.identifier}",
                                  daemon=True)
        with _refreshes_lock:
            _refreshes.add(thread)
        thread.start()

    def _refresh(self, seen: dict[str, Any]) -> None:
        try:
            current = self.read()
            if current is None or current.get("refreshed") != seen.get("refreshed"):
                return  # refreshed (or dropped) between our read and our lock
            try:
                value = self.fn()  # type: ignore[misc]
                entry = self.new_entry(value)
                dumps(entry)
            except Exception:  # noqa: BLE001 - a failed refresh keeps the old value (grace)
                log.warning("Cached(%r): refresh failed, serving the stored value", self.identifier, exc_info=True)
                now = clock()
                retry = {**current, "refreshed": now, "renewAt": now + max(self.lifetime - self.renew, 0.0)}
                if retry["graceUntil"] > now:
                    self.write(retry)
                return
            self.write(entry)
        except CacheError as exc:
            log.warning("Cached(%r): background refresh not stored: %s", self.identifier, exc)
        finally:
            self.unlock()
            with _refreshes_lock:
                _refreshes.discard(threading.current_thread())


def wait_for_refreshes(timeout: float = 5.0) -> bool:
    """Wait until every background refresh of this process has finished (tests, shutdown)."""
    deadline = time.monotonic() + timeout
    while True:
        with _refreshes_lock:
            running = list(_refreshes)
        if not running:
            return True
        for thread in running:
            thread.join(max(deadline - time.monotonic(), 0))
        if time.monotonic() >= deadline:
            with _refreshes_lock:
                return not _refreshes


def _whole(seconds: float) -> float:
    seconds = max(seconds, 0)
    return int(seconds) if float(seconds).is_integer() else seconds


def _decode(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        entry = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("expires"), (int, float)):
        return None
    entry.setdefault("refreshed", entry.get("created"))
    entry.setdefault("renewAt", entry["expires"])
    entry.setdefault("graceUntil", entry["expires"])
    return entry


def cached(ttl: int, key: str | Callable[..., str] | None = None, renew: float = 0,
           gracetime: float = 0) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator form of :func:`Cached`: the function's **value**, cached per key for ``ttl`` seconds.

    ``key`` is a fixed identifier, a function of the call's arguments, or (default) the function's
    qualified name plus its arguments as JSON. ``renew`` and ``gracetime`` as in ``Cached``. The
    full ``{cached, value, timeleft, cacheTime}`` answer is ``wrapper.lookup(*args, **kwargs)``.
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        def identifier(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
            if callable(key):
                return str(key(*args, **kwargs))
            if key is not None:
                return key
            return f"{fn.__module__}.{fn.__qualname__}:{dumps([list(args), sorted(kwargs.items())])}"

        def lookup(*args: Any, **kwargs: Any) -> dict[str, Any]:
            return Cached(identifier(args, kwargs), ttl, renew, gracetime, lambda: fn(*args, **kwargs))

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return lookup(*args, **kwargs)["value"]

        wrapper.lookup = lookup  # type: ignore[attr-defined]
        return wrapper

    return decorate
