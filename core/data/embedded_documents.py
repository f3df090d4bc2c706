"""One collection's documents kept as BSON bytes in the embedded store, decoded on every read.

Why: mongomock-ng keeps each document as a Python dict. A million small todos (139 bytes of BSON
each) took about 720 bytes each that way (5.2x their BSON size, issue 24); kept as bytes, under
the 12 bytes of their ObjectId as the key, they take about 240. Every read decodes a fresh dict (C
code, about 1.5 us for a small document), so what a caller changes is never the stored document:
what MongoDB does too, and no copy is needed on the way out (core.data.embedded_fast). mongomock
writes every changed document back through the store's ``__setitem__`` (an update changes the copy
it read, then stores it), so nothing it does is lost.

The encoding is MongoDB's own: a document the embedded store keeps is one MongoDB would keep. A
value BSON cannot hold (a ``set``, a ``Decimal``, an integer past 64 bits) is refused with pymongo's
``InvalidDocument`` before anything is stored; tuples come back as lists, 64-bit integers as
``bson.Int64`` (an ``int``), as from a real server. Datetimes are stored naive UTC in milliseconds
(mongomock already rounds them so).

Installed by :func:`core.data.embedded.make_thread_safe`: every ``CollectionStore`` created or
dropped afterwards holds a :class:`Documents`. Snapshots (core.data.embedded_snapshot) slice and
write the bytes directly, with no decoding or encoding.
"""
from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any

import bson
from bson import ObjectId
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions

from core.data.embedded_copies import copier

# naive UTC datetimes (as mongomock stores them); uuid.UUID kept as the standard subtype 4
OPTIONS: CodecOptions[Any] = CodecOptions(tz_aware=False, uuid_representation=UuidRepresentation.STANDARD)
# what a timezone-aware client hands out: UTC datetimes (bson's utc, as mongomock's), decoded so at once
# (no tzinfo named: bson's C decoder then attaches its utc without a conversion per value)
AWARE: CodecOptions[Any] = OPTIONS.with_options(tz_aware=True)
_decode, _encode = bson.decode, bson.encode
_MISSING: Any = object()
_BYTES = "bytes"  # the tag of a ``bytes`` id's inner key
_ID_FIELD = b"\x07_id\x00"  # an ObjectId field named _id: its 12 bytes follow
_INT32 = struct.Struct("<i")
ORIGINALS: dict[str, Callable[..., Any]] = {}
# Decoded documents kept per collection for the timezone-aware reads (the app's): at most this many,
# all dropped when full. A collection this small is also kept whole when it is scanned.
RECENT = 1024


def encode(document: Any) -> bytes:
    return _encode(document, codec_options=OPTIONS)


def decode(raw: bytes) -> dict[str, Any]:
    return _decode(raw, OPTIONS)


def pack(key: Any, document: Any) -> bytes:
    """What is kept for ``document`` under inner ``key``: its BSON; for an ObjectId id (``key`` is its
    12 bytes) the BSON after the ``_id`` field, which the key already holds (21 bytes less per
    document). ``_id`` comes first, as MongoDB keeps it."""
    raw = _encode(document, codec_options=OPTIONS)
    if type(key) is not bytes:
        return raw
    if not raw.startswith(_ID_FIELD, 4):  # an id added last (mongomock's insert): first, as MongoDB has it
        raw = _encode({"_id": document["_id"], **document}, codec_options=OPTIONS)
    if raw[9:21] != key:
        raise ValueError("a document stored under another ObjectId than its _id")
    return raw[21:]


def full(key: Any, kept: bytes) -> bytes:
    """The document's whole BSON again from what :func:`pack` kept."""
    if type(key) is not bytes:
        return kept
    return b"".join(((len(kept) + 21).to_bytes(4, "little"), _ID_FIELD, key, kept))


def unpack(key: Any, kept: bytes, options: CodecOptions[Any] = OPTIONS) -> dict[str, Any]:
    return _decode(full(key, kept), options)


def split_record(record: bytes) -> Iterator[tuple[Any, bytes] | bytes]:
    """The documents of a snapshot record ``{"d": [documents]}`` as ``(inner key, kept bytes)``
    sliced straight from the record (no object per document but what is kept), or as a document's
    whole BSON when its first field is not an ObjectId ``_id``. Raises ValueError on a broken record."""
    size = len(record)
    if size < 16 or _INT32.unpack_from(record, 0)[0] != size or record[4:7] != b"\x04d\x00" or \
            _INT32.unpack_from(record, 7)[0] != size - 8 or record[-2:] != b"\x00\x00":
        raise ValueError("a snapshot record is broken")
    position, end, find, unpack_from = 11, size - 2, record.find, _INT32.unpack_from
    while position < end:
        if record[position] != 0x03:
            raise ValueError("a snapshot record holds something else than documents")
        position = find(b"\x00", position + 1) + 1
        length = unpack_from(record, position)[0] if position > 0 else 0
        stop = position + length
        if length < 5 or stop > end or record[stop - 1] != 0:
            raise ValueError("a snapshot record holds a broken document")
        if length >= 22 and record.startswith(_ID_FIELD, position + 4):
            yield record[position + 9:position + 21], record[position + 21:stop]
        else:
            yield record[position:stop]
        position = stop


