"""JSON encoding for responses: datetimes as ISO 8601, ObjectIds and UUIDs as strings."""
from __future__ import annotations

import datetime as _dt
import decimal
import json
import uuid
from typing import Any

from bson import ObjectId


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
