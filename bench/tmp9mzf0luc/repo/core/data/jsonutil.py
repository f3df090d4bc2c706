"""JSON encoding for responses: datetimes as ISO 8601, ObjectIds and UUIDs as strings.

``dumps_bytes`` (response bodies) encodes with orjson, several times faster than ``json``, and falls
back to ``json`` for what orjson refuses (non-string keys, integers past 64 bits), so every value that
encoded before still does, to the same text. orjson writes datetimes itself in the same form
(``OPT_NAIVE_UTC``: naive means UTC; ``OPT_UTC_Z``: ``Z`` for UTC; microseconds only when set);
dataclasses still go through ``_default``. The differences: a float NaN/Infinity is ``null`` (valid
JSON) instead of ``json``'s bare ``NaN``, and an offset with seconds (no real zone has one) is
rounded to the minute instead of coming out as ``Z:30``.
"""
from __future__ import annotations

import datetime as _dt
import decimal
import json
import uuid
from typing import Any

import orjson
from bson import ObjectId

_ORJSON_OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z | orjson.OPT_PASSTHROUGH_DATACLASS


def _default(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, (ObjectId, uuid.UUID)):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    """Compact JSON text, non-ASCII kept as is."""
    return json.dumps(value, default=_default, ensure_ascii=False, separators=(",", ":"))


def dumps_bytes(value: Any) -> bytes:
    """UTF-8 bytes of :func:`dumps` (response bodies), through orjson where it can encode ``value``."""
    try:
        return orjson.dumps(value, default=_default, option=_ORJSON_OPTIONS)
    except TypeError:
        return dumps(value).encode("utf-8")
