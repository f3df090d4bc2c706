"""Shorter paths through the embedded store (mongomock-ng) for the shapes requests use most.

Why: for every read mongomock builds a query-profiler record (even with the profiler off), runs
its general matcher on each document, compares sort keys through a general BSON comparison,
copies each returned document field by field with ``copy.copy`` on every value and then copies it
a second time to make its datetimes timezone-aware. Listing the demo's five todos took ~300 us and
a static-key device lookup ~65 us, nearly all of it there (now ~70 us and ~28 us).

Each patch takes a short path for the plain shapes (exact ``dict``/``list`` containers; ``str``,
numbers, ``None``, ``datetime``, ``ObjectId`` values; ``field: value`` equality filters; no
projection or one of top-level fields; sort keys of one plain type) and hands everything else to
mongomock's own function, kept in ``ORIGINALS``. The answers are mongomock's:
``tests/test_embedded_fast.py`` runs every query both ways on awkward documents and compares them.

Installed once by :func:`core.data.embedded.make_thread_safe`, so every embedded client of the
process gets it (ours, and the benchmark's hand-written baselines on the same store). A real
MongoDB (pymongo) is not touched.
"""
from __future__ import annotations

import datetime as _dt
import functools
import threading
from collections.abc import Callable
from typing import Any

from bson import ObjectId

from core.data import embedded_index as _index
from core.data.embedded_documents import Documents

# Values copy.copy returns unchanged (or, for datetime and ObjectId, as an equal new object of a
# type nobody can change in place): a copied document may share them with the stored one.
_IMMUTABLE = frozenset({str, int, float, bool, type(None), bytes, _dt.datetime, ObjectId})
# Values without a datetime inside: the timezone pass returns them unchanged.
_NO_DATETIME = frozenset({str, int, float, bool, type(None), bytes, ObjectId})
# A filter value of one of these exact types equals a stored value of the same type as Python says.
_EQUAL_BY_VALUE = frozenset({str, int, ObjectId})
_MISSING = object()
# Two values of one of these exact types are ordered by BSON as Python orders them.
_PLAIN_ORDER = frozenset({str, int, float, bool, _dt.datetime, ObjectId})

ORIGINALS: dict[str, Callable[..., Any]] = {}
_utc: Any = None  # the tzinfo mongomock gives returned datetimes (bson's UTC), set by install()
_comparable: Any = None  # filtering.BsonComparable, set by install()
_collection: Any = None  # the module mongomock_ng.collection, set by install()


def copy_field(obj: Any, container: Callable[[], Any]) -> Any:
    """mongomock's ``_copy_field`` (a deep copy into ``container`` mappings) without ``copy.copy`` on plain values."""
    cls = type(obj)
    if cls in _IMMUTABLE:
        return obj
    if cls is dict:
        new = container()
        for key, value in obj.items():
            new[key] = value if type(value) in _IMMUTABLE else copy_field(value, container)
        return new
    if cls is list:
        return [value if type(value) in _IMMUTABLE else copy_field(value, container) for value in obj]
    return ORIGINALS["_copy_field"](obj, container)


def make_aware(value: Any) -> Any:
    """mongomock's ``make_datetime_timezone_aware_in_document`` (a copy with UTC datetimes), by exact type."""
    cls = type(value)
    if cls is dict:
        return {k: (v if type(v) in _NO_DATETIME else make_aware(v)) for k, v in value.items()}
    if cls is _dt.datetime:
        return value.replace(tzinfo=_utc)
    if cls is list:
        return [v if type(v) in _NO_DATETIME else make_aware(v) for v in value]
    if cls in _NO_DATETIME:
        return value
    return ORIGINALS["make_datetime_timezone_aware_in_document"](value)


def copy_aware(obj: Any) -> Any:
    """``make_aware(copy_field(obj, dict))`` in one pass: what a timezone-aware cursor returns."""
    cls = type(obj)
    if cls is _dt.datetime:
        return obj.replace(tzinfo=_utc)
    if cls in _NO_DATETIME:
        return obj
    if cls is dict:
        return {k: (v if type(v) in _NO_DATETIME else copy_aware(v)) for k, v in obj.items()}
    if cls is list:
        return [v if type(v) in _NO_DATETIME else copy_aware(v) for v in obj]
    return make_aware(ORIGINALS["_copy_field"](obj, dict))


