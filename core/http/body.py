"""Request bodies with a size limit: json (strict, default 512kb), urlencoded, text, raw or none.

The raw bytes are kept on ``req.mia.raw_body`` for signature checks. Over the limit -> 413
``PayloadTooLarge``; malformed JSON, a bare JSON scalar, a number JSON cannot carry (NaN, Infinity,
1e400), JSON nested deeper than 100 levels (MongoDB's limit), invalid UTF-8 or a body shorter than
its Content-Length, bad chunked framing or a lone surrogate (``"\\ud800"``) -> 400 ``BadRequest``.
As body-parser did: ``Content-Encoding: gzip``/``deflate`` bodies are inflated (the limit counts the
inflated bytes, and ``raw_body`` holds them), another encoding, an unknown charset or one that
makes bytes ambiguous (utf-7, punycode, idna; JSON: UTF-8/16/32 and Latin-1 only) is 415
``UnsupportedMediaType``, and a leading byte order mark is dropped.
"""
from __future__ import annotations

import codecs
import functools
import json
import math
import re
import zlib
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.http import parse_options_header

from client import is_json_content_type  # the signer and the verifier use the same test
from core.errors import MiaError

EMPTY: dict[str, Any] = {"json": dict, "urlencoded": dict, "text": str, "raw": bytes}  # fresh per request
ENCODINGS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
BOM = "\ufeff"
MAX_DEPTH = 100  # MongoDB's nesting limit; deeper bodies made the recursive validator fail (500)
# JSON is UTF-8/16/32 (RFC 8259); other bodies may use any text codec except those that let one byte
# string mean several texts (utf-7, punycode, idna, the escape codecs) or are not text codecs at all.
JSON_CHARSETS = {"utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "ascii",
                 "latin-1", "iso8859-1"}
REFUSED_CHARSETS = {"utf-7", "punycode", "idna", "unicode-escape", "raw-unicode-escape"}
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
COMPRESSED_FACTOR, COMPRESSED_SLACK = 2, 64 * 1024  # compressed bytes accepted for a limit: incompressible data grows


def _read(req: Any, limit: int) -> bytes:
    """At most ``limit`` bytes of the body as sent; 413 past it, 400 when it ends before its Content-Length or its
    framing is broken, 408 when the server's body timeout passed first."""
    length = req.content_length
    if length is not None and length > limit:
        raise MiaError(413)
    want = limit + 1
    if length is not None and "wsgi.input_terminated" not in req.environ:
        want = min(want, length)  # werkzeug's stream ends at Content-Length: no buffer the size of the limit
    try:
        data = req.stream.read(want)
    except Exception as exc:  # noqa: BLE001 - broken framing (werkzeug's OSError, gunicorn's InvalidChunkSize)
        if _timed_out(exc):  # the server's body timeout (server.bodyTimeout): the announced body did not come
            raise MiaError(408) from None
        raise MiaError(400, code="BadRequest") from None
    if len(data) > limit:
        raise MiaError(413)
    if length is not None and len(data) < length:
        raise MiaError(400, code="BadRequest")  # the client sent less than it announced
    return data


