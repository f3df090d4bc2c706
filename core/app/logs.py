"""Logging set-up from the environment: levels, per-identifier levels, JSON lines, a custom transport.

* ``logLevel``: none, fatal, error, warn, info, debug, trace (``LOG_LEVEL`` in the process
  environment wins over the file).
* Per identifier (a route or cron job identity): ``logLevels: {"todos": "debug"}`` in the
  environment file, or ``LOG_LEVEL_<IDENTITY>`` in the process environment (the identity
  upper-cased, other characters than letters and digits as ``_``: ``LOG_LEVEL_GENERIC_LISTSERVICES``).
  A record carries its identity in ``record.identity`` (the access line does) or in its logger's
  name: ``logger_for("my-job")`` is ``mia.id.my-job``.
* ``logFormat: "json"``: one JSON object per line (mia.js's fields plus ``identity``, ``requestId``).
* ``logTransport: "<config identity>.<function>"``: the function is called with
  ``{"out", "level", "identifier"}`` for every line that passes the levels, on a background
  thread fed by a bounded queue. A request never waits for it; when it falls behind, lines are
  dropped and counted.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import re
import socket
import sys
import threading
import time
from typing import Any
from urllib.parse import unquote_plus

TRACE = 5
logging.addLevelName(TRACE, "TRACE")
LEVELS = {"none": logging.CRITICAL + 10, "fatal": logging.CRITICAL, "error": logging.ERROR,
          "warn": logging.WARNING, "info": logging.INFO, "debug": logging.DEBUG, "trace": TRACE}
_NAMES = {logging.CRITICAL: "fatal", logging.ERROR: "error", logging.WARNING: "warn", logging.INFO: "info",
          logging.DEBUG: "debug", TRACE: "trace"}
_KEY = re.compile(r"[^A-Z0-9]")
generation = 0  # counts configure() calls: the access log remembers level verdicts per generation


def identity_key(identity: str) -> str:
    """``todos-list`` -> ``TODOS_LIST``: how an identity is named in ``LOG_LEVEL_<IDENTITY>``."""
    return _KEY.sub("_", identity.upper())


def logger_for(identity: str) -> logging.Logger:
    """A logger whose records obey the identity's own level (``LOG_LEVEL_<IDENTITY>``)."""
    return logging.getLogger(f"mia.id.{identity}")


def record_identity(record: logging.LogRecord) -> str | None:
    identity = getattr(record, "identity", None)
    if identity is None and record.name.startswith("mia.id."):
        identity = record.name[7:]
    return identity


class IdentityLevels(logging.Filter):
    """Passes a record at or above its identity's level, else the default level."""

    def __init__(self, default: int, overrides: dict[str, int]) -> None:
        super().__init__()
        self.default, self.overrides = default, overrides

    def level(self, identity: str | None) -> int:
        if identity and self.overrides:
            return self.overrides.get(identity_key(identity), self.default)
        return self.default

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level(record_identity(record))


class JsonFormatter(logging.Formatter):
    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode
        self.host = socket.gethostname()

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "timestamp": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": level_name(record.levelno),
            "tag": record.name, "message": record.getMessage(), "hostname": self.host, "pid": os.getpid(),
            "mode": self.mode}
        for attr, key in (("identity", "identity"), ("request_id", "requestId")):
            if getattr(record, attr, None) is not None:
                event[key] = getattr(record, attr)
        if record.exc_info:
            event["data"] = self.formatException(record.exc_info)
        return json.dumps(event, default=str)


def level_name(levelno: int) -> str:
    return _NAMES.get(levelno, logging.getLevelName(levelno).lower())


class TextFormatter(logging.Formatter):
    """mia.js's text layout: ``<time> [<level>] [<tag>]: <message>``."""

    def format(self, record: logging.LogRecord) -> str:
        record.mialevel = level_name(record.levelno)
        return super().format(record)


# Query parameters whose values never reach a log line, compared lower-case without "_" and "-"
# (``access_token``, ``refreshToken``, ``X-Api-Key`` ...); ``logRedact`` in the environment adds names.
SECRET_NAMES = {"key", "apikey", "accesskey", "session", "sessionid", "token", "accesstoken", "refreshtoken",
                "idtoken", "jwt", "password", "pass", "passwd", "newpassword", "oldpassword", "secret",
                "clientsecret", "signature", "sig", "auth", "authorization", "code", "otp", "pin"}
_extra_names: set[str] = set()
_QUERY_IN_TEXT = re.compile(r"(?:^|(?<=[?&]))([^=&?\s\"#]+)=([^&\s\"#]*)")
# Device ids (32 hex) in paths such as /devices/<id>: with the public app secret they sign requests.
_DEVICE_ID = re.compile(r"(?<=/)[0-9a-fA-F]{32}(?=[/?\s\"]|$)")


def set_redacted_names(names: Any) -> None:
    """Add an environment's ``logRedact`` names to the built-in list."""
    _extra_names.clear()
    _extra_names.update(_normal(str(n)) for n in names or ())
    _verdicts.clear()


def _normal(name: str) -> str:
    return unquote_plus(name).lower().replace("_", "").replace("-", "")


_verdicts: dict[str, bool] = {}


def is_secret_name(name: str) -> bool:
    """Whether a query parameter's value is masked (remembered per name: an access line asks for each)."""
    verdict = _verdicts.get(name)
    if verdict is None:
        normal = _normal(name)
        verdict = normal in SECRET_NAMES or normal in _extra_names
        if len(_verdicts) < 4096:
            _verdicts[name] = verdict
    return verdict


def _mask_pair(match: re.Match[str]) -> str:
    return f"{match.group(1)}=***" if is_secret_name(match.group(1)) else match.group(0)


