"""Errors of the HTTP layer in mia's JSON envelope, the same on every engine where Python sees them.

The engines parse HTTP before the app runs, so each needs its own hook:

* threaded (werkzeug): ``threaded.JsonErrorHandler`` answers a bad request line, a long URI, too many
  headers with :func:`envelope`; chunk sizes are read strictly (:class:`StrictDechunkedInput`); the
  socket has ``server.bodyTimeout``, so a body shorter than its Content-Length ends in 408.
* gunicorn: ``gunicorn_worker.JsonThreadWorker`` writes gunicorn's own parse errors with
  :func:`envelope` and gives the app's body reads the same timeout.
* granian: hyper answers 400/414/431 itself, before any Python runs, with an empty body (no option
  changes that in granian 2.8); its lazy ``wsgi.input`` turns a framing error into an end of data,
  so :func:`refuse_broken_chunked` collects a chunked body first. A body that stops coming blocks
  the thread reading it (granian has no body timeout and its reads cannot be interrupted from
  Python; README "Production").

A malformed body read by the app answers 400 (``core/http/body.py``) before any handler runs.
"""
from __future__ import annotations

import io
import json
from typing import Any

from werkzeug.serving import DechunkedInput

BODY_TIMEOUT = 30.0
MAX_CHUNK_SIZE_DIGITS = 8  # 8 hex digits: chunks up to 4 GiB; a longer size line is broken framing


def body_timeout(environment: dict[str, Any]) -> float:
    """``server.bodyTimeout``: seconds a server waits for the next bytes of a request."""
    return float((environment.get("server") or {}).get("bodyTimeout", BODY_TIMEOUT))


def envelope(status: int) -> bytes:
    """The JSON error body for ``status`` with its default code and translated message."""
    from core.errors import MiaError
    from core.http.output import error_entries

    code, entries, _ = error_entries(MiaError(int(status)), None)
    return json.dumps({"status": code, "errors": entries}).encode()


def error_response(status: int, reason: str) -> bytes:
    """A whole ``Connection: close`` HTTP/1.1 response carrying :func:`envelope` (for raw sockets)."""
    body = envelope(status)
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


class StrictDechunkedInput(DechunkedInput):
    """werkzeug's chunked reader, refusing a chunk size of more than 8 hex digits (it would wait for it)."""

    def read_chunk_len(self) -> int:
        line = self._rfile.readline()
        text = line.split(b";", 1)[0].strip()  # chunk extensions are ignored
        if not text or len(text) > MAX_CHUNK_SIZE_DIGITS or not all(c in b"0123456789abcdefABCDEF" for c in text):
            raise OSError("Invalid chunk header")
        return int(text, 16)


def refuse_broken_chunked(app: Any) -> Any:
    """granian: answer 400 for a chunked request whose body arrives empty, without running the app.

    granian hands a body over lazily and turns a framing error into an end of data: a malformed
    chunked body looks empty or cut. Collecting it whole (``read()``) makes any framing error an
    empty body, refused here; a chunked request with nothing in it cannot be told apart, so it is
    refused too (a client with no body sends ``Content-Length: 0`` or none). The app then reads
    the collected bytes from memory."""
    inner = app.wsgi_app if hasattr(app, "wsgi_app") else app
    body = envelope(400)
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("Connection", "close")]

    def gate(environ: dict[str, Any], start_response: Any) -> Any:
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() and not environ.get("HTTP_UPGRADE"):
            data = environ["wsgi.input"].read()
            if not data:
                start_response("400 Bad Request", list(headers))
                return [body]
            environ["wsgi.input"] = io.BytesIO(data)
        return inner(environ, start_response)

    if hasattr(app, "wsgi_app"):
        app.wsgi_app = gate
        return app
    return gate
