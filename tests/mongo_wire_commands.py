"""The command half of the test-only MongoDB endpoint (tests/mongo_wire.py): MongoDB commands run on
the embedded store (mongomock-ng with the project's patches from core.data.embedded).

Why: no MongoDB server installs on these machines, but the production shape (several processes on one
database, through pymongo) must run in CI. Each command runs under one lock, so it is atomic as on a real
server; answers and errors have MongoDB's shapes (``ok``, ``code``, ``codeName``, ``errmsg``,
``writeErrors`` with 11000 for duplicate keys), so pymongo raises what it raises against MongoDB.
It presents a standalone MongoDB 7.0 (wire version 21): no replica set, no change streams, no
transactions. Index commands keep MongoDB's view of each index (``listIndexes``: text indexes as
``_fts``/``_ftsx`` with ``weights``) beside mongomock's, and answer MongoDB's conflicts (85, 86, 27, 197).
"""
from __future__ import annotations

import itertools
import threading
import traceback
from datetime import UTC, datetime
from typing import Any

from mongomock_ng.filtering import filter_applies
from pymongo.errors import DuplicateKeyError, OperationFailure

MAX_WIRE_VERSION = 21  # MongoDB 7.0; pymongo 4.20 accepts 9..29 (pymongo.common)
VERSION = [7, 0, 0, 0]
BATCH = 101  # MongoDB's default first batch
MAX_DOCUMENT = 16 * 1024 * 1024
CODE_NAMES = {
    1: "InternalError", 2: "BadValue", 9: "FailedToParse", 14: "TypeMismatch", 26: "NamespaceNotFound",
    27: "IndexNotFound", 40: "ConflictingUpdateOperators", 43: "CursorNotFound", 48: "NamespaceExists",
    52: "DollarPrefixedFieldName", 56: "EmptyFieldName", 57: "DottedFieldName", 59: "CommandNotFound",
    66: "ImmutableField", 67: "CannotCreateIndex", 72: "InvalidOptions", 73: "InvalidNamespace",
    85: "IndexOptionsConflict", 86: "IndexKeySpecsConflict",
    197: "InvalidIndexSpecificationOption", 238: "NotImplemented", 28: "PathNotViable",
    359: "CannotConvertIndexToUnique", 11000: "DuplicateKey",
}
INDEX_FIELDS = {"key", "name", "unique", "sparse", "expireAfterSeconds", "partialFilterExpression", "hidden",
                "background", "collation", "weights", "default_language", "language_override",
                "textIndexVersion", "2dsphereIndexVersion", "bits", "min", "max", "storageEngine",
                "wildcardProjection", "v", "prepareUnique", "ns"}
COMPARED = ("unique", "sparse", "expireAfterSeconds", "partialFilterExpression", "hidden", "collation",
            "weights", "default_language", "language_override", "prepareUnique")


