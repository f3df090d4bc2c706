"""The outermost WSGI layer: request id, one access line per request, the health endpoint.

* ``X-Request-Id``: taken from the request when it is 1-128 safe characters, else a new random
  id; returned on every answer and written on the access line (``environ["mia.request_id"]``).
* Access line (logger ``mia.access``, level info, ``accessLog: False`` turns it off):
  ``GET /demo/v1/todo 200 1.8ms id=<request id>``, carrying the route identity so that
  ``LOG_LEVEL_<IDENTITY>`` silences or opens it per route. Secret query values and device ids are
  masked. The line is queued here and written in batches by ``core/app/access_log.py``.
* ``GET /_mia/health``, ``/_mia/health/live``, ``/_mia/health/ready`` (core/app/health.py): answered
  here, before routing, so no project route can shadow them.
"""
from __future__ import annotations

import itertools
import logging
import os
import re
import time
from typing import Any

from core.app import health
from core.app.access_log import WRITER

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
access_log = logging.getLogger("mia.access")


class RequestIds:
    """New request ids: 16 bytes of ``os.urandom`` as hex (uuid4's bytes), read 256 ids at a time, so
    a request makes no system call for its id. Thread-safe without a lock: a batch and its counter are
    swapped together, and a counter hands out each of its indexes once. A forked child reads a fresh
    batch (it must not repeat its parent's ids)."""

    BATCH = 256

    def __init__(self) -> None:
        self._refill()
        os.register_at_fork(after_in_child=self._refill)

    def _refill(self) -> None:
        self._batch = (os.urandom(16 * self.BATCH).hex(), itertools.count())

    def new(self) -> str:
        while True:
            text, taken = self._batch
            index = next(taken)  # atomic: no two callers get the same index of one batch
            if index < self.BATCH:
                return text[32 * index:32 * index + 32]
            self._refill()


_IDS = RequestIds()


def install(app: Any, environment: dict[str, Any]) -> None:
    """Wrap ``app.wsgi_app`` with the request id, the access line and the health endpoint."""
    inner = app.wsgi_app
    enabled = environment.get("accessLog", True) is not False

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        started = time.perf_counter()
        given = environ.get("HTTP_X_REQUEST_ID")
        request_id = given if given and _SAFE_ID.match(given) else _IDS.new()
        environ["mia.request_id"] = request_id
        seen: list[str] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen.append(status)
            headers.append(("X-Request-Id", request_id))
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        if environ.get("PATH_INFO") in health.PATHS:
            status, headers, data = health.answer(app, environ["PATH_INFO"])
            start(status, headers)
            return [data]
        result = inner(environ, start)
        if enabled:
            identity = environ.get("mia.identity")
            if WRITER.enabled_for(identity):
                method = "WS" if environ.get("HTTP_UPGRADE", "").lower() == "websocket" else environ.get(
                    "REQUEST_METHOD", "")
                WRITER.record(method, environ.get("PATH_INFO", ""),
                              environ.get("QUERY_STRING", ""), (seen[-1] if seen else "-").split(" ", 1)[0],
                              (time.perf_counter() - started) * 1000, request_id, identity)
        return result

    app.wsgi_app = wsgi
