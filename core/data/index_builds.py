"""How an index reaches the database: compared as MongoDB reports it, built under its own time limit,
changed with ``collMod`` where MongoDB can, and otherwise replaced without a moment with no index.

Why: creating an index that exists with other options is error 85 on MongoDB; dropping it first
leaves the collection without it (a unique constraint absent during the build, and gone if the
build fails); builds of a large collection, or ones waiting for the voting members, outlive the
30 s socket timeout. So:

* :func:`described` reads ``index_information()`` as a declaration: a text index is reported as
  ``{_fts: "text", _ftsx: 1}`` plus ``weights`` and is compared by its weights; ``expireAfterSeconds: 0``
  is a TTL index (not "no option").
* :func:`build` runs ``create_index`` under ``pymongo.timeout(mongo.indexBuildTimeout)`` (default
  3600 s; 0 = none) and, on a replica set or sharded cluster, with ``commitQuorum``
  (``mongo.commitQuorum``, default ``"votingMembers"``).
* :func:`change` applies a changed TTL and non-unique -> unique with ``collMod`` (``prepareUnique``
  then ``unique``; existing duplicates fail it and the old index stays). Any other change builds the
  new definition first (a temporary index, its last key's direction flipped so MongoDB accepts it
  beside the final one) and drops the old one only after it exists: a failing build leaves the old
  index, and a unique constraint is held by one of them at every moment.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from core.data.consistency import deployment, mongo_settings
from core.data.databases import is_embedded

log = logging.getLogger("mia.db")

COMPARED = ("unique", "sparse", "expireAfterSeconds", "partialFilterExpression")
TEXT_OPTIONS = ("default_language", "language_override")
NEXT = "__next"  # suffix of the temporary index a replacement is built as


@dataclass(frozen=True)
class IndexSpec:
    """One index as it is created: ``keys`` for create_index, ``name`` and ``options``."""

    keys: tuple[tuple[str, Any], ...]
    name: str
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)
    kind: str = "single"

    def document(self) -> dict[str, Any]:
        """mia's ``getIndexes`` shape: ``{key, name, unique, sparse, ...options}``."""
        return {"key": dict(self.keys), "name": self.name, **self.options}


def described(info: dict[str, Any]) -> tuple[Any, ...]:
    """An existing index (``index_information()`` entry) in the terms of a declaration."""
    keys = [tuple(k) for k in info.get("key", [])]
    if any(name == "_fts" for name, _ in keys):  # text: the text fields are the weights' keys
        plain = [k for k in keys if k[0] not in ("_fts", "_ftsx")]
        weights = tuple(sorted((str(k), int(v)) for k, v in (info.get("weights") or {}).items()))
        return tuple(plain), weights, _options(info)
    if any(direction == "text" for _, direction in keys):  # the embedded store: declared form, no weights kept
        plain = [k for k in keys if k[1] != "text"]
        fields = tuple(sorted(str(k) for k, d in keys if d == "text"))
        return tuple(plain), fields, _options(info)
    return tuple(keys), (), _options(info)


def declared(spec: IndexSpec) -> tuple[Any, ...]:
    """A declaration in the same terms as :func:`described`."""
    if spec.kind != "text":
        return tuple(tuple(k) for k in spec.keys), (), _options(spec.options)
    weights = dict.fromkeys((k for k, d in spec.keys if d == "text"), 1)
    weights.update(spec.options.get("weights") or {})
    plain = tuple(tuple(k) for k in spec.keys if k[1] != "text")
    return plain, tuple(sorted((str(k), int(v)) for k, v in weights.items())), _options(spec.options)


def _options(info: dict[str, Any]) -> tuple[Any, ...]:
    out = []
    for key in COMPARED:
        value = info.get(key)
        if key in ("unique", "sparse"):
            value = bool(value)
        out.append(value)  # expireAfterSeconds 0 stays 0: a TTL-0 index is a TTL index
    return tuple(out)


def same(info: dict[str, Any], spec: IndexSpec) -> bool:
    """Whether the existing index ``info`` is what ``spec`` declares (keys, weights and options).

    The embedded store does not keep a text index's weights: there its text fields are compared."""
    have, want = described(info), declared(spec)
    if have[1] and isinstance(have[1][0], str):
        want = (want[0], tuple(name for name, _ in want[1]), want[2])
    return have == want


