"""Request bodies with a size limit: json (strict, default 512kb), urlencoded, text, raw or none.

The raw bytes are kept on ``req.mia.raw_body`` for signature checks. Over the limit -> 413
``PayloadTooLarge``; malformed JSON, a bare JSON scalar or invalid UTF-8 -> 400 ``BadRequest``.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from core.errors import MiaError

JSON_TYPES = ("application/json",)
EMPTY: dict[str, Any] = {"json": dict, "urlencoded": dict, "text": str, "raw": bytes}  # fresh per request


def _read(req: Any, limit: int) -> bytes:
    length = req.content_length
    if length is not None and length > limit:
        raise MiaError(413)
    data = req.stream.read(limit + 1)
    if len(data) > limit:
        raise MiaError(413)
    return data


def _is_json(mimetype: str) -> bool:
    return mimetype in JSON_TYPES or mimetype.endswith("+json")


def parse_body(req: Any, body_type: str, limit: int) -> tuple[Any, bytes]:
    """Return ``(body, raw_bytes)`` for the route's parser settings."""
    if body_type == "none":
        return None, b""
    if not req.content_length and "chunked" not in req.headers.get("Transfer-Encoding", "").lower():
        return EMPTY[body_type](), b""  # no body at all (most GETs): nothing to read or parse
    mimetype = (req.mimetype or "").lower()
    if body_type == "json" and not _is_json(mimetype):
        # Like body-parser: other content types are not parsed; the body stays empty.
        if req.content_length and req.content_length > limit:
            raise MiaError(413)
        return {}, b""
    raw = _read(req, limit)
    if body_type == "raw":
        return raw, raw
    try:
        text = raw.decode(req.mimetype_params.get("charset", "utf-8"))
    except (UnicodeDecodeError, LookupError):
        raise MiaError(400, code="BadRequest") from None
    if body_type == "text":
        return text, raw
    if body_type == "urlencoded":
        body: dict[str, Any] = {}
        for key, value in parse_qsl(text, keep_blank_values=True):
            if key in body:
                body[key] = (body[key] if isinstance(body[key], list) else [body[key]]) + [value]
            else:
                body[key] = value
        return body, raw
    if not text.strip():
        return {}, raw
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        raise MiaError(400, code="BadRequest") from None
    if not isinstance(body, (dict, list)):  # strict mode: only objects and arrays at the top level
        raise MiaError(400, code="BadRequest")
    return body, raw