def _projected_in_place(doc: dict[str, Any], names: frozenset[str], include: Any, id_value: Any) -> dict[str, Any]:
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
    """``make_aware`` for a document nobody else holds: its datetimes made UTC where they are."""
    if type(obj) is dict:
        for key, value in obj.items():  # assigning existing keys only: the iteration stays valid
            cls = type(value)
            if cls is _dt.datetime:
                obj[key] = value.replace(tzinfo=_utc)
            elif cls is dict or cls is list:
                aware_in_place(value)
            elif cls not in _NO_DATETIME:
                obj[key] = make_aware(value)
    else:  # a list
        for i, value in enumerate(obj):
            cls = type(value)
            if cls is _dt.datetime:
                obj[i] = value.replace(tzinfo=_utc)
            elif cls is dict or cls is list:
                aware_in_place(value)
            elif cls not in _NO_DATETIME:
                obj[i] = make_aware(value)
    return obj


class _AwareCopies:
    """While a timezone-aware cursor of ``collection`` fills its results, copies are made aware at
    once; ``last`` is the latest such copy, which the cursor then takes as it is."""

    __slots__ = ("collection", "last")

    def __init__(self, collection: Any) -> None:
        self.collection, self.last = collection, None


_filling = threading.local()  # .aware: the _AwareCopies of the cursor filling its results in this thread


def _flat_projection(fields: Any) -> tuple[frozenset[str], Any, Any] | None:
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


def copy_only_fields(self: Any, doc: Any, fields: Any, container: Any, filter: Any = None) -> Any:
    """mongomock's ``Collection._copy_only_fields`` for no projection or one of top-level fields
    (same steps, same order); the copy is made timezone-aware at once for the cursor filling in."""
    aware = getattr(_filling, "aware", None)
    if aware is not None and (aware.collection is not self or container is not dict):
        aware = None
    plan = _flat_projection(fields) if fields else None
    if (plan is not None or not fields) and container is dict and type(doc) is dict and \
            type(self._store._documents) is Documents:
        # decoded from the stored BSON for this query alone: nobody else holds it, no copy needed
        if plan is not None:
            doc = _projected_in_place(doc, *plan)
        if aware is not None:
            aware.last = aware_in_place(doc)
        return doc
    if not fields:
        if aware is None:
            return copy_field(doc, container)
        aware.last = copy_aware(doc)
        return aware.last
    if plan is None or type(doc) is not dict:
        return ORIGINALS["_copy_only_fields"](self, doc, fields, container, filter)
    names, include, id_value = plan
    copy: Callable[[Any], Any]
    if aware is None:
        copy, kept_as_is = functools.partial(copy_field, container=container), _IMMUTABLE
    else:
        copy, kept_as_is = copy_aware, _NO_DATETIME
    include = bool(include)
    doc_copy = container()
    for key, value in doc.items():
        if (key in names) is include:  # included by name, or not excluded by name
            doc_copy[key] = value if type(value) in kept_as_is else copy(value)
    if id_value == 0:
        doc_copy.pop("_id", None)
    elif "_id" in doc:
        doc_copy["_id"] = doc["_id"] if aware is None else make_aware(doc["_id"])
    if aware is not None:
        aware.last = doc_copy
    return doc_copy


def compute_results(self: Any, with_limit_and_skip: bool = False) -> Any:
    """``Cursor._compute_results``; a timezone-aware cursor takes the copies made aware while they
    were copied instead of copying each document a second time."""
    if not self._results or self._factory_last_generated_results != self._factory:
        if self.collection.codec_options.tz_aware:
            aware, previous = _AwareCopies(self.collection), getattr(_filling, "aware", None)
            _filling.aware = aware
            try:
                results = [x if x is aware.last else make_aware(x) for x in self._factory()]
            finally:
                _filling.aware = previous
        else:
            results = list(self._factory())
        self._factory_last_generated_results = self._factory
        self._results = results
    if with_limit_and_skip:
        results = self._results[self._skip:]
        if self._limit:
            results = results[: abs(self._limit)]
    else:
        results = self._results
    return results


def bson_less(self: Any, other: Any) -> Any:
    """``BsonComparable.__lt__``: two values of one plain type compare as Python compares them."""
    a, b = self.obj, other.obj
    cls = type(a)
    if cls is type(b) and cls in _PLAIN_ORDER:
        return a < b
    return ORIGINALS["BsonComparable.__lt__"](self, other)


def sort_key(key: Any, doc: Any) -> Any:
    """``filtering.resolve_sort_key`` for a top-level field holding one plain value (the usual sort)."""
    if type(doc) is dict and type(key) is str and key and "." not in key:
        value = doc.get(key)
        if type(value) in _PLAIN_ORDER:
            return 1, _comparable(value)
    return ORIGINALS["resolve_sort_key"](key, doc)


