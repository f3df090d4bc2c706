"""Copies of stored documents for the embedded store's short read paths (core.data.embedded_fast).

Why: mongomock copies every returned document field by field with ``copy.copy`` and then a second
time to make its datetimes timezone-aware. These do it by exact type in one pass, and for a document
decoded for one query alone (core.data.embedded_documents) in place, without a copy. What they cannot
handle by type goes to mongomock's own function, kept in ``ORIGINALS`` (filled by embedded_fast.install).
:func:`copier` copies the decoded documents a collection keeps (core.data.embedded_documents).
"""
from __future__ import annotations

import datetime as _dt
import functools
import uuid
from collections.abc import Callable
from typing import Any

from bson import Decimal128, Int64, MaxKey, MinKey, ObjectId, Timestamp
from bson.binary import Binary

# Values without a datetime inside that nobody can change in place (copy.copy returns them unchanged,
# or an equal new object): the timezone pass returns them as they are.
NO_DATETIME = frozenset({str, int, float, bool, type(None), bytes, ObjectId, Int64, Decimal128, Binary, Timestamp,
                         MinKey, MaxKey, uuid.UUID})
# The same and datetimes: a copied document may share them with the stored one.
IMMUTABLE = NO_DATETIME | {_dt.datetime}

ORIGINALS: dict[str, Callable[..., Any]] = {}  # mongomock's replaced functions (core.data.embedded_fast)
UTC: list[Any] = [None]  # the tzinfo mongomock gives returned datetimes (bson's UTC), set by embedded_fast.install


def copy_field(obj: Any, container: Callable[[], Any]) -> Any:
    """mongomock's ``_copy_field`` (a deep copy into ``container`` mappings) without ``copy.copy`` on plain values."""
    cls = type(obj)
    if cls in IMMUTABLE:
        return obj
    if cls is dict:
        new = container()
        for key, value in obj.items():
            new[key] = value if type(value) in IMMUTABLE else copy_field(value, container)
        return new
    if cls is list:
        return [value if type(value) in IMMUTABLE else copy_field(value, container) for value in obj]
    return ORIGINALS["_copy_field"](obj, container)


def make_aware(value: Any) -> Any:
    """mongomock's ``make_datetime_timezone_aware_in_document`` (a copy with UTC datetimes), by exact type."""
    cls = type(value)
    if cls is dict:
        return {k: (v if type(v) in NO_DATETIME else make_aware(v)) for k, v in value.items()}
    if cls is _dt.datetime:
        return value.replace(tzinfo=UTC[0])
    if cls is list:
        return [v if type(v) in NO_DATETIME else make_aware(v) for v in value]
    if cls in NO_DATETIME:
        return value
    return ORIGINALS["make_datetime_timezone_aware_in_document"](value)


def copy_aware(obj: Any) -> Any:
    """``make_aware(copy_field(obj, dict))`` in one pass: what a timezone-aware cursor returns."""
    cls = type(obj)
    if cls is _dt.datetime:
        return obj.replace(tzinfo=UTC[0])
    if cls in NO_DATETIME:
        return obj
    if cls is dict:
        return {k: (v if type(v) in NO_DATETIME else copy_aware(v)) for k, v in obj.items()}
    if cls is list:
        return [v if type(v) in NO_DATETIME else copy_aware(v) for v in obj]
    return make_aware(ORIGINALS["_copy_field"](obj, dict))


def projected_in_place(doc: dict[str, Any], names: frozenset[str], include: Any, id_value: Any) -> dict[str, Any]:
    """A flat projection of a document nobody else holds (what ``copy_only_fields`` returns, uncopied)."""
    if include:
        projected = {key: value for key, value in doc.items() if key in names}
        if id_value != 0 and "_id" in doc:
            projected["_id"] = doc["_id"]
        return projected
    for name in names:
        doc.pop(name, None)
    if id_value == 0:
        doc.pop("_id", None)
    return doc


def aware_in_place(obj: Any) -> Any:
    """``make_aware`` for a document (or list) nobody else holds: its datetimes made UTC where they are."""
    # assigning to existing keys or positions only: the iteration stays valid
    for key, value in (obj.items() if type(obj) is dict else enumerate(obj)):
        cls = type(value)
        if cls is _dt.datetime:
            obj[key] = value.replace(tzinfo=UTC[0])
        elif cls is dict or cls is list:
            aware_in_place(value)
        elif cls not in NO_DATETIME:
            obj[key] = make_aware(value)
    return obj


def flat_projection(fields: Any) -> tuple[frozenset[str], Any, Any] | None:
    """``(names, include, id_value)`` of a projection naming top-level fields only, else None."""
    if type(fields) is not dict or not fields:
        return None
    id_value, names, modes = 1, [], set()
    for key, value in fields.items():
        if type(key) is not str or type(value) not in (int, bool) or "." in key or key.startswith("$"):
            return None
        if key == "_id":
            id_value = value
        else:
            names.append(key)
            modes.add(value)
    if len(modes) != 1:  # nothing but _id, or includes mixed with excludes (mongomock raises)
        return None
    return frozenset(names), fields[names[0]], id_value


def copier(document: dict[str, Any]) -> Callable[[Any], Any] | None:
    """How to copy ``document`` sharing nothing changeable: ``dict`` when its values are all of
    :data:`IMMUTABLE`, else a copy along the dicts and lists inside it (found once, here); None when it
    holds anything else (a Regex, a DBRef, a Code with a scope: decoded afresh each time)."""
    plan = _plan(document)
    if plan is None:
        return None
    return functools.partial(_copy, plan) if plan else dict


_Plan = list[tuple[Any, bool, Any]]  # (key or index, is a dict, the plan inside it) per dict or list inside


def _plan(container: Any) -> _Plan | None:
    """Where the dicts and lists inside ``container`` are (``[]``: none), or None when it holds a
    value that is neither one of :data:`IMMUTABLE` nor a dict or list."""
    plan: _Plan = []
    for key, value in (container.items() if type(container) is dict else enumerate(container)):
        kind = type(value)
        if kind in IMMUTABLE:
            continue
        if kind is not dict and kind is not list:
            return None
        inner_plan = _plan(value)
        if inner_plan is None:
            return None
        plan.append((key, kind is dict, inner_plan))
    return plan


def _copy(plan: _Plan, container: Any, is_dict: bool = True) -> Any:
    """A copy of ``container`` with a copy of every dict and list ``plan`` names inside it."""
    new = dict(container) if is_dict else list(container)
    for key, inner_is_dict, inner_plan in plan:
        new[key] = _copy(inner_plan, container[key], inner_is_dict)
    return new