def build(collection: Any, keys: list[tuple[str, Any]], name: str, options: dict[str, Any]) -> str:
    """``create_index`` with the build's own time limit and, where there are voting members, its commitQuorum."""
    if is_embedded(collection):
        return str(collection.create_index(keys, name=name, **options))
    import pymongo

    conf = mongo_settings()
    extra: dict[str, Any] = {}
    if conf.get("commitQuorum") is not None and deployment(collection.database.client) in ("replicaSet", "sharded"):
        extra["commitQuorum"] = conf["commitQuorum"]
    limit = float(conf.get("indexBuildTimeout") or 0) or None
    with pymongo.timeout(limit):
        return str(collection.create_index(keys, name=name, **options, **extra))


def collmod_change(info: dict[str, Any], spec: IndexSpec) -> dict[str, Any] | None:
    """The ``collMod`` index options that turn ``info`` into ``spec``, or None when collMod cannot."""
    if not same(info, IndexSpec(spec.keys, spec.name, {**spec.options, **{k: info.get(k) for k in COMPARED}},
                                spec.kind)):
        return None  # keys or weights differ: no collMod for that
    have, want = described(info), declared(spec)
    old = dict(zip(COMPARED, have[2], strict=True))
    new = dict(zip(COMPARED, want[2], strict=True))
    changes: dict[str, Any] = {}
    if old["expireAfterSeconds"] != new["expireAfterSeconds"]:
        if old["expireAfterSeconds"] is None or new["expireAfterSeconds"] is None:
            return None  # becoming or ceasing to be a TTL index is a rebuild
        changes["expireAfterSeconds"] = new["expireAfterSeconds"]
    if old["unique"] != new["unique"]:
        if not new["unique"]:
            return None
        changes["unique"] = True
    if old["sparse"] != new["sparse"] or old["partialFilterExpression"] != new["partialFilterExpression"]:
        return None
    return changes


def modify(collection: Any, name: str, changes: dict[str, Any], spec: IndexSpec) -> None:
    """Apply ``collMod`` index changes (the embedded store cannot: it re-creates the index under its
    write lock, which no other thread can see half done)."""
    if is_embedded(collection):
        from core.data.embedded import WRITE_LOCK

        with WRITE_LOCK:
            collection.drop_index(name)
            try:
                collection.create_index(list(spec.keys), name=name, **spec.options)
            except Exception:
                info = {k: v for k, v in spec.options.items() if k not in changes}
                collection.create_index(list(spec.keys), name=name, **info)  # the old definition back
                raise
        return
    database = collection.database
    if changes.get("unique"):  # MongoDB >= 6.0: refuse new duplicates first, then convert
        database.command({"collMod": collection.name, "index": {"name": name, "prepareUnique": True}})
    database.command({"collMod": collection.name, "index": {"name": name, **changes}})


def change(collection: Any, info: dict[str, Any], spec: IndexSpec) -> str:
    """Make the index named ``spec.name`` match ``spec``: ``"modified"`` (collMod) or ``"replaced"``."""
    changes = collmod_change(info, spec)
    if changes is not None:
        modify(collection, spec.name, changes, spec)
        return "modified"
    temporary = spec.name + NEXT
    existing = collection.index_information()
    if temporary in existing:  # left by an interrupted replacement
        collection.drop_index(temporary)
    # The new definition is built first, under a temporary name and with its last key's direction
    # flipped: MongoDB allows no second index with the same key pattern and options, and the
    # direction changes neither uniqueness nor the lookups it serves. It holds the new constraint
    # while the old index is dropped and the new one is built under its own name.
    flipped = _flipped(spec.keys)
    if spec.kind == "text" or described(info)[1] or flipped is None:
        collection.drop_index(spec.name)  # text (one per collection) or hashed/geo keys: no stand-in
    else:
        build(collection, flipped, temporary, dict(spec.options))
        collection.drop_index(spec.name)
    build(collection, list(spec.keys), spec.name, dict(spec.options))
    if temporary in collection.index_information():
        collection.drop_index(temporary)
    return "replaced"


def _flipped(keys: tuple[tuple[str, Any], ...]) -> list[tuple[str, Any]] | None:
    """``keys`` with the last direction reversed, or None when it is not 1/-1 (hashed, text, 2dsphere)."""
    *head, (name, direction) = keys
    if direction not in (1, -1) or isinstance(direction, bool):
        return None
    return [*head, (name, -direction)]


def ensure_ttl(collection: Any, field_name: str, seconds: int) -> None:
    """A TTL index on ``field_name`` whose expiry follows the configuration, changed in place (collMod)."""
    spec = IndexSpec(((field_name, 1),), f"{field_name}_1", {"expireAfterSeconds": int(seconds)})
    info = collection.index_information().get(spec.name)
    if info is None:
        build(collection, list(spec.keys), spec.name, dict(spec.options))
    elif not same(info, spec):
        change(collection, info, spec)
