"""Models: classes that validate documents and own their collection and indexes (spec §4).

A model declares ``identity``, ``version``, ``collection_name``, optionally ``db_name`` (a key of
``mongoDatabases``; default ``defaultMongoDatabase``), ``data`` (mia's rule dict, validated by
core.validation.validator), ``compound_indexes``/``text_indexes`` (mia's ``compoundIndexes``/``textIndexes``
shapes) and ``collection_options`` (used when start-up creates the collection). Indexes are derived
in core.data.indexes; a TTL index is ``indexOptions: {"expireAfterSeconds": n}`` on an indexed date field.

The model is the class; every helper is a classmethod. Unlike mia.js (whose pass-through methods
never validate), the write helpers validate before writing: ``insert_one`` validates the whole
document, updates validate the values of ``$set``/``$inc``/... partially and write only those
fields (``$set`` with dotted keys, never a read-modify-write of the whole document). A unique-index
violation raises a 409 ``DuplicateKey`` MiaError, an unreachable database a 503
``DatabaseUnavailable``; ``collection()`` gives the pymongo collection for anything else.

Every update and filter is checked against what MongoDB refuses (core.data.update_rules: conflicting
paths, ``_id``, bad operators, ``$where``) on every backend, so a project test on the embedded store
fails where MongoDB would. ``guarded = True`` makes every write wait for ``mongo.guardedWriteConcern``
(majority); reads follow the route's ``readPreference`` opt-in (core.data.consistency), else the primary.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pymongo import ReturnDocument
from pymongo.errors import OperationFailure

from core.data.consistency import guarded_writes, read_from
from core.data.databases import db_errors
from core.data.embedded_fast import find_plain
from core.data.index_builds import IndexSpec
from core.data.indexes import ensure_indexes, model_indexes
from core.data.update_rules import check_filter, check_update
from core.errors import MiaError, ValidationError
from core.shared import Identified, Shared
from core.validation.validator import CompiledSchema, compile_rules

# Update operators whose values are field values: validated against the field's rules.
VALUE_OPERATORS = frozenset({"$set", "$setOnInsert", "$inc", "$min", "$max", "$mul"})
Partial = bool | dict[str, bool] | None
Sort = list[tuple[str, int]] | dict[str, int] | str | None


def flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys (lists and other values are leaves; an empty dict stays a value)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def bson_ready(value: Any) -> Any:
    """Datetimes cut to milliseconds (BSON's precision), so a returned document equals the stored one."""
    if isinstance(value, datetime):
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    if isinstance(value, dict):
        return {k: bson_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [bson_ready(v) for v in value]
    return value


def _sort(sort: Sort) -> list[tuple[str, int]] | None:
    if sort is None:
        return None
    if isinstance(sort, str):
        return [(sort.lstrip("-"), -1 if sort.startswith("-") else 1)]
    return list(sort.items()) if isinstance(sort, dict) else list(sort)


class BaseModel(Identified):
    """Base for project models; used as a class (all helpers are classmethods)."""

    collection_name: ClassVar[str | None] = None
    db_name: ClassVar[str | None] = None
    data: ClassVar[dict[str, Any]] = {}
    compound_indexes: ClassVar[list[dict[str, Any]]] = []
    text_indexes: ClassVar[list[dict[str, Any]]] = []
    collection_options: ClassVar[dict[str, Any]] = {}
    # True: every write waits for the guarded write concern (``mongo.guardedWriteConcern``, majority),
    # for collections that guard security or coordination (nonces, refresh tokens, sessions, lockouts).
    guarded: ClassVar[bool] = False
    _compiled: ClassVar[CompiledSchema | None] = None
    _collection_handle: ClassVar[tuple[Any, str, Any] | None] = None  # (database, name, collection)

    # -- schema and validation ---------------------------------------------------------------
    @classmethod
    def schema(cls) -> CompiledSchema:
        """The compiled ``data`` rules (compiled once per class)."""
        if cls.__dict__.get("_compiled") is None:
            cls._compiled = compile_rules(cls.data, where=f"model {cls.identity}")
        return cls._compiled  # type: ignore[return-value]

    @classmethod
    def validate(cls, values: dict[str, Any], partial: Partial = None, *, query: bool = False) -> dict[str, Any]:
        """The cleaned document, or raises ``core.errors.ValidationError`` listing every bad field.

        ``partial`` (updates): no defaults, no required checks. A Mongo update document
        (``{"$set": {...}, "$inc": {...}}``) is validated per operator: the values of $set,
        $setOnInsert, $inc, $min, $max and $mul against their fields' rules, partial unless
        ``partial`` is False or ``{"$op": False}``; the result keeps flat dotted keys so that only
        the given fields are written. Other operators ($unset, $push, ...) pass unchanged.
        """
        if isinstance(values, dict) and any(isinstance(k, str) and k.startswith("$") for k in values):
            return cls._validate_operators(values, partial)
        return cls.schema().validate(values, partial=bool(partial), query=query)

    @classmethod
    def _validate_operators(cls, values: dict[str, Any], partial: Partial) -> dict[str, Any]:
        plain = [k for k in values if not (isinstance(k, str) and k.startswith("$"))]
        if plain:
            fields = ", ".join(map(str, plain))
            raise ValueError(f"model {cls.identity}: an update mixes operators and fields: {fields}")
        out: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for op, doc in values.items():
            if op not in VALUE_OPERATORS:
                out[op] = doc
                continue
            is_partial = partial.get(op, True) if isinstance(partial, dict) else partial is not False
            try:
                cleaned = cls.schema().validate(doc, partial=is_partial)
            except ValidationError as err:
                errors.extend(e for e in err.errors if e not in errors)
                continue
            if cleaned:
                out[op] = flatten(cleaned)
        if errors:
            raise ValidationError(errors)
        return out

    @classmethod
    def update_document(cls, changes: dict[str, Any], validate: bool = True) -> dict[str, Any]:
        """A validated Mongo update: a plain dict means ``$set``; an empty result is ModelNotMatch."""
        if not any(isinstance(k, str) and k.startswith("$") for k in changes):
            changes = {"$set": changes if validate else flatten(changes)}
        update = cls.validate(changes) if validate else changes
        if not update:
            raise MiaError(400, code="ModelNotMatch", msg="Model and given parameters does not match")
        return update

    # -- handles -----------------------------------------------------------------------------
    @classmethod
    def db(cls) -> Any:
        """The pymongo Database of this model (``db_name`` or the default database)."""
        return Shared.db(cls.db_name)

    @classmethod
    def collection(cls) -> Any:
        """The pymongo Collection, for everything the helpers below do not cover.

        Kept per class while the database handle is the same object (a reset, a fork or another
        ``Shared.db`` provider gives a new one): asking the embedded store for a collection
        compares all its options each time (~10 us), and every request asks.
        """
        name = cls.collection_name
        if not name:
            raise MiaError(500, code="InternalError",
                           msg=f"collectionName property is not set for model {cls.identity}")
        database = cls.db()
        cached = cls.__dict__.get("_collection_handle")
        if cached is not None and cached[0] is database and cached[1] == name:
            return cached[2]
        collection = guarded_writes(database[name]) if cls.guarded else database[name]
        cls._collection_handle = (database, name, collection)
        return collection

    @classmethod
    def indexes(cls) -> list[IndexSpec]:
        """The index specs derived from the model (mia's getIndexes)."""
        return model_indexes(cls)

    @classmethod
    def ensure_indexes(cls) -> list[str]:
        """Create this model's indexes now (idempotent)."""
        return ensure_indexes(cls)

    # -- writes (validated) ------------------------------------------------------------------
    @classmethod
    def insert_one(cls, document: dict[str, Any], validate: bool = True) -> dict[str, Any]:
        """Validate fully and insert; returns the stored document including ``_id``.

        An ``_id`` given in ``document`` is kept even when ``data`` does not declare it.
        """
        stored = cls._prepare(document, validate)
        with db_errors():
            result = cls.collection().insert_one(stored)
        stored["_id"] = result.inserted_id
        return stored

    @classmethod
    def insert_many(cls, documents: list[dict[str, Any]], validate: bool = True,
                    ordered: bool = True) -> list[dict[str, Any]]:
        """Validate every document first (nothing is written if one fails), then insert them."""
        stored = [cls._prepare(d, validate) for d in documents]
        if not stored:
            return []
        with db_errors():
            result = cls.collection().insert_many(stored, ordered=ordered)
        for doc, _id in zip(stored, result.inserted_ids, strict=True):
            doc["_id"] = _id
        return stored

    @classmethod
    def _prepare(cls, document: dict[str, Any], validate: bool) -> dict[str, Any]:
        if not validate:
            return bson_ready(dict(document))
        stored = cls.validate(document, partial=False)
        if "_id" in document and "_id" not in stored:
            stored["_id"] = document["_id"]
        return bson_ready(stored)

    @classmethod
    def update_one(cls, filter: dict[str, Any], changes: dict[str, Any], upsert: bool = False,
                   validate: bool = True) -> Any:
        """Write only the given fields (``$set`` by default); returns pymongo's UpdateResult."""
        update = cls.update_document(changes, validate)
        check_filter(filter)
        check_update(update, filter)
        with db_errors():
            return cls.collection().update_one(filter, update, upsert=upsert)

    @classmethod
    def update_many(cls, filter: dict[str, Any], changes: dict[str, Any], upsert: bool = False,
                    validate: bool = True) -> Any:
        update = cls.update_document(changes, validate)
        check_filter(filter)
        check_update(update, filter)
        with db_errors():
            return cls.collection().update_many(filter, update, upsert=upsert)

    @classmethod
    def find_one_and_update(cls, filter: dict[str, Any], changes: dict[str, Any], upsert: bool = False,
                            projection: dict[str, Any] | None = None, sort: Sort = None,
                            return_document: bool = ReturnDocument.AFTER, validate: bool = True
                            ) -> dict[str, Any] | None:
        """Atomic update returning the document (after the update by default), or None."""
        update = cls.update_document(changes, validate)
        check_filter(filter)
        check_update(update, filter, error=OperationFailure)
        with db_errors():
            return cls.collection().find_one_and_update(filter, update, projection=projection, sort=_sort(sort),
                                                        upsert=upsert, return_document=return_document)

    @classmethod
    def delete_one(cls, filter: dict[str, Any]) -> Any:
        check_filter(filter)
        with db_errors():
            return cls.collection().delete_one(filter)

    @classmethod
    def delete_many(cls, filter: dict[str, Any]) -> Any:
        check_filter(filter)
        with db_errors():
            return cls.collection().delete_many(filter)

    # -- reads -------------------------------------------------------------------------------
    @classmethod
    def find(cls, filter: dict[str, Any] | None = None, projection: dict[str, Any] | None = None,
             sort: Sort = None, skip: int = 0, limit: int = 0) -> list[dict[str, Any]]:
        """Matching documents as a list (``limit=0``: all)."""
        check_filter(filter)
        with db_errors():
            collection, order = read_from(cls.collection()), _sort(sort)
            found = find_plain(collection, filter, projection, order, skip, limit)  # embedded, plain
            if found is not None:
                return found
            cursor = collection.find(filter or {}, projection, skip=skip, limit=limit)
            return list(cursor.sort(order) if sort else cursor)

    @classmethod
    def find_one(cls, filter: dict[str, Any] | None = None, projection: dict[str, Any] | None = None,
                 sort: Sort = None) -> dict[str, Any] | None:
        check_filter(filter)
        with db_errors():
            return read_from(cls.collection()).find_one(filter or {}, projection, sort=_sort(sort))

    @classmethod
    def count(cls, filter: dict[str, Any] | None = None) -> int:
        check_filter(filter)
        with db_errors():
            return int(read_from(cls.collection()).count_documents(filter or {}))

    @classmethod
    def aggregate(cls, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with db_errors():
            return list(read_from(cls.collection()).aggregate(pipeline))