class CommandError(Exception):
    """A command failure as MongoDB answers it."""

    def __init__(self, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.extra = code, message, extra

    def reply(self) -> dict[str, Any]:
        return {"ok": 0.0, "errmsg": self.message, "code": self.code,
                "codeName": CODE_NAMES.get(self.code, "UnknownError"), **self.extra}


def _failure(err: BaseException) -> CommandError:
    """mongomock's (pymongo-typed) exceptions as MongoDB's answer."""
    if isinstance(err, CommandError):
        return err
    if isinstance(err, OperationFailure):
        details = {k: v for k, v in (err.details or {}).items() if k in ("keyPattern", "keyValue")}
        return CommandError(int(err.code or 2), str(err), **details)
    if isinstance(err, NotImplementedError):
        return CommandError(238, f"not implemented by the test endpoint: {err}")
    if isinstance(err, (ValueError, TypeError, KeyError)):
        return CommandError(2, f"{type(err).__name__}: {err}")
    traceback.print_exc()
    return CommandError(1, f"{type(err).__name__}: {err}")


def _fits(document: Any, code: int, message: str) -> None:
    """MongoDB's 16 MiB limit on a stored document (pymongo only refuses more than 16 MiB + 16 KiB itself)."""
    import bson

    size = len(bson.encode(document))
    if size > MAX_DOCUMENT:
        raise CommandError(code, f"{message}. size in bytes: {size}, max size: {MAX_DOCUMENT}")


def _sort(spec: Any) -> list[tuple[str, Any]] | None:
    return list(spec.items()) if spec else None


def _is_operator_update(update: Any) -> bool:
    return isinstance(update, list) or (isinstance(update, dict) and bool(update)
                                         and next(iter(update)).startswith("$"))


class Backend:
    """One embedded store behind the endpoint; :meth:`run` answers one command document."""

    def __init__(self) -> None:
        from core.data.databases import Databases

        # The embedded store exactly as the project makes it (its patches and its refusals of what MongoDB
        # refuses), in memory: no snapshot, no journal.
        self.client = Databases({"defaultMongoDatabase": "wire", "mongoDatabases": {"wire": {"url": None}}}).client()
        self.lock = threading.Lock()
        self.cursors: dict[int, tuple[str, list[Any]]] = {}
        self.cursor_ids = itertools.count(1_000_001)
        self.connection_ids = itertools.count(1)
        self.indexes: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}  # MongoDB's view, by name

    # -- dispatch ----------------------------------------------------------------------------------
    def run(self, body: dict[str, Any]) -> dict[str, Any]:
        name = next(iter(body), "")
        handler = getattr(self, f"cmd_{name.lower()}", None)
        if handler is None:
            return CommandError(59, f"no such command: '{name}'").reply()
        database = str(body.get("$db") or "admin")
        try:
            with self.lock:
                answer = handler(database, body)
        except Exception as err:  # noqa: BLE001 - every failure is answered, never dropped
            return _failure(err).reply()
        return {**answer, "ok": 1.0}

    def _coll(self, database: str, body: dict[str, Any]) -> Any:
        name = next(iter(body.values()))
        if not isinstance(name, str) or not name:
            raise CommandError(73, f"collection name has invalid type {type(name).__name__}")
        return self.client[database][name]

    # -- server ------------------------------------------------------------------------------------
    def hello(self, legacy: bool) -> dict[str, Any]:
        return {"ismaster" if legacy else "isWritablePrimary": True, "helloOk": True,
                "maxBsonObjectSize": 16 * 1024 * 1024, "maxMessageSizeBytes": 48_000_000,
                "maxWriteBatchSize": 100_000, "localTime": datetime.now(UTC), "logicalSessionTimeoutMinutes": 30,
                "connectionId": next(self.connection_ids), "minWireVersion": 0,
                "maxWireVersion": MAX_WIRE_VERSION, "readOnly": False}

    def cmd_hello(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.hello(legacy=False)

    def cmd_ismaster(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.hello(legacy=True)

    def cmd_ping(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        return {}

    def cmd_buildinfo(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"version": ".".join(map(str, VERSION[:3])), "versionArray": VERSION, "bits": 64,
                "maxBsonObjectSize": 16 * 1024 * 1024, "storageEngines": ["wiredTiger"]}

    def cmd_endsessions(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        return {}

    def cmd_listdatabases(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        names = self.client.list_database_names()
        return {"databases": [{"name": n, "sizeOnDisk": 0, "empty": False} for n in names], "totalSize": 0}

    def cmd_dropdatabase(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        self.client.drop_database(database)
        for key in [k for k in self.indexes if k[0] == database]:
            del self.indexes[key]
        return {"dropped": database}

    # -- cursors -------------------------------------------------------------------------------------
    def _cursor(self, ns: str, docs: list[Any], batch_size: Any, single: bool = False) -> dict[str, Any]:
        size = BATCH if batch_size is None else int(batch_size)
        first, rest = docs[:size], docs[size:]
        cursor_id = 0
        if rest and not single:
            cursor_id = next(self.cursor_ids)
            self.cursors[cursor_id] = (ns, rest)
        return {"cursor": {"firstBatch": first, "id": cursor_id, "ns": ns}}

    def cmd_getmore(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        cursor_id = int(body["getMore"])
        entry = self.cursors.pop(cursor_id, None)
        if entry is None:
            raise CommandError(43, f"cursor id {cursor_id} not found")
        ns, docs = entry
        size = int(body.get("batchSize") or 0) or len(docs)
        batch, rest = docs[:size], docs[size:]
        if rest:
            self.cursors[cursor_id] = (ns, rest)
        return {"cursor": {"nextBatch": batch, "id": cursor_id if rest else 0, "ns": ns}}

    def cmd_killcursors(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        ids = [int(c) for c in body.get("cursors") or []]
        killed = [c for c in ids if self.cursors.pop(c, None) is not None]
        return {"cursorsKilled": killed, "cursorsNotFound": [c for c in ids if c not in killed],
                "cursorsAlive": [], "cursorsUnknown": []}

    # -- reads -----------------------------------------------------------------------------------------
    def cmd_find(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        coll = self._coll(database, body)
        limit = abs(int(body.get("limit") or 0))
        docs = list(coll.find(body.get("filter") or {}, body.get("projection") or None,
                              skip=int(body.get("skip") or 0), limit=limit, sort=_sort(body.get("sort"))))
        return self._cursor(f"{database}.{coll.name}", docs, body.get("batchSize"), bool(body.get("singleBatch")))

    def cmd_aggregate(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        if body["aggregate"] == 1:
            raise CommandError(238, "database-level aggregate is not implemented by the test endpoint")
        coll = self._coll(database, body)
        docs = list(coll.aggregate(list(body.get("pipeline") or [])))
        return self._cursor(f"{database}.{coll.name}", docs, (body.get("cursor") or {}).get("batchSize"))

    def cmd_count(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        coll = self._coll(database, body)
        options = {"skip": int(body.get("skip") or 0)}
        if body.get("limit"):
            options["limit"] = abs(int(body["limit"]))
        return {"n": coll.count_documents(body.get("query") or {}, **options)}

    def cmd_distinct(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        coll = self._coll(database, body)
        return {"values": list(coll.distinct(body["key"], body.get("query") or {}))}

    # -- writes ----------------------------------------------------------------------------------------
    def _write_error(self, coll: Any, index: int, err: BaseException) -> dict[str, Any]:
        failure = _failure(err)
        entry: dict[str, Any] = {"index": index, "code": failure.code, "errmsg": failure.message}
        if failure.code == 11000:
            entry.update(self._duplicate(coll, err))
        return entry

    def _duplicate(self, coll: Any, err: BaseException) -> dict[str, Any]:
        """keyPattern, keyValue and MongoDB's errmsg (``E11000 duplicate key error collection: ...``)."""
        details = getattr(err, "details", None) or {}
        pattern, value = details.get("keyPattern") or {}, details.get("keyValue") or {}
        name = next((n for n, spec in self._specs(coll).items() if dict(spec["key"]) == dict(pattern)),
                    "_".join(f"{k}_{v}" for k, v in pattern.items()))
        shown = ", ".join(f"{k}: {v!r}" for k, v in value.items())
        message = f"E11000 duplicate key error collection: {coll.full_name} index: {name} dup key: {{ {shown} }}"
        return {"keyPattern": pattern, "keyValue": value, "errmsg": message}

    def _writes(self, items: list[Any], ordered: bool, one: Any, coll: Any) -> list[dict[str, Any]]:
        errors = []
        for index, item in enumerate(items):
            try:
                one(item, index)
            except Exception as err:  # noqa: BLE001 - reported per statement, as MongoDB does
                errors.append(self._write_error(coll, index, err))
                if ordered:
                    break
        return errors

    def cmd_insert(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        coll, count = self._coll(database, body), [0]

        def one(doc: dict[str, Any], _index: int) -> None:
            _fits(doc, 2, "object to insert too large")
            coll.insert_one(doc)
            count[0] += 1

        errors = self._writes(list(body.get("documents") or []), body.get("ordered", True) is not False, one, coll)
        return {"n": count[0], **({"writeErrors": errors} if errors else {})}

    def cmd_update(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        coll = self._coll(database, body)
        totals: dict[str, Any] = {"n": 0, "nModified": 0, "upserted": []}

        def one(spec: dict[str, Any], index: int) -> None:
            query, update, upsert = spec.get("q") or {}, spec.get("u"), bool(spec.get("upsert"))
            if _is_operator_update(update):
                options = {"array_filters": spec.get("arrayFilters")} if spec.get("arrayFilters") else {}
                method = coll.update_many if spec.get("multi") else coll.update_one
                result = method(query, update, upsert=upsert, **options)
            else:
                if spec.get("multi"):
                    raise CommandError(9, "multi update is not supported for replacement-style update")
                _fits(update, 17420, "Replacement document too large")
                result = coll.replace_one(query, update, upsert=upsert)
            totals["n"] += result.matched_count + (1 if result.upserted_id is not None else 0)
            totals["nModified"] += result.modified_count
            if result.upserted_id is not None:
                totals["upserted"].append({"index": index, "_id": result.upserted_id})

        errors = self._writes(list(body.get("updates") or []), body.get("ordered", True) is not False, one, coll)
        if not totals["upserted"]:
            del totals["upserted"]
        return {**totals, **({"writeErrors": errors} if errors else {})}

    def cmd_delete(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        coll, count = self._coll(database, body), [0]

        def one(spec: dict[str, Any], _index: int) -> None:
            method = coll.delete_one if int(spec.get("limit") or 0) == 1 else coll.delete_many
            count[0] += method(spec.get("q") or {}).deleted_count

        errors = self._writes(list(body.get("deletes") or []), body.get("ordered", True) is not False, one, coll)
        return {"n": count[0], **({"writeErrors": errors} if errors else {})}

    def cmd_findandmodify(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        coll = self._coll(database, body)
        query, fields, update = body.get("query") or {}, body.get("fields") or None, body.get("update")
        if body.get("remove") and (update is not None or body.get("new")):
            raise CommandError(9, "Cannot specify both an update and remove=true" if update is not None else
                               "Cannot specify both new=true and remove=true; 'remove' returns the deleted document")
        old = coll.find_one(query, sort=_sort(body.get("sort")))
        before = coll.find_one({"_id": old["_id"]}, fields) if old is not None else None
        if body.get("remove"):
            if old is not None:
                coll.delete_one({"_id": old["_id"]})
            return {"lastErrorObject": {"n": 1 if old is not None else 0}, "value": before}
        if update is None:
            raise CommandError(9, "Either an update or remove=true must be specified")
        options = {"array_filters": body["arrayFilters"]} if body.get("arrayFilters") else {}
        try:
            if old is None and not body.get("upsert"):
                return {"lastErrorObject": {"n": 0, "updatedExisting": False}, "value": None}
            target = {"_id": old["_id"]} if old is not None else query
            if _is_operator_update(update):
                result = coll.update_one(target, update, upsert=old is None, **options)
            else:
                _fits(update, 17420, "Replacement document too large")
                result = coll.replace_one(target, update, upsert=old is None)
        except DuplicateKeyError as err:
            raise CommandError(11000, "E11000 duplicate key error", **self._duplicate(coll, err)) from err
        doc_id = old["_id"] if old is not None else result.upserted_id
        after = coll.find_one({"_id": doc_id}, fields)
        leo: dict[str, Any] = {"n": 1, "updatedExisting": old is not None}
        if old is None:
            leo["upserted"] = doc_id
        return {"lastErrorObject": leo, "value": after if body.get("new") else before}

    # -- collections -----------------------------------------------------------------------------------
    def cmd_listcollections(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        infos = [{"name": n, "type": "collection", "options": {}, "info": {"readOnly": False},
                  "idIndex": {"v": 2, "key": {"_id": 1}, "name": "_id_"}}
                 for n in sorted(self.client[database].list_collection_names())]
        wanted = body.get("filter") or {}
        infos = [i for i in infos if not wanted or filter_applies(wanted, i)]
        if body.get("nameOnly"):
            infos = [{"name": i["name"], "type": i["type"]} for i in infos]
        return self._cursor(f"{database}.$cmd.listCollections", infos, (body.get("cursor") or {}).get("batchSize"))

    def cmd_create(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        name = body["create"]
        if name in self.client[database].list_collection_names():
            raise CommandError(48, f"Collection {database}.{name} already exists.")
        self.client[database].create_collection(name)
        return {}

    def cmd_drop(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        coll = self._coll(database, body)
        count = len(self._specs(coll)) + 1
        self.client[database].drop_collection(coll.name)
        self.indexes.pop((database, coll.name), None)
        return {"ns": coll.full_name, "nIndexesWas": count}

    # -- indexes -----------------------------------------------------------------------------------------
    def _specs(self, coll: Any) -> dict[str, dict[str, Any]]:
        return self.indexes.setdefault((coll.database.name, coll.name), {})

    @staticmethod
    def _mongo_form(spec: dict[str, Any]) -> dict[str, Any]:
        """The index as MongoDB lists it: a text index keyed ``_fts``/``_ftsx`` with its weights."""
        key = dict(spec["key"])
        out = {"v": 2, **{k: v for k, v in spec.items() if k not in ("v", "ns", "background")
                          and not (k in ("unique", "sparse", "hidden", "prepareUnique") and v is False)}}
        text = [k for k, v in key.items() if v == "text"]
        if text:
            weights = dict(spec.get("weights") or {})
            out["key"] = {**{k: v for k, v in key.items() if v != "text" and k not in weights},
                          "_fts": "text", "_ftsx": 1}
            out["weights"] = {**{k: 1 for k in text}, **weights}
            out.setdefault("default_language", "english")
            out.setdefault("language_override", "language")
            out.setdefault("textIndexVersion", 3)
        else:
            out["key"] = key
        return out

    def cmd_createindexes(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("commitQuorum") is not None:
            raise CommandError(2, "Standalones can't specify commitQuorum")
        coll = self._coll(database, body)
        specs = self._specs(coll)
        before = len(specs) + 1
        for requested in body.get("indexes") or []:
            unknown = sorted(set(requested) - INDEX_FIELDS)
            if unknown:
                raise CommandError(197, f"The field '{unknown[0]}' is not valid for an index specification. "
                                        f"Specification: {dict(requested)}")
            if not requested.get("key") or not requested.get("name"):
                raise CommandError(9, "Error in specification: the 'key' and 'name' fields are required")
            spec = self._mongo_form(requested)
            existing = specs.get(spec["name"])
            if existing is not None:
                if existing["key"] != spec["key"]:
                    raise CommandError(86, "An existing index has the same name as the requested index. "
                                           f"Requested index: {spec}, existing index: {existing}")
                if any(existing.get(k) != spec.get(k) for k in COMPARED):
                    raise CommandError(85, "An equivalent index already exists with the same name but different "
                                           f"options. Requested index: {spec}, existing index: {existing}")
                continue
            same_key = next((s for s in specs.values() if s["key"] == spec["key"]
                             and s.get("partialFilterExpression") == spec.get("partialFilterExpression")), None)
            if same_key is not None or (spec["key"] == {"_id": 1} and spec["name"] != "_id_"):
                raise CommandError(85, f"Index already exists with a different name: "
                                       f"{same_key['name'] if same_key else '_id_'}")
            self._build(coll, requested)
            specs[spec["name"]] = spec
        if coll.name not in coll.database.list_collection_names():
            coll.database.create_collection(coll.name)
        return {"numIndexesBefore": before, "numIndexesAfter": len(specs) + 1, "createdCollectionAutomatically": False}

    @staticmethod
    def _build(coll: Any, spec: dict[str, Any]) -> None:
        """mongomock's index (it enforces ``unique`` and runs TTL); text and geo keys are only listed."""
        key = list(dict(spec["key"]).items())
        if any(not isinstance(v, (int, float)) for _, v in key):
            return
        options = {k: spec[k] for k in ("unique", "sparse", "expireAfterSeconds", "partialFilterExpression")
                   if spec.get(k) is not None}
        coll.create_index(key, name=spec["name"], **options)

    def cmd_listindexes(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        coll = self._coll(database, body)
        if coll.name not in coll.database.list_collection_names():
            raise CommandError(26, f"ns does not exist: {coll.full_name}")
        listed = [{"v": 2, "key": {"_id": 1}, "name": "_id_"}, *self._specs(coll).values()]
        return self._cursor(coll.full_name, listed, (body.get("cursor") or {}).get("batchSize"))

    def _named(self, coll: Any, which: Any) -> dict[str, Any]:
        specs = self._specs(coll)
        if isinstance(which, str):
            found = specs.get(which)
        else:
            found = next((s for s in specs.values() if s["key"] == dict(which)), None)
        if found is None:
            raise CommandError(27, f"index not found with name [{which}]" if isinstance(which, str)
                               else f"can't find index with key: {dict(which)}")
        return found

    def cmd_dropindexes(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        coll = self._coll(database, body)
        specs = self._specs(coll)
        before = len(specs) + 1
        which = body.get("index")
        if which == "*":
            names = list(specs)
        elif which == "_id_":
            raise CommandError(72, "cannot drop _id index")
        else:
            names = [self._named(coll, w)["name"] for w in (which if isinstance(which, list) else [which])]
        existed = coll.name in coll.database.list_collection_names()
        for name in names:
            specs.pop(name, None)
            if name in coll._store.indexes:
                coll.drop_index(name)
        if existed and coll.name not in coll.database.list_collection_names():
            coll.database.create_collection(coll.name)  # mongomock forgets a collection without indexes
        return {"nIndexesWas": before}

    def cmd_collmod(self, database: str, body: dict[str, Any]) -> dict[str, Any]:
        coll = self._coll(database, body)
        change = dict(body.get("index") or {})
        if not change:
            return {}
        spec = self._named(coll, change.pop("name") if "name" in change else change.pop("keyPattern", {}))
        stored = coll._store.indexes.get(spec["name"])
        answer: dict[str, Any] = {}
        if "expireAfterSeconds" in change:
            answer["expireAfterSeconds_old"] = spec.get("expireAfterSeconds")
            spec["expireAfterSeconds"] = answer["expireAfterSeconds_new"] = int(change.pop("expireAfterSeconds"))
            if stored is not None:
                stored["expireAfterSeconds"] = spec["expireAfterSeconds"]
        if "hidden" in change:
            answer["hidden_old"], spec["hidden"] = bool(spec.get("hidden")), bool(change.pop("hidden"))
            answer["hidden_new"] = spec["hidden"]
        if "prepareUnique" in change:
            answer["prepareUnique_old"] = bool(spec.get("prepareUnique"))
            spec["prepareUnique"] = answer["prepareUnique_new"] = bool(change.pop("prepareUnique"))
        if "unique" in change:
            unique = bool(change.pop("unique"))
            if unique and not spec.get("prepareUnique"):
                raise CommandError(2, "Cannot make index unique with 'prepareUnique=false'. "
                                      "Run 'collMod' to set it first.")
            if unique:
                self._check_unique(coll, spec)
                spec.pop("prepareUnique", None)
                spec["unique"] = True
            else:
                spec.pop("unique", None)
            if stored is not None:
                stored.pop("unique", None)
                if unique:
                    stored["unique"] = True
            answer["unique_new"] = unique
        if change:
            raise CommandError(197, f"unknown collMod index option(s): {sorted(change)}")
        if not answer:
            raise CommandError(72, "no expireAfterSeconds, hidden, prepareUnique or unique field")
        return answer

    @staticmethod
    def _check_unique(coll: Any, spec: dict[str, Any]) -> None:
        from mongomock_ng.helpers import get_value_by_dot

        seen: dict[Any, Any] = {}
        for doc in coll.find(spec.get("partialFilterExpression") or {}):
            try:
                value = repr([get_value_by_dot(doc, k) for k in spec["key"]])
            except KeyError:
                value = "null"
            if value in seen:
                raise CommandError(359, "Cannot convert the index to unique. Please resolve conflicting documents "
                                        "before running collMod again.",
                                   violations=[{"ids": [seen[value], doc["_id"]]}])
            seen[value] = doc["_id"]

