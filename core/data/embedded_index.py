"""Index structures of the embedded store: unique checks and lookups by an indexed field without a scan.

Why: mongomock-ng checks a unique index by comparing the new document with every stored one (an
``insert_one`` into devices cost 1.9 ms at 1,000 documents and 108 ms at 50,000, under the store's
write lock) and answers every find by scanning. Here each collection store keeps, per index, a hash
map from index key to the ids holding it (and each id's keys, to take them out again), updated on
every ``__setitem__``/``__delitem__`` of the store: every write of mongomock ends in one of those.

The keys follow MongoDB: an array field is multikey (one key per element; two documents cannot
share an element value under a unique index, one document may repeat it; an empty array is one
``undefined`` key), a missing field is null unless the index is sparse (sparse: skipped when every
field is missing), a partial index holds only the documents its filter matches, 1 and 1.0 are
one number but ``True`` is not 1, and a compound key over two arrays is refused (code 171, as MongoDB).

The structures are built on first need and rebuilt whenever the store's documents or index
specifications were replaced (drop, abort of a transaction, ``drop_indexes``, a changed spec).
Lookups (core.data.embedded_fast) only narrow the candidates: every candidate is still matched by
mongomock's own filter. Unsorted results by an indexed field come in the order the documents took
that value (MongoDB returns index order, not insertion order, too).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from bson import ObjectId
from mongomock_ng.helpers import NOTHING as _NOTHING

from core.data.embedded_documents import Documents, inner, outer, pairs
from core.data.embedded_keys import Index, ParallelArrays, _Ids, build_all, canon, shown
from core.data.embedded_lock import WRITE_LOCK

ORIGINALS: dict[str, Callable[..., Any]] = {}
_BUILDS = [0]  # full (re)builds since start: tests count work with it
_ORDERED = frozenset({1, -1, "hashed"})  # index kinds kept here (not text, 2d, 2dsphere)


class State:
    """The index structures of one collection store, valid while its documents and index
    specifications are the same: the same objects, and no index created or dropped since
    (``CollectionStore.create_index``/``drop_index`` count up ``_mia_specs``)."""

    __slots__ = ("documents", "indexes", "specs", "count", "version")

    def __init__(self, store: Any) -> None:
        self.documents, self.specs = store._documents, store.indexes
        self.count, self.version = len(store.indexes), store.__dict__.get("_mia_specs", 0)
        self.indexes = {name: Index(name, spec) for name, spec in store.indexes.items() if _ordered(spec)}

    def current(self, store: Any) -> bool:
        return store._documents is self.documents and store.indexes is self.specs and \
            len(self.specs) == self.count and store.__dict__.get("_mia_specs", 0) == self.version


def _ordered(spec: dict[str, Any]) -> bool:
    return all(direction in _ORDERED for _field, direction in spec.get("key") or [])


def state(store: Any) -> State:
    """The store's index structures, (re)built when missing or out of date (its unique indexes at once)."""
    current = store.__dict__.get("_mia_index")
    if current is not None and current.current(store):
        return current
    with _write_lock():  # no write may slip between the pass over the documents and its end
        if type(store._documents) is not Documents:  # kept before make_thread_safe: stored versions must stay as stored
            store._documents = Documents(store._documents.items())
        current = State(store)
        _BUILDS[0] += 1
        build_all([index for index in current.indexes.values() if index.unique], store._documents)
        store._mia_index = current
    return current


def built(store: Any, index: Index) -> Index:
    """``index`` with every document in it (a plain index is built on its first lookup)."""
    if not index.built:
        with _write_lock():
            if not index.built:
                index.build(store._documents)
    return index


def _write_lock() -> Any:
    return WRITE_LOCK


def _known(store: Any) -> State | None:
    """The structures if they are built and current (writes keep them; nobody builds them for a write)."""
    current = store.__dict__.get("_mia_index")
    if current is not None and not current.current(store):
        store._mia_index = current = None
    return current


def set_item(self: Any, key: Any, value: Any) -> None:
    """``CollectionStore.__setitem__``, then the document's keys move from its stored version to its new one."""
    known = _known(self)
    old = _stored(self, key) if known is not None else None
    ORIGINALS["__setitem__"](self, key, value)
    if known is not None:
        key = inner(key)  # indexes hold the keys the documents are kept under
        for index in known.indexes.values():
            if not index.built:
                continue
            if old is not None:
                index.remove(key, old)
            try:
                index.add(key, index.keys_of(value))
            except ParallelArrays:
                continue  # refused by ensure_uniques before it is kept (an insert is rolled back)


def del_item(self: Any, key: Any) -> None:
    known = _known(self)
    old = _stored(self, key) if known is not None else None
    ORIGINALS["__delitem__"](self, key)
    if known is not None and old is not None:
        key = inner(key)
        for index in known.indexes.values():
            if index.built:
                index.remove(key, old)


def _stored(store: Any, key: Any) -> Any:
    """The stored version of a document (decoded once for every index), or None."""
    return store._documents.get(key)


def store_key(doc_id: Any) -> Any:
    """The key mongomock stores a document under (a dict ``_id`` becomes a hashable dict)."""
    if isinstance(doc_id, dict):
        from mongomock_ng.helpers import hashdict

        return hashdict(doc_id)
    return doc_id


