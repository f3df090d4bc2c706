"""``async def`` controllers on WSGI servers: coroutines run on one event loop per process.

mia.js controllers return promises; here a controller, error controller or lib may be a coroutine
function. Every engine (threaded, granian, gunicorn) calls the app on plain WSGI threads, so a
coroutine is handed to this process's event loop, which runs on its own daemon thread, and the
request's thread waits for the result (``run``). The request thread's context variables travel
with it (Flask's ``request``, ``g`` and ``current_app`` work inside the coroutine). A coroutine
that outlives ``controllerTimeout`` seconds (environment, default 30) is cancelled and the chain
raises ``504 ControllerTimeout``; an exception it raises reaches the error chain as a sync one would.

Why one loop thread and not ``asyncio.run`` per call: ``bench/bench_async.py`` measured both
(a new loop per call costs several times the hand-over to a running loop), and one loop lets
coroutines share clients (an ``httpx.AsyncClient``) across requests. The loop is made lazily, once
per process and again after a fork (a forked worker never uses its parent's thread).

Sync controllers pay nothing: a coroutine function is wrapped once at start-up (``wrap``), and a
sync function's return value is looked at only when it is not None (``settle``).
"""
from __future__ import annotations

import asyncio
import inspect
import os
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from core.errors import MiaError

DEFAULT_TIMEOUT = 30.0


class _Loop:
    """This process's event loop on a daemon thread, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0

    def get(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is not None and self._pid == os.getpid():
            return loop
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                self._loop = asyncio.new_event_loop()
                self._pid = os.getpid()
                threading.Thread(target=self._loop.run_forever, name="mia-async", daemon=True).start()
            return self._loop

    def stop(self) -> None:
        """Stop this process's loop (tests, shutdown); the next coroutine starts a new one."""
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is not None and self._pid == os.getpid():
            loop.call_soon_threadsafe(loop.stop)


LOOP = _Loop()


def run(awaitable: Any, timeout: float | None = DEFAULT_TIMEOUT) -> Any:
    """Run ``awaitable`` on the process's loop and wait for its result in this thread.

    Raises what the coroutine raised, or ``MiaError(504, "ControllerTimeout")`` after ``timeout``
    seconds (the coroutine is cancelled).
    """
    coroutine = awaitable if inspect.iscoroutine(awaitable) else _await(awaitable)
    future = asyncio.run_coroutine_threadsafe(coroutine, LOOP.get())
    try:
        return future.result(timeout)
    except FutureTimeout:
        future.cancel()
        raise MiaError(504, code="ControllerTimeout") from None


async def _await(awaitable: Any) -> Any:
    return await awaitable


def settle(result: Any, timeout: float | None = DEFAULT_TIMEOUT) -> Any:
    """A sync function's result; a coroutine (a lib's ``async def`` called without ``await``) is run."""
    if result is not None and inspect.isawaitable(result):
        return run(result, timeout)
    return result


def is_async(fn: Callable[..., Any]) -> bool:
    """A coroutine function, or an object whose ``__call__`` is one."""
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(type(fn).__dict__.get("__call__"))


def wrap(fn: Callable[..., Coroutine[Any, Any, Any]], timeout: float | None = DEFAULT_TIMEOUT) -> Callable[..., Any]:
    """A sync callable that runs the coroutine function ``fn`` to its end (start-up, once per step)."""
    def call(*args: Any) -> Any:
        return run(fn(*args), timeout)

    call.__wrapped__ = fn  # type: ignore[attr-defined]
    call.__name__ = getattr(fn, "__name__", "call")
    call.__doc__ = getattr(fn, "__doc__", None)
    return call


def configured_timeout(environment: dict[str, Any]) -> float | None:
    """``controllerTimeout`` seconds from the environment (0 or None: no limit)."""
    value = environment.get("controllerTimeout", DEFAULT_TIMEOUT)
    return float(value) if value else None
