"""gunicorn's gthread worker with mia's transport errors: JSON envelopes and a body timeout.

gunicorn writes its own parse errors (bad request line 400, line too long 414, too many headers 431,
bad chunked framing) as HTML through ``gunicorn.util.write_error``; this worker's module replaces
that function in the worker process with one that writes :func:`transport.error_response`, and
refuses chunk sizes of more than 8 hex digits as the other engines do (gunicorn would wait for such a
chunk). Each
request's socket gets ``server.bodyTimeout`` (set into :data:`BODY_TIMEOUT` by ``run_gunicorn``
before the fork), so an app reading a body that stops coming gets a ``TimeoutError`` and answers
408 (core/http/body.py) instead of holding the thread forever.
"""
from __future__ import annotations

from typing import Any

from gunicorn import util
from gunicorn.http.body import ChunkedReader
from gunicorn.http.errors import InvalidChunkSize
from gunicorn.workers.gthread import ThreadWorker

from core.app.serving import transport

BODY_TIMEOUT = transport.BODY_TIMEOUT


def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's ``write_error`` with the JSON envelope (``mesg`` stays in gunicorn's log line)."""
    util.write_nonblock(sock, transport.error_response(int(status_int), reason))


_parse_chunk_size = ChunkedReader.parse_chunk_size


def strict_chunk_size(self: Any, unreader: Any, data: Any = None) -> Any:
    """gunicorn's chunk size parser, refusing sizes of more than 8 hex digits as the other engines do."""
    size, rest = _parse_chunk_size(self, unreader, data)
    if size >= 16 ** transport.MAX_CHUNK_SIZE_DIGITS:
        raise InvalidChunkSize(b"chunk size over %d hex digits" % transport.MAX_CHUNK_SIZE_DIGITS)
    return size, rest


class JsonThreadWorker(ThreadWorker):
    """gthread, answering parse errors in the envelope and timing out stalled bodies."""

    def init_process(self) -> None:
        util.write_error = write_json_error  # read at call time by gunicorn.workers.base.handle_error
        ChunkedReader.parse_chunk_size = strict_chunk_size
        super().init_process()

    def handle_request(self, req: Any, conn: Any) -> Any:
        upgrade = any(name == "UPGRADE" and value.lower() == "websocket" for name, value in req.headers)
        conn.sock.settimeout(None if upgrade else BODY_TIMEOUT)  # an idle WebSocket is not a stalled body
        return super().handle_request(req, conn)
