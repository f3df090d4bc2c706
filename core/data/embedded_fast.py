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

from core.data import embedded_copies
from core.data import embedded_index as _index
from core.data.embedded_copies import (
    IMMUTABLE,
    NO_DATETIME,
    ORIGINALS,
    aware_in_place,
    copy_aware,
    copy_field,
    flat_projection,
    make_aware,
    projected_in_place,
)
from core.data.embedded_documents import AWARE, OPTIONS, Documents, outer

# A filter value of one of these exact types equals a stored value of the same type as Python says.
_EQUAL_BY_VALUE = frozenset({str, int, ObjectId})
_MISSING = object()
# Two values of one of these exact types are ordered by BSON as Python orders them.
_PLAIN_ORDER = frozenset({str, int, float, bool, _dt.datetime, ObjectId})
_OBJECT_IDS = {ObjectId}
_FIND_ONE_KEYWORDS = frozenset({"projection", "sort"})

_GET_DATASET: list[Any] = [None]  # mongomock's Collection._get_dataset, set by install()
_CLASS: list[Any] = [None]  # mongomock's Collection class, set by install()
_comparable: Any = None  # filtering.BsonComparable, set by install()
_collection: Any = None  # the module mongomock_ng.collection, set by install()


class _AwareCopies:
    """While a timezone-aware cursor of ``collection`` fills its results, copies are made aware at
    once; ``last`` is the latest such copy, which the cursor then takes as it is."""

    __slots__ = ("collection", "last")

    def __init__(self, collection: Any) -> None:
        self.collection, self.last = collection, None


_filling = threading.local()  # .aware: the _AwareCopies of the cursor filling its results in this thread


def copy_only_fields(self: Any, doc: Any, fields: Any, container: Any, filter: Any = None) -> Any:
    """mongomock's ``Collection._copy_only_fields`` for no projection or one of top-level fields
    (same steps, same order); the copy is made timezone-aware at once for the cursor filling in."""
    aware = getattr(_filling, "aware", None)
    if aware is not None and (aware.collection is not self or container is not dict):
        aware = None
    plan = flat_projection(fields) if fields else None
    if (plan is not None or not fields) and container is dict and type(doc) is dict and \
            type(self._store._documents) is Documents:
        # decoded from the stored BSON for this query alone: nobody else holds it, no copy needed
        if plan is not None:
            doc = projected_in_place(doc, *plan)
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
        copy, kept_as_is = functools.partial(copy_field, container=container), IMMUTABLE
    else:
        copy, kept_as_is = copy_aware, NO_DATETIME
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
    """``Cursor._compute_results``: a plain query straight from the stored documents (``_direct``),
    else mongomock's, its copies made timezone-aware while they are copied, not a second time."""
    if not self._results or self._factory_last_generated_results != self._factory:
        results = _direct(self)
        self._results = _through_mongomock(self) if results is None else results
        self._factory_last_generated_results = self._factory
    if with_limit_and_skip:
        results = self._results[self._skip:]
        if self._limit:
            results = results[: abs(self._limit)]
    else:
        results = self._results
    return results


def _through_mongomock(cursor: Any) -> list[Any]:
    """The results by mongomock's ``_get_dataset``, each made timezone-aware as it is copied."""
    if not cursor.collection.codec_options.tz_aware:
        return list(cursor._factory())
    aware, previous = _AwareCopies(cursor.collection), getattr(_filling, "aware", None)
    _filling.aware = aware
    try:
        return [x if x is aware.last else make_aware(x) for x in cursor._factory()]
    finally:
        _filling.aware = previous


def _direct(cursor: Any) -> list[Any] | None:
    """The results of a plain query of ``cursor`` straight from the stored documents, else None
    (mongomock's path): see :func:`_plain_results`."""
    factory = cursor._factory
    if type(factory) is not functools.partial or len(factory.args) != 4 or factory.keywords:
        return None
    spec, sort, fields, as_class = factory.args
    collection: Any = cursor.collection
    func: Any = factory.func
    bound_to: Any = getattr(func, "__self__", None)
    if getattr(func, "__func__", None) is not _GET_DATASET[0] or bound_to is not collection or as_class is not dict:
        return None
    return _plain_results(collection, spec, sort, fields)


def find_plain(collection: Any, filter: Any, projection: Any = None, sort: Any = None, skip: int = 0,
               limit: int = 0) -> list[Any] | None:
    """``list(collection.find(filter, projection, skip=skip, limit=limit).sort(sort))`` for a plain
    query on an embedded collection, without building mongomock's cursor; else None (ask the collection).

    Why: the models' reads (core.data.models) are mostly plain, and the cursor (its spec copied for
    datetimes, its factory, one ``__next__`` per document) cost as much as computing the answer."""
    if (type(collection) is not _CLASS[0] or type(skip) is not int or type(limit) is not int or skip < 0 or limit < 0
            or collection.codec_options.document_class is not dict):
        return None
    documents = _plain_results(collection, {} if filter is None else filter, sort, projection,
                               enough=skip + limit if limit and not sort else 0)
    if documents is None:
        return None
    if skip or limit:
        return documents[skip:skip + limit] if limit else documents[skip:]
    return documents


