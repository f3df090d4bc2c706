"""Turns what a chain produced into an HTTP response; renders every error as mia's JSON envelope.

Error bodies are ``{"status": s, "errors": [{"code", "msg", ...}]}`` with messages translated into
the request's culture. A ``debug`` block is added only when the environment's ``debug`` is on AND
the request sends ``debug: true`` (mia.js honoured the header alone).
"""
from __future__ import annotations

import datetime as _dt
import logging
import socket
import traceback
from functools import lru_cache
from typing import Any

from flask import Response
from werkzeug.datastructures import Headers
from werkzeug.utils import get_content_type

from core.data.jsonutil import dumps_bytes
from core.errors import MiaError, as_mia_error, default_code
from core.shared import Shared
from core.translator import translate

log = logging.getLogger("mia.errors")
JSON_MIMETYPE = "application/json"
_BODY_HEADERS = ("content-type", "content-length")  # set by the response itself from the body


def _culture(req: Any) -> tuple[str | None, str | None]:
    mia = getattr(req, "mia", None)
    if mia is None:
        default = Shared.system.get("defaultCulture") or {}
        return default.get("language"), default.get("region")
    culture = mia.culture
    return culture.get("language"), culture.get("region")


def error_entries(err: BaseException, req: Any) -> tuple[int, list[dict[str, Any]], dict[str, str]]:
    """Status, translated entries and extra headers for any exception."""
    language, region = _culture(req)
    mia_error = as_mia_error(err)
    if mia_error is not None:
        status, entries, headers = mia_error.status, [dict(e) for e in mia_error.errors], dict(mia_error.headers)
    else:
        status, entries, headers = 500, [], {}
    if not entries:
        code = default_code(status)
        entries = [{"code": code, "msg": translate(None, code, language, region)}]
    for entry in entries:
        if "msg" not in entry and entry.get("code"):
            entry["msg"] = translate(None, str(entry["code"]), language, region)
    return status, entries, headers


def debug_enabled(req: Any) -> bool:
    return bool(Shared.environment.get("debug")) and req is not None and req.headers.get("debug") == "true"


def _server_ip() -> str | None:
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return None


SECRET_HEADERS = {"key", "authorization", "cookie", "proxy-authorization", "session"}
SECRET_FIELDS = {"key", "password", "passhash", "secret", "token", "session", "accesstokens"}