def _timed_out(exc: BaseException | None) -> bool:
    """Whether a socket timeout is behind ``exc`` (werkzeug wraps it in ClientDisconnected)."""
    for _ in range(5):
        if exc is None:
            return False
        if isinstance(exc, TimeoutError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _read_inflated(req: Any, encoding: str, limit: int) -> bytes:
    """The inflated body, read in chunks: 413 once it passes ``limit`` (a small body may inflate to gigabytes)."""
    compressed = _read(req, COMPRESSED_FACTOR * limit + COMPRESSED_SLACK)
    wbits = ENCODINGS[encoding]
    for attempt in ((wbits, -zlib.MAX_WBITS) if encoding == "deflate" else (wbits,)):  # deflate: zlib or raw
        inflater = zlib.decompressobj(attempt)
        try:
            out = inflater.decompress(compressed, limit + 1)
        except zlib.error:
            continue
        if len(out) > limit:
            raise MiaError(413)
        if not inflater.eof:
            raise MiaError(400, code="BadRequest")  # a truncated stream
        return out
    raise MiaError(400, code="BadRequest")


def _too_deep(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for child in (node.values() if isinstance(node, dict) else node):
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return False



@functools.lru_cache(maxsize=256)
def _content_type(header: str) -> tuple[str, str]:
    """``(req.mimetype, req.mimetype_params.get("charset", "utf-8"))`` of a Content-Type header, parsed once
    per header text (werkzeug parses it anew for every request)."""
    mimetype, params = parse_options_header(header)
    return mimetype.lower(), params.get("charset", "utf-8")


@functools.lru_cache(maxsize=64)
def _codec(charset: str, body_type: str) -> str:
    """The codec name for a body's ``charset``; 415 for unknown, non-text or ambiguous ones (answers are
    remembered per charset: a refusal is an exception, which is not)."""
    try:
        info = codecs.lookup(charset)
    except (LookupError, ValueError):
        raise MiaError(415, code="UnsupportedMediaType") from None
    name = info.name.replace("_", "-")
    if not getattr(info, "_is_text_encoding", True) or name in REFUSED_CHARSETS or (
            body_type == "json" and name not in JSON_CHARSETS):
        raise MiaError(415, code="UnsupportedMediaType")
    return info.name


def _has_lone_surrogate(text: str) -> bool:
    """A ``\\ud800``-style escape decodes to a lone surrogate, which no database or UTF-8 writer accepts."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} does not fit a double")
    return value


# json.loads with these hooks, built once: json.loads makes a decoder per call when given any hook.
_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)


def parse_body(req: Any, body_type: str, limit: int) -> tuple[Any, bytes]:
    """Return ``(body, raw_bytes)`` for the route's parser settings."""
    if body_type == "none":
        return None, b""
    environ = req.environ  # read directly: werkzeug parses the length only when one was sent
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if not chunked and (not environ.get("CONTENT_LENGTH") or not req.content_length):
        return EMPTY[body_type](), b""  # no body at all (most GETs): nothing to read or parse
    mimetype, charset = _content_type(environ.get("CONTENT_TYPE", ""))  # req.mimetype and its charset, remembered
    if body_type == "json" and not is_json_content_type(mimetype):
        # Like body-parser: other content types are not parsed; the body stays empty.
        if req.content_length and req.content_length > limit:
            raise MiaError(413)
        return {}, b""
    encoding = environ.get("HTTP_CONTENT_ENCODING", "identity").strip().lower() or "identity"  # req.headers.get
    if encoding != "identity" and encoding not in ENCODINGS:
        raise MiaError(415, code="UnsupportedMediaType")
    raw = _read(req, limit) if encoding == "identity" else _read_inflated(req, encoding, limit)
    if body_type == "raw":
        return raw, raw
    codec = _codec(charset, body_type)
    try:
        text = raw.decode(codec)
    except (UnicodeError, ValueError):
        raise MiaError(400, code="BadRequest") from None
    if text.startswith(BOM):
        text = text[1:]
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
        if text.startswith(BOM):  # a second one: what json.loads answers for it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        body = _DECODER.decode(text)
    except json.JSONDecodeError as exc:  # the parser's reason and where: the client can find its mistake
        raise MiaError(400, code="BadRequest", reason=exc.msg, position=exc.pos, line=exc.lineno,
                       column=exc.colno) from None
    except ValueError as exc:  # NaN, Infinity, a number that does not fit a double
        raise MiaError(400, code="BadRequest", reason=str(exc)) from None
    except RecursionError:
        raise MiaError(400, code="BadRequest", reason="nested too deeply") from None
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(json.dumps(body, ensure_ascii=False)):
        raise MiaError(400, code="BadRequest")  # "\\ud800" alone: valid JSON syntax, not storable text
    if not isinstance(body, (dict, list)):  # strict mode: only objects and arrays at the top level
        raise MiaError(400, code="BadRequest", reason="a JSON body must be an object or an array")
    if text.count("{") + text.count("[") > MAX_DEPTH and _too_deep(body, MAX_DEPTH):  # counting is C-fast
        raise MiaError(400, code="BadRequest", reason=f"nested deeper than {MAX_DEPTH} levels")
    return body, raw