def find_one(self: Any, filter: Any = None, *args: Any, **kwargs: Any) -> Any:
    """``Collection.find_one``: a plain query (a filter mapping, a projection, a sort) through
    :func:`find_plain`, else mongomock's."""
    if len(args) <= 1 and (not kwargs or kwargs.keys() <= _FIND_ONE_KEYWORDS) and (
            filter is None or type(filter) is dict):
        projection = args[0] if args else kwargs.get("projection")
        if not (args and "projection" in kwargs):
            found = find_plain(self, filter, projection, kwargs.get("sort"), 0, 1)
            if found is not None:
                return found[0] if found else None
    return ORIGINALS["find_one"](self, filter, *args, **kwargs)


def _plain_results(collection: Any, spec: Any, sort: Any, fields: Any, enough: int = 0) -> list[Any] | None:
    """The documents of a plain query, in order and projected, straight from the stored documents;
    None for any other (mongomock's path). ``enough``: with no sort, stop after that many matches.

    Plain: equalities on strings, integers or ObjectIds (or no filter), sort keys that are top-level
    field names, no projection or one of top-level fields, a store of BSON documents (each decoded
    for this query alone). The steps are ``_get_dataset``'s: candidates, filter, one stable sort per
    key from the last, projection; without its generators and per-document copies."""
    if _collection.get_profiler().enabled:
        return None
    store = collection._store
    if type(store._documents) is not Documents:
        return None
    equalities = _equalities(spec) if spec else []
    order = _plain_sort(sort)
    plan = flat_projection(fields) if fields else None
    if equalities is None or order is None or (fields and plan is None):
        return None
    # decoded as the client hands them out (UTC datetimes when tz-aware): no pass to make them so; the
    # filter holds no datetime (plain equalities only), so naive or aware changes no verdict
    options = AWARE if collection.codec_options.tz_aware else OPTIONS
    stored = store._documents
    store._remove_expired_documents()  # what mongomock's scan does first
    keys = _candidate_keys(store, equalities)
    if keys is None:
        candidates: Any = (document for _key, document in stored.inner_items(options))
    else:
        candidates = (document for document in (stored.get_inner(key, options) for key in keys)
                      if document is not None)
    applies = _collection.filter_applies
    documents = []
    for document in candidates:
        verdict = _equal(equalities, document)
        if verdict or (verdict is None and applies(spec, document)):
            documents.append(document)
            if len(documents) == enough:
                break
    for key, reverse in reversed(order):
        kinds = {type(document.get(key, _MISSING)) for document in documents}
        if kinds == _OBJECT_IDS:  # ordered as their 12 bytes: compared in C, not by ObjectId.__lt__
            documents.sort(key=lambda document: document[key].binary, reverse=reverse)  # noqa: B023 - used at once
        elif len(kinds) == 1 and kinds <= _PLAIN_ORDER:
            documents.sort(key=lambda document: document[key], reverse=reverse)  # noqa: B023
        else:
            documents.sort(key=lambda document: sort_key(key, document), reverse=reverse)  # noqa: B023
    if plan is not None:
        documents = [projected_in_place(document, *plan) for document in documents]
    return documents


def _candidate_keys(store: Any, equalities: list[tuple[list[str], Any]]) -> list[Any] | None:
    """The inner keys of the candidates of an equality on ``_id`` or on a single-field index, else None."""
    for parts, value in equalities:
        if len(parts) == 1 and parts[0] == "_id":
            return _index.lookup_keys(store, "_id", value)
    for parts, value in equalities:
        found = _index.lookup_keys(store, ".".join(parts), value)
        if found is not None:
            return found
    return None


def _plain_sort(sort: Any) -> list[tuple[str, bool]] | None:
    """``[(field, descending)]`` of a sort by top-level fields (``[]`` for none), else None."""
    if not sort:
        return []
    out = []
    for item in (sort.items() if isinstance(sort, dict) else sort):
        key, direction = (item, 1) if isinstance(item, str) else item
        if type(key) is not str or not key or "." in key or key.startswith("$") or direction not in (1, -1):
            return None
        out.append((key, direction < 0))
    return out


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
    keys = _candidate_keys(store, equalities)
    if keys is None:
        return None
    stored = store._documents
    found = map(stored.get_inner, keys) if type(stored) is Documents else map(stored.get, map(outer, keys))
    return [document for document in found if document is not None]  # deleted meanwhile: gone


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
            (collection.Cursor, "_compute_results", "Cursor._compute_results", compute_results),
            (collection.Collection, "find_one", "find_one", find_one)]


def install() -> None:
    """Put the short paths in place (idempotent); the replaced functions stay in ORIGINALS."""
    global _comparable, _collection
    if ORIGINALS:
        return
    from mongomock_ng import collection, filtering, helpers

    _comparable, _collection = filtering.BsonComparable, collection
    embedded_copies.UTC[0] = helpers.utc
    _GET_DATASET[0] = collection.Collection.__dict__["_get_dataset"]
    _CLASS[0] = collection.Collection
    patches = targets()
    for owner, attribute, key, _fast in patches:
        ORIGINALS[key] = owner.__dict__[attribute]
    for owner, attribute, _key, fast in patches:
        setattr(owner, attribute, fast)