def redact(value: Any) -> Any:
    """A copy with keys, passwords, tokens and sessions masked: debug output must not leak them."""
    if isinstance(value, dict):
        return {k: ("***" if str(k).lower() in SECRET_FIELDS else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def original(err: BaseException) -> BaseException:
    """The exception behind a bare 500 wrapper (what error controllers were handed), else ``err``."""
    cause = err.__cause__
    if isinstance(err, MiaError) and not err.errors and cause is not None:
        return cause
    return err


def debug_block(req: Any, err: BaseException | None) -> dict[str, Any]:
    """What mia.js's DebugCollector shows: request, device, error, server, environment, timings."""
    err = original(err) if err is not None else None
    mia = getattr(req, "mia", None)
    route = getattr(mia, "route", None)
    block: dict[str, Any] = {"request": {
        "query": redact(req.args.to_dict(flat=False)), "body": redact(getattr(mia, "body", None)),
        "headers": {k: ("***" if k.lower() in SECRET_HEADERS else v) for k, v in req.headers.items()},
        "method": req.method, "url": req.full_path.rstrip("?"),
        "date": _dt.datetime.now(_dt.UTC).isoformat(), "ip": getattr(mia, "client_ip", None)
        or req.remote_addr}}
    if route is not None:
        block["request"].update(group=route.group, version=route.version)
    if mia is not None and mia.device is not None:
        block["device"] = redact(mia.device)
    if err is not None:
        block["errors"] = {"type": type(err).__name__, "message": str(err),
                           "stack": traceback.format_exception(type(err), err, err.__traceback__)}
    block["server"] = {"ip": _server_ip()}
    block["environment"] = {"mode": Shared.environment.get("mode")}
    if mia is not None and mia.debug_info:
        block["controller"] = mia.debug_info
    return block


def error_response(err: BaseException, req: Any, headers: Any = None) -> Response:
    """The default JSON error output (generic-defaultJSONErrorResponse behaves the same)."""
    status, entries, extra = error_entries(err, req)
    if status >= 500:
        cause = original(err)
        log.error("%s %s -> %s", getattr(req, "method", "?"), getattr(req, "path", "?"), status,
                  exc_info=cause if not isinstance(cause, MiaError) else None)
    body: dict[str, Any] = {"status": status, "errors": entries}
    if debug_enabled(req):
        body["debug"] = debug_block(req, err)
    response = Response(dumps_bytes(body), status=status, mimetype=JSON_MIMETYPE)
    for source in (headers, extra):
        apply_headers(response, source)
    return response


def apply_headers(response: Response, source: Any) -> None:
    """Put ``source``'s headers on ``response``, replacing same-named ones; repeated headers
    (two ``Set-Cookie``s on ``res.headers``) all stay."""
    if not source:
        return
    pairs = list(source.items())
    target = response.headers
    present = {key.lower() for key in target.keys()}  # a fresh response holds two or three headers
    for name in {key.lower() for key, _ in pairs} & present:
        target.remove(name)
    if type(source) is Headers:  # res.headers: every value was checked when it was set; copy the pairs
        target._list.extend(pairs)
    else:
        target.extend(pairs)


@lru_cache(maxsize=64)
def content_type(mimetype: str) -> str:
    """The Content-Type werkzeug makes of ``mimetype`` (``; charset=utf-8`` for text types), once per mimetype."""
    return get_content_type(mimetype, "utf-8")


_STATUS_LINES: dict[int, str] = {}


def built(data: bytes, status: int, headers: Headers, content_type: str) -> Response:
    """``Response(data, status=status, headers=headers, content_type=content_type)`` for ``headers`` that
    name neither Content-Type nor Content-Length: the same object, without werkzeug's generic argument
    handling and per-header checks (both values are made here and cannot hold a line break)."""
    line = _STATUS_LINES.get(status)
    response = Response.__new__(Response)
    if line is None:
        response.status = status  # werkzeug's status text, remembered per code
        _STATUS_LINES[status] = response._status
    else:
        response._status, response._status_code = line, status
    pairs = headers._list
    pairs.append(("Content-Type", content_type))
    pairs.append(("Content-Length", str(len(data))))
    response.headers = headers
    response.direct_passthrough = False
    response._on_close = []
    response.response = [data]
    return response


def finish(res: Any) -> Response:
    """Build the Flask response for a chain that called ``res.send``.

    The chain's headers become the response's own (no copy, no second pass) unless they name
    Content-Type or Content-Length, which then replace what the body would have set.
    """
    body = res.body
    status = res.status_code or 200
    if isinstance(body, Response) and status not in (204, 304):
        apply_headers(body, res.headers)
        return body
    data: bytes | str
    if status in (204, 304):
        data, mimetype = b"", None  # werkzeug's default Content-Type, as an empty Response always had
    elif isinstance(body, (dict, list)):
        data, mimetype = dumps_bytes(body), res.mimetype or JSON_MIMETYPE
    elif isinstance(body, (bytes, bytearray)):
        data, mimetype = bytes(body), res.mimetype or "application/octet-stream"
    else:
        data, mimetype = ("" if body is None else str(body)), res.mimetype or "text/plain"
    headers = res.headers
    if type(headers) is Headers and not any(name.lower() in _BODY_HEADERS for name, _ in headers._list):
        if mimetype:
            return built(data.encode() if isinstance(data, str) else data, status, headers, content_type(mimetype))
        return Response(data, status=status, headers=headers)
    response = Response(data, status=status, mimetype=mimetype)
    apply_headers(response, headers)
    return response
