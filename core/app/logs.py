"""Logging set-up from the environment: ``logLevel`` (none, fatal, error, warn, info, debug,
trace) and ``logFormat`` (``json`` -> one JSON object per line, else mia's text layout)."""
from __future__ import annotations

import json
import logging
import os
import re
import socket
import sys
from typing import Any

LEVELS = {"none": logging.CRITICAL + 10, "fatal": logging.CRITICAL, "error": logging.ERROR,
          "warn": logging.WARNING, "info": logging.INFO, "debug": logging.DEBUG, "trace": logging.DEBUG}


class JsonFormatter(logging.Formatter):
    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode
        self.host = socket.gethostname()

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "timestamp": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname.lower(),
            "tag": record.name, "message": record.getMessage(), "hostname": self.host, "pid": os.getpid(),
            "mode": self.mode}
        if record.exc_info:
            event["data"] = self.formatException(record.exc_info)
        return json.dumps(event, default=str)


_SECRET_QUERY = re.compile(r"((?:^|[?&])(?:key|session|token)=)[^&\s\"]+", re.IGNORECASE)
# Device ids (32 hex) in paths such as /devices/<id>: with the public app secret they sign requests.
_DEVICE_ID = re.compile(r"(?<=/)[0-9a-fA-F]{32}(?=[/?\s\"]|$)")


def redact(text: str) -> str:
    return _DEVICE_ID.sub("***", _SECRET_QUERY.sub(r"\1***", text))


class RedactQueryKeys(logging.Filter):
    """Access-log lines must not carry static keys, tokens (query parameters) or device ids (paths).

    Covers werkzeug's access log (tuple arguments) and gunicorn's (``gunicorn.access``, a dict of atoms).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif record.args and isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def configure(environment: dict[str, Any]) -> None:
    """Configure the ``mia`` logger tree once per process (idempotent for tests)."""
    level = LEVELS.get(str(environment.get("logLevel", "info")).lower(), logging.INFO)
    logger = logging.getLogger("mia")
    logger.setLevel(level)
    handler = next((h for h in logger.handlers if getattr(h, "_mia", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler._mia = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
    for name in ("werkzeug", "gunicorn.access"):  # the development server's and gunicorn's access logs
        access_log = logging.getLogger(name)
        if not any(isinstance(f, RedactQueryKeys) for f in access_log.filters):
            access_log.addFilter(RedactQueryKeys())
    if environment.get("logFormat") == "json":
        handler.setFormatter(JsonFormatter(str(environment.get("mode"))))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s [%(levelname)s] [%(name)s]: %(message)s"))
