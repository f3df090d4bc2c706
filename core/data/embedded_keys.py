"""Index keys of the embedded store as MongoDB computes them, and one index's key -> documents map.

Why: core.data.embedded_index keeps these per collection so that a unique check or a find by an
indexed field is a hash lookup instead of a pass over every document. The rules are MongoDB's: an
array field is multikey (one key per element; an empty array is one ``undefined`` key), a missing
field is null unless the index is sparse (then a document missing every field is left out), a
partial index holds only what its filter matches, 1 and 1.0 are one key but ``True`` is not 1, and a
compound key over two array fields is refused (MongoDB's code 171).
"""
from __future__ import annotations

import datetime as _dt
import itertools
from collections.abc import Mapping
from typing import Any

from bson import Binary, Decimal128, ObjectId
from mongomock_ng.helpers import NOTHING as _NOTHING

from core.data.embedded_documents import pairs

_UNDEFINED = ("$undefined",)  # the key of an empty array
_NULL = ("$null",)
_SELF_KEYED = frozenset({int, float, ObjectId})  # values that are their own index key


def text_key(value: str) -> bytes:
    """A string's index key: its UTF-8 bytes, 16 bytes less than the ``str`` per key (a million-document
    unique index held 58 MB of key strings). No other key is ``bytes`` (binary values key as tuples)."""
    return value.encode("utf-8", "surrogatepass")


def shown(key: Any) -> Any:
    """An index key as the value it stands for (for messages)."""
    if type(key) is bytes:
        return key.decode("utf-8", "surrogatepass")
    if type(key) is tuple and key[:1] not in (("$doc",), ("$arr",), ("$bin",), ("$bool",), ("$num",), ("$null",)):
        return tuple(shown(part) for part in key)  # a compound key
    return key