def redact(text: str) -> str:
    """Every secret query value (by name, see SECRET_NAMES) and 32-hex device id in a line replaced by ``***``."""
    if "=" in text:
        text = _QUERY_IN_TEXT.sub(_mask_pair, text)
    return _DEVICE_ID.sub("***", text)


def redact_url(path: str, query: str) -> str:
    """``path?query`` as an access line shows it: secret query values and device ids masked."""
    if len(path) >= 33:
        path = _DEVICE_ID.sub("***", path)
    if not query:
        return path
    parts = query.split("&")
    for index, part in enumerate(parts):
        name, equals, _ = part.partition("=")
        if equals and is_secret_name(name):
            parts[index] = f"{name}=***"
    return f"{path}?{'&'.join(parts)}"


class RedactQueryKeys(logging.Filter):
    """Log lines must not carry keys, tokens, passwords (query parameters) or device ids (paths).

    Covers werkzeug's access log (tuple arguments), gunicorn's (``gunicorn.access``, a dict of atoms) and,
    on the mia handler and the transport, every other line that quotes a URL.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif record.args and isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


class Transport(logging.Handler):
    """Hands formatted lines to a project function on its own thread; never blocks the caller."""

    def __init__(self, function: Any, capacity: int = 10000) -> None:
        super().__init__()
        self.function, self.dropped = function, 0
        self.queue: queue.Queue[tuple[str, str, str | None] | None] = queue.Queue(capacity)
        self.thread = threading.Thread(target=self._run, name="mia-log-transport", daemon=True)
        self.thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.offer(self.format(record), level_name(record.levelno), record_identity(record))
        except Exception:  # noqa: BLE001 - a log line must never fail a request
            self.handleError(record)

    def offer(self, out: str, level: str, identifier: str | None) -> None:
        """Queue one formatted line for the project function; dropped and counted when the queue is full."""
        try:
            self.queue.put_nowait((out, level, identifier))
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            try:
                if item is None:
                    return
                out, level, identifier = item
                self.function({"out": out, "level": level, "identifier": identifier})
            except Exception as exc:  # noqa: BLE001 - a broken transport must not stop the server
                print(f"mia: log transport failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            finally:
                self.queue.task_done()

    def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the queued lines to be handed over (a process about to stop)."""
        deadline = time.monotonic() + timeout
        while self.queue.unfinished_tasks and time.monotonic() < deadline and self.thread.is_alive():
            time.sleep(0.01)
        return not self.queue.unfinished_tasks

    def close(self) -> None:
        try:
            self.queue.put_nowait(None)
        except queue.Full:
            pass
        super().close()


def _overrides(environment: dict[str, Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for identity, level in (environment.get("logLevels") or {}).items():
        found[identity_key(str(identity))] = LEVELS.get(str(level).lower(), logging.INFO)
    for name, value in os.environ.items():
        if name.startswith("LOG_LEVEL_") and value.lower() in LEVELS:
            found[name[len("LOG_LEVEL_"):].upper()] = LEVELS[value.lower()]
    return found


def mia_handler() -> logging.StreamHandler[Any] | None:
    """The stream handler :func:`configure` put on the ``mia`` logger (None before it ran)."""
    return next((h for h in logging.getLogger("mia").handlers
                 if getattr(h, "_mia", False) and isinstance(h, logging.StreamHandler)), None)


def configure(environment: dict[str, Any]) -> None:
    """Configure the ``mia`` logger tree once per process (idempotent for tests)."""
    name = os.environ.get("LOG_LEVEL") or str(environment.get("logLevel", "info"))
    default = LEVELS.get(name.lower(), logging.INFO)
    overrides = _overrides(environment)
    logger = logging.getLogger("mia")
    logger.setLevel(min([default, *overrides.values()]))
    handler = next((h for h in logger.handlers if getattr(h, "_mia", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler._mia = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
    handler.filters = [IdentityLevels(default, overrides), RedactQueryKeys()]
    global generation
    generation += 1  # what the access log remembered of the levels is stale
    set_redacted_names(environment.get("logRedact"))
    for old in [h for h in logger.handlers if isinstance(h, Transport)]:
        logger.removeHandler(old)
        old.close()
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error", "mia.access"):  # every access log
        access_log = logging.getLogger(name)
        if not any(isinstance(f, RedactQueryKeys) for f in access_log.filters):
            access_log.addFilter(RedactQueryKeys())
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # mia.access writes the access line
    if environment.get("logFormat") == "json":
        handler.setFormatter(JsonFormatter(str(environment.get("mode"))))
    else:
        handler.setFormatter(TextFormatter("%(asctime)s [%(mialevel)s] [%(name)s]: %(message)s"))


def install_transport(environment: dict[str, Any]) -> Transport | None:
    """Attach ``logTransport`` (``"<config identity>.<function>"``) once the projects are loaded."""
    target = environment.get("logTransport")
    if not target:
        return None
    from core.errors import StartupError
    from core.shared import Shared

    identity, _, function_name = str(target).rpartition(".")
    try:
        function = getattr(Shared.configs.get(identity), function_name)
    except Exception as exc:  # noqa: BLE001 - unknown identity or function
        raise StartupError(f"logTransport {target!r}: no config '{identity}' with a function "
                           f"'{function_name}' ({exc})") from None
    logger = logging.getLogger("mia")
    for old in [h for h in logger.handlers if isinstance(h, Transport)]:  # a hot reload installs it again
        logger.removeHandler(old)
        old.close()
    handler = next(h for h in logger.handlers if getattr(h, "_mia", False))
    transport = Transport(function)
    transport.setFormatter(handler.formatter)
    transport.filters = list(handler.filters)
    logger.addHandler(transport)
    return transport
