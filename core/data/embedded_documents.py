"""One collection's documents kept as BSON bytes in the embedded store, decoded on every read.

Why: mongomock-ng keeps each document as a Python dict. A million small todos (139 bytes of BSON
each) took about 720 bytes each that way (5.2x their BSON size, issue 24); as ``bytes`` they take
about 300 with their key. Every read decodes a fresh dict (C code, about 1.5 us for a small
document), so what a caller changes is never the stored document: what MongoDB does too. mongomock
writes every changed document back through the store's ``__setitem__`` (an update changes the copy
it read, then stores it), so nothing it does is lost.

The encoding is MongoDB's own: a document the embedded store keeps is one MongoDB would keep. A
value BSON cannot hold (a ``set``, a ``Decimal``, an integer past 64 bits) is refused with pymongo's
``InvalidDocument`` before anything is stored; tuples come back as lists, 64-bit integers as
``bson.Int64`` (an ``int``), as from a real server. Datetimes are stored naive UTC in milliseconds
(mongomock already rounds them so).

Installed by :func:`core.data.embedded.make_thread_safe`: every ``CollectionStore`` created or
dropped afterwards holds a :class:`Documents`. Snapshots (core.data.embedded_snapshot) read and
write the raw bytes directly, with no decoding or encoding.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any

import bson
from bson import ObjectId
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions

# naive UTC datetimes (as mongomock stores them); uuid.UUID kept as the standard subtype 4
OPTIONS: CodecOptions[Any] = CodecOptions(tz_aware=False, uuid_representation=UuidRepresentation.STANDARD)
_decode, _encode = bson.decode, bson.encode
_MISSING: Any = object()
ORIGINALS: dict[str, Callable[..., Any]] = {}


def encode(document: Any) -> bytes:
    return _encode(document, codec_options=OPTIONS)


def decode(raw: bytes) -> dict[str, Any]:
    return _decode(raw, OPTIONS)


def raw_id(raw: bytes) -> Any:
    """The ``_id`` of a raw document: read in place when it is the first field and an ObjectId (the
    usual case: 12 bytes at a fixed offset), else from the decoded document."""
    if raw[4] == 0x07 and raw[5:9] == b"_id\x00":
        return ObjectId(raw[9:21])
    return decode(raw)["_id"]


def pairs(documents: Any) -> Iterable[tuple[Any, Any]]:
    """``(key, document)`` of every stored document, safe against a delete meanwhile: decoded one at a
    time from a :class:`Documents`, or from a list taken now of another mapping."""
    return documents.items() if type(documents) is Documents else list(documents.items())


def values(documents: Any) -> Iterable[Any]:
    """Every stored document, as :func:`pairs` takes them."""
    return documents.values() if type(documents) is Documents else list(documents.values())


class Documents(MutableMapping[Any, Any]):
    """The mapping mongomock-ng keeps as ``CollectionStore._documents``: store key -> document, in
    insertion order, the documents held as BSON bytes."""

    __slots__ = ("raw",)

    def __init__(self, items: Iterable[tuple[Any, Any]] = ()) -> None:
        self.raw: dict[Any, bytes] = {}
        for key, document in items:
            self[key] = document

    def __getitem__(self, key: Any) -> Any:
        return _decode(self.raw[key], OPTIONS)

    def get(self, key: Any, default: Any = None) -> Any:
        raw = self.raw.get(key)
        return default if raw is None else _decode(raw, OPTIONS)

    def __setitem__(self, key: Any, document: Any) -> None:
        self.raw[key] = _encode(document, codec_options=OPTIONS)

    def __delitem__(self, key: Any) -> None:
        del self.raw[key]

    def discard(self, key: Any) -> None:
        """Remove ``key`` if it is there (no decoding of what is removed)."""
        self.raw.pop(key, None)

    def pop(self, key: Any, default: Any = _MISSING) -> Any:
        raw = self.raw.pop(key, None)
        if raw is None:
            if default is _MISSING:
                raise KeyError(key)
            return default
        return _decode(raw, OPTIONS)

    def __contains__(self, key: object) -> bool:
        return key in self.raw

    def __len__(self) -> int:
        return len(self.raw)

    def __bool__(self) -> bool:
        return bool(self.raw)

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self.raw))  # the keys as they are now: a delete meanwhile does not break the loop

    def values(self) -> Iterator[Any]:  # type: ignore[override]  # one decoded document at a time
        raw = self.raw
        for key in list(raw):
            data = raw.get(key)
            if data is not None:
                yield _decode(data, OPTIONS)

    def items(self) -> Iterator[tuple[Any, Any]]:  # type: ignore[override]
        raw = self.raw
        for key in list(raw):
            data = raw.get(key)
            if data is not None:
                yield key, _decode(data, OPTIONS)

    def clear(self) -> None:
        self.raw.clear()

    def copy(self) -> Documents:
        """A copy sharing the (immutable) bytes: what a transaction saves, at the cost of one dict."""
        new = Documents()
        new.raw = dict(self.raw)
        return new

    def __copy__(self) -> Documents:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> Documents:
        return self.copy()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Documents):
            return self.raw == other.raw
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Documents({len(self.raw)} documents)"


def install() -> None:
    """Every collection store created or dropped from now on holds a :class:`Documents` (idempotent)."""
    if ORIGINALS:
        return
    from mongomock_ng import store

    cls = store.CollectionStore
    ORIGINALS["__init__"], ORIGINALS["drop"] = cls.__dict__["__init__"], cls.__dict__["drop"]

    def init(self: Any, name: Any) -> None:
        ORIGINALS["__init__"](self, name)
        self._documents = Documents()

    def drop(self: Any) -> None:
        ORIGINALS["drop"](self)
        self._documents = Documents()

    setattr(cls, "__init__", init)  # noqa: B010 - mypy refuses assigning to a method
    setattr(cls, "drop", drop)  # noqa: B010