def canon(value: Any) -> Any:
    """A hashable key equal for values MongoDB's index holds as equal (1 == 1.0, True != 1, ...)."""
    cls = type(value)
    if cls is str:  # a string never equals a number or a date
        return text_key(value)
    if cls in _SELF_KEYED:  # 1 == 1.0 is what MongoDB says too
        return value
    if value is None:
        return _NULL
    if cls is bool:
        return ("$bool", value)
    if isinstance(value, (int, float)):
        return value
    if cls is _dt.datetime:  # stored naive UTC, to the millisecond (mongomock's form)
        if value.tzinfo is not None:
            value = (value - value.utcoffset()).replace(tzinfo=None)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    if isinstance(value, Mapping):
        return ("$doc", *((k, canon(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("$arr", *(canon(v) for v in value))
    if isinstance(value, Binary):
        return ("$bin", value.subtype, bytes(value))
    if cls is bytes:
        return ("$bin", 0, value)
    if cls is Decimal128:
        return ("$num", value.to_decimal())
    try:
        hash(value)
    except TypeError:
        return ("$repr", cls.__name__, repr(value))
    return ("$other", cls.__name__, value)


def _values(value: Any, parts: list[str], i: int, out: list[Any]) -> bool:
    """Append the index values of ``parts[i:]`` under ``value`` to ``out``; True if an array was expanded."""
    while i < len(parts):
        if isinstance(value, Mapping):
            value = value.get(parts[i], _NOTHING)
            if value is _NOTHING:
                out.append(_NOTHING)
                return False
            i += 1
        elif isinstance(value, (list, tuple)):
            if parts[i].isdigit():
                position = int(parts[i])
                if position >= len(value):
                    out.append(_NOTHING)
                    return False
                value, i = value[position], i + 1
                continue
            before = len(out)
            for element in value:
                if isinstance(element, Mapping):
                    _values(element, parts, i, out)
            if len(out) == before:
                out.append(_NOTHING)
            return True
        else:
            out.append(_NOTHING)
            return False
    if isinstance(value, (list, tuple)):
        out.extend(value if value else [_UNDEFINED])
        return True
    out.append(value)
    return False


def _array_prefix(document: Any, parts: list[str]) -> int | None:
    """How many path parts lead to the first array on the path (all of them if the value is one), else None."""
    value = document
    for i, part in enumerate(parts):
        if isinstance(value, (list, tuple)):
            if not part.isdigit():
                return i
            value = value[int(part)] if int(part) < len(value) else _NOTHING
        elif isinstance(value, Mapping):
            value = value.get(part, _NOTHING)
        else:
            return None
    return len(parts) if isinstance(value, (list, tuple)) else None


def _single(document: Any, parts: list[str]) -> Any:
    """The value at ``parts`` through mappings and numeric positions (``_NOTHING`` when absent)."""
    value = document
    for part in parts:
        if isinstance(value, Mapping):
            value = value.get(part, _NOTHING)
        elif isinstance(value, (list, tuple)) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _NOTHING
    return value


class ParallelArrays(Exception):
    """A compound index key over two array fields (MongoDB's code 171)."""


class Index:
    """One index of one collection store: key -> ids (one id, or a dict used as an ordered set)."""

    __slots__ = ("name", "spec", "fields", "paths", "plain", "unique", "sparse", "partial", "keys", "built")

    def __init__(self, name: str, spec: dict[str, Any]) -> None:
        self.name, self.spec = name, spec
        self.fields = [field for field, _direction in spec["key"]]
        self.paths = [field.split(".") for field in self.fields]
        self.plain = self.paths[0] if len(self.paths) == 1 else None
        self.unique, self.sparse = bool(spec.get("unique")), bool(spec.get("sparse"))
        self.partial = spec.get("partialFilterExpression")
        self.keys: dict[Any, Any] = {}
        self.built = False  # unique indexes are built at once, the others on their first lookup

    def build(self, documents: Any) -> None:
        """Index every stored document (one pass; a document with parallel arrays is left out, as before)."""
        build_all([self], documents)

    def take(self, doc_id: Any, document: Any) -> None:
        """Index one document while the index is built (a document with parallel arrays is left out)."""
        if self.plain is not None and self.partial is None:  # the usual case, without a list per document
            key = self.plain_key(document)
            if key is not _NOTHING and self.keys.setdefault(key, doc_id) is doc_id:
                return
        try:
            self.add(doc_id, self.keys_of(document))
        except ParallelArrays:
            pass

    def plain_key(self, document: Any) -> Any:
        """The key of ``document`` for an index on one field reached through plain dicts, when its value
        is a string, a number, an ObjectId or a naive datetime in milliseconds (the usual key); else _NOTHING."""
        value = document
        for part in self.plain or ():
            value = value.get(part, _NOTHING) if type(value) is dict else _NOTHING
        cls = type(value)
        if cls is str:
            return text_key(value)
        if cls in _SELF_KEYED or cls is _dt.datetime and value.tzinfo is None and not value.microsecond % 1000:
            return value
        return _NOTHING

    def keys_of(self, document: Any) -> list[Any]:
        """The index keys of ``document`` (none when a sparse or partial index leaves it out)."""
        if self.partial is not None and not _filter_applies(self.partial, document):
            return []
        if self.plain is not None:
            key = self.plain_key(document)
            if key is not _NOTHING:
                return [key]
        if len(self.paths) == 1:
            values: list[Any] = []
            _values(document, self.paths[0], 0, values)
            if self.sparse and all(v is _NOTHING for v in values):
                return []
            return list(dict.fromkeys(_NULL if v is _NOTHING else canon(v) for v in values))
        prefixes = [_array_prefix(document, parts) for parts in self.paths]
        arrays = list(dict.fromkeys(tuple(parts[:i]) for parts, i in zip(self.paths, prefixes, strict=True)
                                    if i is not None))
        if len(arrays) > 1:  # two different arrays; fields under one shared array are not parallel
            raise ParallelArrays(f"cannot index parallel arrays [{'.'.join(arrays[0])}] [{'.'.join(arrays[1])}]")
        prefix = arrays[0] if arrays else ()
        elements = (_single(document, list(prefix)) or [_NOTHING]) if arrays else [document]
        keys: list[Any] = []
        for element in elements:  # one key set per element of the shared array, its fields from that element
            per_field, expanded = [], 0
            for parts, i in zip(self.paths, prefixes, strict=True):
                found: list[Any] = []
                expanded += _values(document, parts, 0, found) if i is None else \
                    _values(element, parts[len(prefix):], 0, found)
                per_field.append(found)
            if expanded > 1:
                raise ParallelArrays(f"cannot index parallel arrays under {'.'.join(prefix) or 'the document'}")
            if self.sparse and all(v is _NOTHING for values in per_field for v in values):
                continue
            keys.extend(itertools.product(*[[_NULL if v is _NOTHING else canon(v) for v in values]
                                             for values in per_field]))
        return list(dict.fromkeys(keys))

    def holders(self, key: Any) -> list[Any]:
        held = self.keys.get(key, _NOTHING)
        if held is _NOTHING:
            return []
        return list(held) if type(held) is _Ids else [held]

    def add(self, doc_id: Any, keys: list[Any]) -> None:
        if len(keys) == 1:
            key = keys[0]
            held = self.keys.setdefault(key, doc_id)
            if held is not doc_id and held != doc_id:
                if type(held) is _Ids:
                    held[doc_id] = None
                else:
                    self.keys[key] = _Ids(((held, None), (doc_id, None)))
            return
        for key in keys:
            held = self.keys.get(key, _NOTHING)
            if held is _NOTHING:
                self.keys[key] = doc_id
            elif type(held) is _Ids:
                held[doc_id] = None
            elif held != doc_id:
                self.keys[key] = _Ids(((held, None), (doc_id, None)))

    def remove(self, doc_id: Any, document: Any) -> None:
        """Take ``doc_id`` out under the keys of ``document``, its stored version (no map from id to
        keys is kept: the stored bytes are that map, and a million ids cost 40 MB per index)."""
        try:
            keys = self.keys_of(document)
        except ParallelArrays:
            return  # never indexed
        for key in keys:
            held = self.keys.get(key, _NOTHING)
            if type(held) is _Ids:
                held.pop(doc_id, None)
                if len(held) == 1:
                    self.keys[key] = next(iter(held))
            elif held is not _NOTHING and held == doc_id:
                del self.keys[key]


class _Ids(dict):
    """The ids under one key when there are several (a dict as an insertion-ordered set)."""


def _filter_applies(flt: Any, document: Any) -> bool:
    from mongomock_ng.filtering import filter_applies

    return bool(filter_applies(flt, document))


def build_all(indexes: list[Index], documents: Any) -> None:
    """Build ``indexes`` in one pass over ``documents`` (each stored document decoded once)."""
    if indexes:
        takes = [index.take for index in indexes]
        for doc_id, document in pairs(documents):
            for take in takes:
                take(doc_id, document)
    for index in indexes:
        index.built = True
