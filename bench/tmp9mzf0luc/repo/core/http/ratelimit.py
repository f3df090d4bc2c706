"""Rate limits in fixed windows: environment ``rateLimit``, route file ``rateLimit``, method ``rateLimit``.

A limit is ``{"interval": minutes, "maxRequests": n}``. Windows are aligned to the epoch
(``[k * interval, (k + 1) * interval)`` minutes), so every server of a cluster agrees on them.
The counter of one window lives in the cache (memcached when configured, shared by every
process and server using it; else the in-process store) and is updated atomically:
``add(key, 0)`` then ``incr(key)``, never get-then-set. Exactly ``maxRequests`` requests pass
per window. When memcached errors the request is allowed (fail open) and a warning is logged at
most once per interval: a cache outage must never turn into refused traffic or a 500.

Deliberately not copied from mia.js: the shared counter of every route with the same method key
(our key holds the route pattern), and the headers of the *last* limit (we show the tightest).
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.data.cache import CacheError, cache_backend, hashed_key
from core.errors import MiaError, StartupError

log = logging.getLogger("mia.ratelimit")
_warned: dict[str, float] = {}
_warn_lock = threading.Lock()


def clock() -> float:
    """Epoch seconds; module-level so tests can move to a window boundary (``monkeypatch.setattr``)."""
    return time.time()


@dataclass(frozen=True)
class RateResult:
    """One limit's verdict for one request."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the window ends
    degraded: bool = False  # the cache did not answer; allowed without counting


def parse_limit(value: Any, subject: str = "environment rateLimit", path: str | None = None
                ) -> dict[str, int] | None:
    """``{"interval", "maxRequests"}`` as positive ints, None when absent; raises StartupError (mia's text)."""
    if value is None:
        return None
    try:
        interval, max_requests = int(value["interval"]), int(value["maxRequests"])
    except (TypeError, KeyError, ValueError):
        interval = max_requests = 0
    if interval <= 0 or max_requests <= 0:
        raise StartupError(f"Rate limit config invalid for {subject}. Provide parameters 'interval' and "
                           "'maxRequests' with Int value", path)
    return {"interval": interval, "maxRequests": max_requests}


def _warn_once(limit_seconds: int, message: str, *args: Any) -> None:
    now = time.monotonic()
    with _warn_lock:
        last = _warned.get("cache")
        if last is not None and now - last < limit_seconds:
            return
        _warned["cache"] = now
    log.warning(message, *args)


def check(key: str, limit: dict[str, Any], backend: Any = None) -> RateResult:
    """Count one request against ``limit`` for ``key`` in the current window."""
    max_requests = int(limit["maxRequests"])
    window = int(limit["interval"]) * 60
    now = clock()
    window_end = (math.floor(now / window) + 1) * window
    reset = max(math.ceil(window_end - now), 0)
    store = backend or cache_backend()
    counter = hashed_key("rl", f"{key}|{window}|{window_end}")
    try:
        store.add(counter, b"0", expire=window)
        count = store.incr(counter, 1)
        if count is None:  # evicted between add and incr: start the window again
            store.add(counter, b"0", expire=window)
            count = store.incr(counter, 1)
        if count is None:
            raise CacheError("counter vanished twice")
    except CacheError as exc:
        _warn_once(window, "rate limit not enforced, the cache is unavailable: %s", exc)
        return RateResult(True, max_requests, max_requests, reset, degraded=True)
    return RateResult(count <= max_requests, max_requests, max(max_requests - count, 0), reset)


def tightest(results: Sequence[RateResult]) -> RateResult | None:
    """The result the headers show: a refusal (the longest wait) before the fewest remaining."""
    counted = [r for r in results if not r.degraded]
    if not counted:
        return None
    refused = [r for r in counted if not r.allowed]
    if refused:
        return max(refused, key=lambda r: r.reset)
    return min(counted, key=lambda r: (r.remaining, r.reset))


def apply_headers(res_headers: Any, result: RateResult) -> None:
    """mia.js's headers: X-Rate-Limit-Limit / -Remaining / -Reset (seconds)."""
    res_headers["X-Rate-Limit-Limit"] = str(result.limit)
    res_headers["X-Rate-Limit-Remaining"] = str(result.remaining if result.allowed else 0)
    res_headers["X-Rate-Limit-Reset"] = str(result.reset)


def enforce(keyed_limits: Sequence[tuple[str, dict[str, Any]]], res_headers: Any, backend: Any = None) -> None:
    """Check every ``(key, limit)``, set the headers of the tightest, raise 429 if one refuses."""
    results = [check(f"{index}|{key}", limit, backend) for index, (key, limit) in enumerate(keyed_limits)]
    shown = tightest(results)
    if shown is None:
        return
    apply_headers(res_headers, shown)
    if not shown.allowed:
        raise MiaError(429, code="RateLimitExceeded")


def route_guard(global_limit: dict[str, int] | None, backend: Any) -> Callable[[Any, Any, Any], None]:
    """The pipeline guard: the environment's limit per client IP (across all routes, as mia.js meant it),
    file and method limits per client IP and route (verb + host + pattern: mia.js's shared-counter bug fixed)."""

    def guard(route: Any, req: Any, res: Any) -> None:
        if not global_limit and not route.info.rate_limits:
            return
        ip = req.mia.client_ip or req.remote_addr
        keyed = [(f"ip|{ip}", global_limit)] if global_limit else []
        route_key = f"{ip}|{route.verb}|{route.info.host_id}|{route.path}"
        keyed += [(route_key, limit) for limit in route.info.rate_limits]
        enforce(keyed, res.headers, backend)

    return guard


def install(pipeline: Any, environment: dict[str, Any], routes: Sequence[Any], backend: Any) -> None:
    """Add the route guard to ``pipeline.guards`` when any limit is configured (none: no per-request cost)."""
    global_limit = parse_limit(environment.get("rateLimit"))
    if global_limit or any(route.info.rate_limits for route in routes):
        pipeline.guards.append(route_guard(global_limit, backend))
