"""The access line, cheap on the request thread and written in batches off it.

The request thread only appends a tuple to a deque (well under a microsecond); a writer thread wakes
every ``FLUSH_SECONDS``, formats what is pending with the handler's own layout (text or JSON lines, the
same fields as ``core/app/logs.py``'s formatters), redacts secrets and writes the batch with one call,
then hands each line to the ``logTransport`` queue. Going through ``logging`` per request cost about half
the throughput of a one-route answer (a LogRecord, filters, a locked handler and a flushed write each).

Lines are flushed at exit and by :func:`flush` (the serving code calls it on a gentle stop), so a SIGTERM
loses none. When the ``mia`` logger has handlers this module does not know (an operator's own logging
set-up), every line goes through ``logging`` as before, still off the request thread.
"""
from __future__ import annotations

import atexit
import collections
import logging
import multiprocessing.util
import os
import socket
import threading
import time
from typing import Any

import orjson

from core.app import logs
from core.process import current_pid

FLUSH_SECONDS = 0.1
MAX_PENDING = 100_000  # a writer stuck on a full pipe must not grow the process without bound
_LOGGER = "mia.access"

# time, method, path, query string, status, milliseconds, request id, route identity
Line = tuple[float, str, str, str, str, float, str, "str | None"]


class AccessLog:
    """One per process: a deque the request threads append to and a thread that writes it out."""

    def __init__(self) -> None:
        self.pending: collections.deque[Line] = collections.deque()
        self.dropped = 0
        self._wake = threading.Event()
        self._write_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._verdicts: dict[str | None, bool] = {}
        self._levels = -1
        self._host = socket.gethostname()
        self._second = -1
        self._stamps = ("", "")

    # -- the request thread ------------------------------------------------------------------------
    def enabled_for(self, identity: str | None) -> bool:
        """Whether a line of this route identity passes the levels (remembered until logging is configured anew)."""
        if self._levels != logs.generation:
            self._levels, self._verdicts = logs.generation, {}
        verdict = self._verdicts.get(identity)
        if verdict is None:
            handler = logs.mia_handler()
            levels = handler.filters[0] if handler is not None and handler.filters else None
            passes = logging.getLogger(_LOGGER).isEnabledFor(logging.INFO)
            if passes and isinstance(levels, logs.IdentityLevels):
                passes = levels.level(identity) <= logging.INFO
            verdict = self._verdicts[identity] = passes
        return verdict

    def record(self, method: str, path: str, query: str, status: str, ms: float, request_id: str,
               identity: str | None) -> None:
        if len(self.pending) >= MAX_PENDING:
            self.dropped += 1
            return
        self.pending.append((time.time(), method, path, query, status, ms, request_id, identity))
        if self._pid != current_pid():  # first line in this process (a forked worker starts its own thread)
            self._start()

    # -- the writer ---------------------------------------------------------------------------------
    def _start(self) -> None:
        with self._write_lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="mia-access-log", daemon=True)
            self._thread.start()
            # A multiprocessing child (a granian worker) leaves through os._exit: atexit never runs there,
            # multiprocessing's own finalizers do.
            multiprocessing.util.Finalize(self, AccessLog.flush_at_exit, args=(self,), exitpriority=100)

    def _run(self) -> None:
        while True:
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the log writer must outlive a broken stream
                logging.getLogger("mia.log").exception("access log write failed")

    def flush_at_exit(self) -> None:
        """Write what is pending and give the log transport a moment to hand it over."""
        self.flush()
        for transport in (h for h in logging.getLogger("mia").handlers if isinstance(h, logs.Transport)):
            transport.drain(2.0)

    def flush(self) -> None:
        """Write every pending line now (the writer thread, a gentle stop and exit call this)."""
        with self._write_lock:
            lines: list[Line] = []
            while self.pending:
                lines.append(self.pending.popleft())
            if self.dropped:
                dropped, self.dropped = self.dropped, 0
                logging.getLogger(_LOGGER).warning("%d access lines dropped: the log output did not keep up",
                                                   dropped)
            if lines:
                self._write(lines)

    def _write(self, lines: list[Line]) -> None:
        handler = logs.mia_handler()
        logger = logging.getLogger("mia")
        known = handler is not None and all(h is handler or isinstance(h, logs.Transport) for h in logger.handlers)
        formatter = handler.formatter if handler is not None else None
        if not known or not isinstance(formatter, (logs.JsonFormatter, logs.TextFormatter)) \
                or logging.getLogger(_LOGGER).handlers:
            self._through_logging(lines)
            return
        assert handler is not None
        texts = [self._format(line, formatter) for line in lines]
        handler.acquire()
        try:
            handler.stream.write("\n".join(texts) + "\n")
            handler.flush()
        finally:
            handler.release()
        for transport in (h for h in logger.handlers if isinstance(h, logs.Transport)):
            for text, line in zip(texts, lines, strict=True):
                transport.offer(text, "info", line[7])

    def _format(self, line: Line, formatter: logging.Formatter) -> str:
        at, method, path, query, status, ms, request_id, identity = line
        message = f"{method} {logs.redact_url(path, query)} {status} {ms:.1f}ms id={request_id}"
        second = int(at)
        if second != self._second:
            local = time.localtime(at)
            self._second = second
            self._stamps = (time.strftime("%Y-%m-%d %H:%M:%S", local), time.strftime("%Y-%m-%dT%H:%M:%S", local))
        if isinstance(formatter, logs.JsonFormatter):
            event: dict[str, Any] = {"timestamp": self._stamps[1], "level": "info", "tag": _LOGGER, "message": message,
                                     "hostname": self._host, "pid": self._pid, "mode": formatter.mode}
            if identity is not None:
                event["identity"] = identity
            event["requestId"] = request_id
            return orjson.dumps(event).decode()
        return f"{self._stamps[0]},{int((at - second) * 1000):03d} [info] [{_LOGGER}]: {message}"

    @staticmethod
    def _through_logging(lines: list[Line]) -> None:
        logger = logging.getLogger(_LOGGER)
        for at, method, path, query, status, ms, request_id, identity in lines:
            record = logger.makeRecord(_LOGGER, logging.INFO, __file__, 0, "%s %s %s %.1fms id=%s",
                                       (method, logs.redact_url(path, query), status, ms, request_id), None,
                                       extra={"identity": identity, "request_id": request_id})
            record.created = at
            logger.handle(record)


WRITER = AccessLog()
atexit.register(WRITER.flush_at_exit)


def flush() -> None:
    """Write the pending access lines now (before a process stops)."""
    WRITER.flush_at_exit()
