"""Overload guard: mia.js's ``maxLag`` for a threaded WSGI server.

mia.js (toobusy) refused requests while Node's event loop lagged more than ``maxLag`` ms. A
threaded Python server has no event loop, so "too busy" means either of:

* **too many requests in flight** in this process: more than ``maxConcurrentRequests``
  (environment). When only ``maxLag`` is set the default is
  ``threads * ceil(maxLag / 50 ms)``: a request that finds k requests per thread ahead of it
  waits about k typical (50 ms) service times, so this many keeps the expected wait under
  ``maxLag``. ``threads`` is ``server.threads`` (default 8);
* **the process is starved**: a watchdog thread sleeps a short tick and measures how late it
  wakes up (CPU/GIL saturation delays it exactly as it delays request threads); the smoothed
  delay above ``maxLag`` ms means busy.

A busy process answers at once, before the body is read: 503 with ``Retry-After`` and the
standard envelope (code ``ServerBusy``), instead of queueing without bound. Neither setting ->
no guard. The in-flight count is kept by WSGI middleware (so every request counts, and the
count is released even when rendering fails); the check runs as the first pipeline guard.
WebSocket upgrades are not counted: an open socket would hold a slot for its whole life (their
handshake still passes the guard).
"""
from __future__ import annotations

import logging
import math
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from core.errors import ServiceUnavailable, StartupError
from core.process import current_pid

log = logging.getLogger("mia.overload")
TYPICAL_SERVICE_MS = 50
DEFAULT_THREADS = 8
SMOOTHING = 1 / 3  # weight of a new lag sample (toobusy's dampening)


class LoadMonitor:
    """Counts requests in flight and the watchdog's lag; decides when the process is too busy."""

    def __init__(self, max_lag_ms: float | None = None, max_concurrent: int | None = None,
                 retry_after: int = 1, tick: float | None = None) -> None:
        self.max_lag_ms = max_lag_ms
        self.max_concurrent = max_concurrent
        self.retry_after = retry_after
        self.tick = tick if tick is not None else min(max((max_lag_ms or 100) / 2000, 0.01), 0.5)
        self.lag_ms = 0.0
        self.rejected = 0
        # one entry per request in flight: list append and pop are atomic, so counting needs no lock
        self._flight: list[None] = []
        self._lock = threading.Lock()
        self._watchdog_pid: int | None = None
        self._last_warning = 0.0

    @property
    def in_flight(self) -> int:
        return len(self._flight)

    def wrap(self, wsgi_app: Callable[..., Any]) -> Callable[..., Any]:
        """WSGI middleware that keeps the in-flight count."""

        def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if environ.get("HTTP_UPGRADE", "").lower() == "websocket":  # an open socket is not work in flight
                return wsgi_app(environ, start_response)
            flight = self._flight
            flight.append(None)
            try:
                return wsgi_app(environ, start_response)
            finally:
                flight.pop()

        return counted

    def record_lag(self, sample_ms: float) -> None:
        self.lag_ms = (1 - SMOOTHING) * self.lag_ms + SMOOTHING * max(sample_ms, 0.0)

    def busy(self) -> str | None:
        """Why the process is too busy right now, or None."""
        if self.max_concurrent is not None and len(self._flight) > self.max_concurrent:
            return f"{len(self._flight)} requests in flight (max {self.max_concurrent})"
        if self.max_lag_ms is not None:
            self._ensure_watchdog()
            if self.lag_ms > self.max_lag_ms:
                return f"lag {self.lag_ms:.0f} ms (max {self.max_lag_ms:g} ms)"
        return None

    def guard(self, route: Any, req: Any, res: Any) -> None:
        """Pipeline guard: 503 ServerBusy with Retry-After when the process is saturated."""
        reason = self.busy()
        if reason is None:
            return
        self.rejected += 1
        now = time.monotonic()
        if now - self._last_warning > 10:
            self._last_warning = now
            log.warning("server busy, answering 503: %s", reason)
        raise ServiceUnavailable("ServerBusy", retry_after=self.retry_after)

    def _ensure_watchdog(self) -> None:
        pid = current_pid()
        if self._watchdog_pid == pid:
            return
        with self._lock:
            if self._watchdog_pid == pid:  # started after a fork: threads do not survive fork()
                return
            self._watchdog_pid = pid
        thread = threading.Thread(target=_watch, args=(weakref.ref(self), self.tick), name="mia-overload-watchdog",
                                  daemon=True)
        thread.start()


def _watch(ref: weakref.ref[LoadMonitor], tick: float) -> None:
    """Sleep ``tick`` seconds, record how late we woke; ends when the monitor is gone."""
    while True:
        started = time.perf_counter()
        time.sleep(tick)
        late_ms = (time.perf_counter() - started - tick) * 1000
        monitor = ref()
        if monitor is None:
            return
        monitor.record_lag(late_ms)
        del monitor


def monitor_for(environment: dict[str, Any]) -> LoadMonitor | None:
    """The monitor ``maxLag`` / ``maxConcurrentRequests`` ask for, or None; raises StartupError."""
    max_lag = environment.get("maxLag")
    max_concurrent = environment.get("maxConcurrentRequests")
    if max_lag is None and max_concurrent is None:
        return None
    try:
        lag = float(max_lag) if max_lag is not None else None
        concurrent = int(max_concurrent) if max_concurrent is not None else None
        threads = int((environment.get("server") or {}).get("threads") or DEFAULT_THREADS)
    except (TypeError, ValueError):
        raise StartupError("maxLag (ms), maxConcurrentRequests and server.threads must be numbers") from None
    if (lag is not None and lag <= 0) or (concurrent is not None and concurrent <= 0) or threads <= 0:
        raise StartupError("maxLag, maxConcurrentRequests and server.threads must be positive")
    if concurrent is None and lag is not None:
        concurrent = threads * max(1, math.ceil(lag / TYPICAL_SERVICE_MS))
    retry_after = max(1, math.ceil((lag or 0) / 1000))
    return LoadMonitor(max_lag_ms=lag, max_concurrent=concurrent, retry_after=retry_after)


def install(pipeline: Any, environment: dict[str, Any]) -> LoadMonitor | None:
    """Put the guard first in ``pipeline.guards``; the caller wraps the WSGI app with ``monitor.wrap``."""
    monitor = monitor_for(environment)
    if monitor is not None:
        pipeline.guards.insert(0, monitor.guard)
    return monitor
