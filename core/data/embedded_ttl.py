"""TTL indexes of the embedded store: sweep only when a document can have expired.

Why: mongomock-ng removes expired documents by scanning the whole collection on every access to
it (every insert, lookup, count). A collection with a TTL index grows with traffic (one-time
nonces of signed requests, sessions), so every request paid a scan of everything still stored:
with 25,000 nonces ~6 ms per signed request.

Here each collection store remembers when its next document is due (the earliest ``field value +
expireAfterSeconds`` over its TTL indexes) and skips the scan until then. Every write through the
store lowers that moment when the written document is due sooner; creating or dropping an index,
dropping the collection and aborting a transaction forget it (the next access scans again). A
value the store cannot date for certain (not a datetime, a list of them, missing, ...) is handled
by mongomock's own code: when unsure, the store scans. Expired documents are gone on the first
access after they expire, as before (a real MongoDB removes them within about a minute).
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from core.data.embedded_documents import values

ORIGINALS: dict[str, Callable[..., Any]] = {}
_NOTHING: Any = None  # mongomock's "no such field", set by install()
_UNKNOWN = object()  # a document whose due time cannot be told: scan on every access while it is stored
_NEVER_TYPES = frozenset({str, int, float, bool, type(None), bytes, dict})  # mongomock never expires these
_helpers: Any = None  # mongomock_ng.helpers, set by install()
_mongomock: Any = None  # the package: its utcnow() is the store's clock (tests may patch it)


def _ttl_fields(store: Any) -> list[tuple[str, float]]:
    """``[(field, seconds)]`` of the store's TTL indexes mongomock honours."""
    fields: list[tuple[str, float]] = []
    for index in store._ttl_indexes.values():
        keys = list(index["key"])
        if len(keys) != 1:
            continue  # compound: mongomock ignores it
        try:
            seconds = int(index["expireAfterSeconds"])
        except (TypeError, ValueError):
            continue  # mongomock ignores a non-integer expiry (and raises on None: let it)
        fields.append((keys[0][0], seconds))
    return fields


def _due(document: Any, fields: list[tuple[str, float]], now: _dt.datetime) -> Any:
    """When ``document`` expires (a datetime), None for never, ``_UNKNOWN`` when this module cannot tell."""
    earliest = None
    for field, seconds in fields:
        value = _helpers.get_value_by_dot(document, field)
        if value is _NOTHING or type(value) in _NEVER_TYPES:
            continue
        if type(value) is not _dt.datetime:
            return _UNKNOWN  # lists, dates, other objects: mongomock's own rules decide
        if value.tzinfo is None and now.tzinfo is not None:
            value = value.replace(tzinfo=now.tzinfo)
        elif (value.tzinfo is None) != (now.tzinfo is None):
            return _UNKNOWN
        try:
            due = value + _dt.timedelta(seconds=seconds)
        except OverflowError:
            continue  # past datetime.max: never
        earliest = due if earliest is None or due < earliest else earliest
    return earliest


def _next_due(store: Any, now: _dt.datetime) -> Any:
    """The earliest due time over the stored documents (None: nothing will expire), or ``_UNKNOWN``."""
    fields = _ttl_fields(store)
    earliest = None
    for document in values(store._documents):
        due = _due(document, fields, now)
        if due is _UNKNOWN:
            return _UNKNOWN
        if due is not None and (earliest is None or due < earliest):
            earliest = due
    return earliest


def remove_expired(self: Any) -> None:
    """``CollectionStore._remove_expired_documents``, skipped while no stored document can be due."""
    if not self._ttl_indexes:
        return
    now = _mongomock.utcnow()
    state = self.__dict__.get("_mia_ttl_due", _UNKNOWN)  # absent: unknown
    if state is not _UNKNOWN:
        try:
            if state is None or now < state:
                return
        except TypeError:  # the clock changed between naive and aware (a test's patched utcnow)
            pass
    ORIGINALS["_remove_expired_documents"](self)
    self._mia_ttl_due = _next_due(self, now)


def set_item(self: Any, key: Any, value: Any) -> None:
    """``CollectionStore.__setitem__``: a written document may be due before everything stored."""
    ORIGINALS["__setitem__"](self, key, value)
    state = self.__dict__.get("_mia_ttl_due", _UNKNOWN)
    if state is _UNKNOWN or not self._ttl_indexes:
        return
    due = _due(value, _ttl_fields(self), _mongomock.utcnow())
    if due is _UNKNOWN:
        self._mia_ttl_due = _UNKNOWN
    elif due is not None:
        try:
            if state is None or due < state:
                self._mia_ttl_due = due
        except TypeError:
            self._mia_ttl_due = _UNKNOWN


def _forgetting(name: str) -> Callable[..., Any]:
    """``CollectionStore.<name>``, after which the next access scans again (indexes or documents changed)."""
    def forget(self: Any, *args: Any, **kwargs: Any) -> Any:
        self._mia_ttl_due = _UNKNOWN
        try:
            return ORIGINALS[name](self, *args, **kwargs)
        finally:
            self._mia_ttl_due = _UNKNOWN

    forget.__name__ = name
    return forget


FORGETTING = ("create_index", "drop_index", "drop", "abort_transaction")


def install() -> None:
    """Put the due-time bookkeeping in place (idempotent); the replaced methods stay in ORIGINALS."""
    global _helpers, _mongomock, _NOTHING
    if ORIGINALS:
        return
    import mongomock_ng
    from mongomock_ng import helpers, store

    _helpers, _mongomock, _NOTHING = helpers, mongomock_ng, helpers.NOTHING
    cls = store.CollectionStore
    replacements: dict[str, Callable[..., Any]] = {"_remove_expired_documents": remove_expired,
                                                   "__setitem__": set_item}
    replacements.update({name: _forgetting(name) for name in FORGETTING})
    for name in replacements:
        ORIGINALS[name] = cls.__dict__[name]
    for name, method in replacements.items():
        setattr(cls, name, method)