def inner(key: Any) -> Any:
    """The key a document is kept under: an ObjectId by its 12 bytes (no ObjectId object per stored
    document, 48 bytes each), a ``bytes`` id wrapped so it never meets one of those, anything else as is."""
    cls = type(key)
    if cls is ObjectId:
        return key.binary
    if cls is bytes:
        return (_BYTES, key)
    return key


def outer(key: Any) -> Any:
    """The document's own id again (what mongomock asked with)."""
    cls = type(key)
    if cls is bytes:
        return ObjectId(key)
    if cls is tuple:
        return key[1]
    return key


def inner_id(raw: bytes, store_key: Callable[[Any], Any]) -> Any:
    """The inner key of a whole document's BSON."""
    return inner(store_key(decode(raw)["_id"]))


def pairs(documents: Any) -> Iterable[tuple[Any, Any]]:
    """``(key, document)`` of every stored document, the keys as the store keeps them (see
    :func:`inner`), safe against a delete meanwhile: decoded one at a time from a :class:`Documents`,
    or from a list taken now of another mapping."""
    return documents.inner_items() if type(documents) is Documents else list(documents.items())


def values(documents: Any) -> Iterable[Any]:
    """Every stored document, as :func:`pairs` takes them."""
    return documents.values() if type(documents) is Documents else list(documents.values())


class Documents(MutableMapping[Any, Any]):
    """The mapping mongomock-ng keeps as ``CollectionStore._documents``: store key -> document, in
    insertion order, the documents held as BSON bytes.

    ``recent`` keeps the latest documents decoded for timezone-aware reads (at most :data:`RECENT`)
    beside the bytes they came from: a read whose bytes are still those (``is``: a write stores new
    bytes, and the entry keeps the old ones alive, so their identity is not reused) gets a copy of
    the decoded document, several times cheaper than decoding it again. The entry is never handed
    out itself, so no caller can change it."""

    __slots__ = ("raw", "recent")

    def __init__(self, items: Iterable[tuple[Any, Any]] = ()) -> None:
        self.raw: dict[Any, bytes] = {}
        self.recent: dict[Any, tuple[bytes, dict[str, Any], Callable[[Any], Any]]] = {}
        for key, document in items:
            self[key] = document

    def __getitem__(self, key: Any) -> Any:
        key = inner(key)
        return unpack(key, self.raw[key])

    def get(self, key: Any, default: Any = None) -> Any:
        key = inner(key)
        kept = self.raw.get(key)
        return default if kept is None else unpack(key, kept)

    def get_inner(self, key: Any, options: CodecOptions[Any] = OPTIONS) -> Any:
        """The document kept under an inner key (an index holds those), or None."""
        kept = self.raw.get(key)
        if kept is None:
            return None
        return self._aware(key, kept) if options is AWARE else unpack(key, kept, options)

    def _aware(self, key: Any, kept: bytes) -> dict[str, Any]:
        """The document of ``kept`` decoded timezone-aware: a copy of the recent one, or decoded now."""
        recent = self.recent
        hit = recent.get(key)
        if hit is not None and hit[0] is kept:
            return hit[2](hit[1])
        document = unpack(key, kept, AWARE)
        copy = copier(document)
        if copy is None:
            return document
        if len(recent) >= RECENT:
            recent.clear()  # no ordering to keep up on every read; the ones in use come back at once
        recent[key] = (kept, document, copy)
        return copy(document)

    def __setitem__(self, key: Any, document: Any) -> None:
        key = inner(key)
        self.raw[key] = pack(key, document)
        self.recent.pop(key, None)

    def __delitem__(self, key: Any) -> None:
        key = inner(key)
        del self.raw[key]
        self.recent.pop(key, None)

    def discard(self, key: Any) -> None:
        """Remove ``key`` if it is there (no decoding of what is removed)."""
        key = inner(key)
        self.raw.pop(key, None)
        self.recent.pop(key, None)

    def pop(self, key: Any, default: Any = _MISSING) -> Any:
        inner_key = inner(key)
        self.recent.pop(inner_key, None)
        kept = self.raw.pop(inner_key, None)
        if kept is None:
            if default is _MISSING:
                raise KeyError(key)
            return default
        return unpack(inner_key, kept)

    def __contains__(self, key: object) -> bool:
        return inner(key) in self.raw

    def __len__(self) -> int:
        return len(self.raw)

    def __bool__(self) -> bool:
        return bool(self.raw)

    def __iter__(self) -> Iterator[Any]:
        return map(outer, list(self.raw))  # the keys as they are now: a delete meanwhile does not break the loop

    def values(self) -> Iterator[Any]:  # type: ignore[override]  # one decoded document at a time
        for _key, document in self.inner_items():
            yield document

    def items(self) -> Iterator[tuple[Any, Any]]:  # type: ignore[override]
        for key, document in self.inner_items():
            yield outer(key), document

    def inner_items(self, options: CodecOptions[Any] = OPTIONS) -> Iterator[tuple[Any, Any]]:
        """``(inner key, document)``, one decoded document at a time (timezone-aware ones of a small
        collection through ``recent``)."""
        raw = self.raw
        aware = options is AWARE and len(raw) <= RECENT
        for key in list(raw):
            kept = raw.get(key)
            if kept is not None:
                yield key, (self._aware(key, kept) if aware else unpack(key, kept, options))

    def whole(self) -> list[bytes]:
        """Every document's whole BSON, in order (what a snapshot writes)."""
        return [full(key, kept) for key, kept in list(self.raw.items())]

    def clear(self) -> None:
        self.raw.clear()
        self.recent.clear()

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