def ensure_uniques(self: Any, new_data: Any) -> None:
    """``Collection._ensure_uniques`` by hash lookups; raises as MongoDB does (11000, or 171 for parallel arrays)."""
    from pymongo.errors import DuplicateKeyError

    store = self._store
    own = inner(store_key(new_data.get("_id")))
    for index in state(store).indexes.values():
        try:
            keys = index.keys_of(new_data)
        except ParallelArrays as exc:
            # a DuplicateKeyError subclass: mongomock rolls an insert or update back only for that
            raise _parallel_error()(str(exc), 171, {"index": index.name}) from None
        if not index.unique:
            continue
        for key in keys:
            if any(holder != own for holder in index.holders(key)):
                raise DuplicateKeyError(
                    f"E11000 duplicate key error collection: {self.full_name} index: {index.name} dup key",
                    11000, {"keyPattern": dict(index.spec["key"]), "index": index.name,
                            "keyValue": {f: _plain(new_data, f) for f in index.fields}})


def _parallel_error() -> type:
    """pymongo's DuplicateKeyError as code 171 (cannot index parallel arrays), made once."""
    global _PARALLEL
    if _PARALLEL is None:
        from pymongo.errors import DuplicateKeyError

        _PARALLEL = type("CannotIndexParallelArrays", (DuplicateKeyError,), {"__module__": __name__})
    return _PARALLEL


_PARALLEL: type | None = None


def _plain(document: Any, field: str) -> Any:
    from mongomock_ng.helpers import get_value_by_dot

    value = get_value_by_dot(document, field)
    return None if value is _NOTHING else value


def duplicates(store: Any, name: str) -> tuple[Any, list[Any]] | None:
    """``(key, ids)`` of a unique index ``name`` held by two documents, else None (start-up load, create_index)."""
    index = state(store).indexes.get(name)
    if index is None or not index.unique:
        return None
    index.built = True
    for key, held in index.keys.items() if index.unique else ():
        if type(held) is _Ids:
            return shown(key), [outer(i) for i in held]
    return None


def lookup_keys(store: Any, path: str, value: Any) -> list[Any] | None:
    """The inner keys (core.data.embedded_documents) of the documents whose ``path`` may equal ``value``,
    through ``_id`` or a single-field index; else None (scan)."""
    if path == "_id":
        return [inner(store_key(value))]
    if type(value) is not str and type(value) is not ObjectId:
        return None  # numbers: mongomock's matcher takes True for 1, which no index key does
    for index in state(store).indexes.values():
        if index.fields[0] == path and len(index.fields) == 1 and index.partial is None:
            return built(store, index).holders(canon(value))
    return None


def create_index(self: Any, keys: Any, cache_for: int = 300, session: Any = None, **kwargs: Any) -> str:
    """``Collection.create_index``; a unique index is checked against the stored documents in one pass
    with MongoDB's multikey rules (mongomock compared every key with every other)."""
    from mongomock_ng import helpers
    from pymongo.errors import DuplicateKeyError, OperationFailure

    index_list = helpers.create_index_list(keys)
    if not all(d in _ORDERED for _f, d in index_list):
        return ORIGINALS["create_index"](self, keys, cache_for, session, **kwargs)
    name = kwargs.pop("name", None) or helpers.gen_index_name(cast(Any, index_list))
    config: dict[str, Any] = {"key": index_list}
    if kwargs.get("sparse"):
        config["sparse"] = True
    if kwargs.get("unique"):
        config["unique"] = True
    for option in ("expireAfterSeconds", "partialFilterExpression"):
        if kwargs.get(option) is not None:
            config[option] = kwargs[option]
    store = self._store
    existing = store.indexes.get(name)
    if existing is not None:  # the same index again changes nothing (and rebuilds nothing)
        if existing != config:
            raise OperationFailure(f"Index with name: {name} already exists with different options", 85)
        return name
    index = Index(name, config)
    for doc_id, document in pairs(store._documents):
        try:
            index.add(doc_id, index.keys_of(document))
        except ParallelArrays as exc:
            raise OperationFailure(f"{exc} (index {name})", 171) from None
    index.built = True
    for key, held in index.keys.items() if index.unique else ():
        if type(held) is _Ids:
            shown_key = {index.fields[0]: shown(key)} if len(index.fields) == 1 else {}
            raise DuplicateKeyError(f"E11000 duplicate key error collection: {self.full_name} index: {name} dup key",
                                    11000, {"keyPattern": dict(index_list), "index": name, "keyValue": shown_key})
    known = _known(store)
    store.create_index(name, config)
    index.spec = store.indexes[name]
    if known is not None:  # the structures take the new index as built, and stay current
        known.indexes[name] = index
        known.count, known.version = len(store.indexes), store.__dict__.get("_mia_specs", 0)
    return name


def builds() -> int:
    return _BUILDS[0]


def install() -> None:
    """Put the index upkeep in place (idempotent; after embedded_ttl and the tolerant ``__delitem__``)."""
    if ORIGINALS:
        return
    from mongomock_ng import collection, store

    cls = store.CollectionStore
    ORIGINALS["__setitem__"], ORIGINALS["__delitem__"] = cls.__dict__["__setitem__"], cls.__dict__["__delitem__"]
    ORIGINALS["_ensure_uniques"] = collection.Collection.__dict__["_ensure_uniques"]
    ORIGINALS["create_index"] = collection.Collection.__dict__["create_index"]
    for owner, name, method in ((cls, "__setitem__", set_item), (cls, "__delitem__", del_item),
                                (collection.Collection, "_ensure_uniques", ensure_uniques),
                                (collection.Collection, "create_index", create_index)):
        setattr(owner, name, method)
    for name in ("create_index", "drop_index"):
        ORIGINALS[f"store.{name}"] = cls.__dict__[name]
        setattr(cls, name, _counting(name))


def _counting(name: str) -> Callable[..., Any]:
    """``CollectionStore.<name>``, counting the specifications' changes (what ``State.current`` compares)."""
    def changed(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return ORIGINALS[f"store.{name}"](self, *args, **kwargs)
        finally:
            self._mia_specs = self.__dict__.get("_mia_specs", 0) + 1

    changed.__name__ = name
    return changed