def _equalities(filter: Any) -> list[tuple[list[str], Any]] | None:
    """``[(path parts, value)]`` of a filter made only of ``field: value`` equalities on strings,
    integers or ObjectIds (``{"access.key": k}``, ``{"_id": oid}``, ``{}``), else None."""
    if type(filter) is not dict:
        return None
    out = []
    for key, value in filter.items():
        if type(key) is not str or "$" in key or type(value) not in _EQUAL_BY_VALUE:
            return None
        parts = key.split(".")
        if "" in parts:
            return None
        out.append((parts, value))
    return out


def _probes(filter: Any) -> list[tuple[list[str], Any]]:
    """The plain ``field: value`` equalities beside operators (``{"access.key": k, "x": {"$exists": False}}``):
    a matching document must satisfy each, so an index on one of them narrows the candidates."""
    if type(filter) is not dict:
        return []
    return [(key.split("."), value) for key, value in filter.items()
            if type(key) is str and not key.startswith("$") and type(value) in _EQUAL_BY_VALUE
            and "" not in key.split(".")]


def _equal(equalities: list[tuple[list[str], Any]], document: Any) -> bool | None:
    """Whether ``document`` matches, when every path runs through plain dicts to a value of the
    wanted type; None (let mongomock decide) for arrays, None, other mappings or other types."""
    for parts, wanted in equalities:
        value = document
        for part in parts:
            if type(value) is not dict:
                return None
            value = value.get(part, _MISSING)
            if value is _MISSING:
                return False  # a missing field equals no string, integer or ObjectId
        if type(value) is not type(wanted):
            return None
        if value != wanted:
            return False
    return True


def _matching(documents: list[Any], filter: Any, equalities: list[tuple[list[str], Any]],
              applies: Callable[[Any, Any], bool]) -> Any:
    for document in documents:
        verdict = _equal(equalities, document)
        if verdict is None:
            verdict = applies(filter, document)
        if verdict:
            yield document


def iter_documents(self: Any, filter: Any) -> Any:
    """``Collection._iter_documents``: no query-profiler record while it is off, plain equalities matched directly."""
    if _collection.get_profiler().enabled:
        return ORIGINALS["_iter_documents"](self, filter)
    applies = _collection.filter_applies
    if self._store.is_empty:
        applies(filter, {})  # an invalid filter raises on an empty collection too
    equalities = _equalities(filter)
    if equalities is None:
        candidates = _indexed(self._store, _probes(filter))
        if candidates is None:
            candidates = list(self._store.documents)
        return (document for document in candidates if applies(filter, document))
    candidates = _indexed(self._store, equalities)
    if candidates is None:
        candidates = list(self._store.documents)  # the list taken now, as mongomock
    return _matching(candidates, filter, equalities, applies)


def _indexed(store: Any, equalities: list[tuple[list[str], Any]]) -> list[Any] | None:
    """The candidates of an equality on ``_id`` or on a single-field index (core.data.embedded_index), else None."""
    if not equalities:
        return None
    store._remove_expired_documents()  # what a scan would have done first
    for parts, value in equalities:
        if len(parts) == 1 and parts[0] == "_id":
            return _index.lookup(store, "_id", value)
    for parts, value in equalities:
        found = _index.lookup(store, ".".join(parts), value)
        if found is not None:
            return found
    return None


def targets() -> list[tuple[Any, str, str, Callable[..., Any]]]:
    """``(owner, attribute, ORIGINALS key, short path)`` of every patch (tests swap them back and forth)."""
    from mongomock_ng import collection, filtering, helpers

    return [(collection, "_copy_field", "_copy_field", copy_field),
            (collection.Collection, "_copy_only_fields", "_copy_only_fields", copy_only_fields),
            (helpers, "make_datetime_timezone_aware_in_document", "make_datetime_timezone_aware_in_document",
             make_aware),
            (filtering.BsonComparable, "__lt__", "BsonComparable.__lt__", bson_less),
            (filtering, "resolve_sort_key", "resolve_sort_key", sort_key),
            (collection.Collection, "_iter_documents", "_iter_documents", iter_documents),
            (collection.Cursor, "_compute_results", "Cursor._compute_results", compute_results)]


def install() -> None:
    """Put the short paths in place (idempotent); the replaced functions stay in ORIGINALS."""
    global _utc, _comparable, _collection
    if ORIGINALS:
        return
    from mongomock_ng import collection, filtering, helpers

    _utc, _comparable, _collection = helpers.utc, filtering.BsonComparable, collection
    patches = targets()
    for owner, attribute, key, _fast in patches:
        ORIGINALS[key] = owner.__dict__[attribute]
    for owner, attribute, _key, fast in patches:
        setattr(owner, attribute, fast)
