"""Indexes derived from a model's declaration, created at start-up and by the ensureIndexes cron.

Derivation follows mia.js (spec §4.3):

* single-field: every field with ``index: True`` or ``unique: True`` (also inside arrays of
  sub-documents, ``messages.name``); named by the dotted path with only its first
  non-alphanumeric character removed (``session.id`` -> ``sessionid``, ``a.b.c`` -> ``ab.c``);
  ``unique``/``sparse`` when exactly ``True``; ``indexOptions`` merged in (also for nested fields,
  where mia ignored them). A TTL index is ``indexOptions: {"expireAfterSeconds": 3600}`` on a
  date field with ``index: True`` (mia's own shape, so no new rule key).
* compound: ``compound_indexes = [{"fields": ["a", {"b": -1}], "unique", "sparse", "name",
  "indexOptions"}]``; the default name concatenates the field names, each without its first
  non-alphanumeric character.
* text: ``text_indexes = [{"fields": [...], "name", "weights", "default_language", ...}]``.

Creation runs singles, then compounds, then texts. Creating an index that exists with the same
definition is a no-op (compared as core.data.index_builds reads MongoDB's answer: text indexes by
weights, TTL 0 as TTL); a changed TTL or a new unique constraint is applied with ``collMod``; any
other change of the same name (or the same keys under another name) raises :class:`IndexConflict`,
a start-up error naming the model file and the index (the generic-ensureIndexes job replaces such
indexes, building the new one before it drops the old). Start-up also refuses what MongoDB would
refuse later: a compound index over two array fields (every write with both set fails, error 171)
and TTL on a compound index (never expires).
"""
from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from typing import Any

from core.data.databases import is_embedded
from core.data.index_builds import IndexSpec, build, change, collmod_change, declared, described, modify, same
from core.errors import StartupError
from core.shared import Shared, flag

_FIRST_NON_ALNUM = re.compile(r"[^0-9a-zA-Z]")
CONFLICT_CODES = {85, 86}  # IndexOptionsConflict, IndexKeySpecsConflict


class IndexConflict(StartupError):
    """An index of the model collides with an existing one of another definition."""


def index_name(path: str) -> str:
    """mia's index name: the path with only its first non-alphanumeric character removed."""
    return _FIRST_NON_ALNUM.sub("", path, count=1)


def _options(spec: dict[str, Any], where: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if spec.get("unique") is True:
        options["unique"] = True
    if spec.get("sparse") is True:
        options["sparse"] = True
    extra = spec.get("indexOptions")
    if extra is not None:
        if not isinstance(extra, dict):
            raise StartupError(f"{where}: indexOptions must be a dict")
        options.update(extra)
    options.pop("name", None)
    options.pop("background", None)  # ignored by MongoDB >= 4.2
    return options


def model_file(model: Any) -> str:
    """The file a model came from (the loader records it; classes defined elsewhere are looked up)."""
    if getattr(model, "source_file", ""):
        return str(model.source_file)
    try:
        return inspect.getsourcefile(model) or ""
    except TypeError:
        return ""


def _leaf_fields(fields: Iterable[Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for info in fields:
        path = prefix + info.name
        if getattr(info, "is_array_of_documents", False):
            yield from _leaf_fields(info.item_fields, path + ".")
        else:
            yield path, info


def single_indexes(model: Any) -> list[IndexSpec]:
    found: list[IndexSpec] = []
    for path, info in _leaf_fields(model.schema().fields):
        rules = getattr(info, "rules", None) or {}
        unique = info.unique or rules.get("unique") is True
        if not (unique or info.index or rules.get("index") is True):
            continue
        spec = {"unique": unique, "sparse": info.sparse or rules.get("sparse") is True,
                "indexOptions": info.index_options if info.index_options is not None else rules.get("indexOptions")}
        found.append(IndexSpec(((path, 1),), index_name(path),
                               _options(spec, f"model {model.identity} field {path}"), "single"))
    return found


def _key_fields(entry: dict[str, Any], where: str, text: bool) -> tuple[tuple[str, Any], ...]:
    fields = entry.get("fields")
    if not isinstance(fields, list) or not fields:
        raise StartupError(f"{where}: 'fields' must be a non-empty list")
    keys: list[tuple[str, Any]] = []
    for item in fields:
        if isinstance(item, str):
            keys.append((item, "text" if text else 1))
        elif isinstance(item, dict) and len(item) == 1:
            name, direction = next(iter(item.items()))
            keys.append((str(name), "text" if text else direction))
        else:
            raise StartupError(f"{where}: a field must be a name or {{name: direction}}, not {item!r}")
    return tuple(keys)


def compound_indexes(model: Any) -> list[IndexSpec]:
    found: list[IndexSpec] = []
    for n, entry in enumerate(getattr(model, "compound_indexes", None) or []):
        where = f"model {model.identity} compound_indexes[{n}]"
        keys = _key_fields(entry, where, text=False)
        name = entry.get("name") or "".join(index_name(k) for k, _ in keys)
        options = _options(entry, where)
        if "expireAfterSeconds" in options and len(keys) > 1:
            raise StartupError(f"{where}: expireAfterSeconds on a compound index: MongoDB never expires by it "
                               "(a TTL index has one date field; declare it on that field)")
        arrays = _array_paths(model)
        parallel = sorted({a for k, _ in keys for a in arrays if k == a or k.startswith(a + ".")})
        if len(parallel) > 1:
            raise StartupError(f"{where}: the compound index {[k for k, _ in keys]} covers the array fields "
                               f"{parallel}: MongoDB refuses every document with both set (error 171, "
                               "parallel arrays); index them separately")
        found.append(IndexSpec(keys, name, options, "compound"))
    return found


def _array_paths(model: Any) -> list[str]:
    """Dotted paths of the model's array fields (``type: list``/``Array`` and arrays of documents)."""
    def walk(fields: Iterable[Any], prefix: str) -> Iterable[str]:
        for info in fields:
            if getattr(info, "type_name", None) == "array":
                yield prefix + info.name
            if getattr(info, "is_array_of_documents", False):
                yield from walk(info.item_fields, prefix + info.name + ".")
    return list(walk(model.schema().fields, ""))


def text_indexes(model: Any) -> list[IndexSpec]:
    found: list[IndexSpec] = []
    for n, entry in enumerate(getattr(model, "text_indexes", None) or []):
        where = f"model {model.identity} text_indexes[{n}]"
        keys = _key_fields(entry, where, text=True)
        options = _options(entry, where)
        for key in ("weights", "default_language", "language_override"):
            if entry.get(key) is not None:
                options[key] = entry[key]
        name = entry.get("name") or "".join(index_name(k) for k, _ in keys)
        found.append(IndexSpec(keys, name, options, "text"))
    return found


def model_indexes(model: Any) -> list[IndexSpec]:
    """Every index of ``model`` in creation order: singles, compounds, texts (mia's getIndexes).

    A broken declaration (rules or index entries) is a StartupError naming the model's file."""
    try:
        return single_indexes(model) + compound_indexes(model) + text_indexes(model)
    except StartupError as exc:
        if exc.path or not model_file(model):
            raise
        raise StartupError(str(exc), model_file(model)) from exc


def _check_embedded(collection: Any, spec: IndexSpec, model: Any, existing: dict[str, Any]) -> None:
    """MongoDB's conflict rules, for the embedded store (which accepts the same keys twice)."""
    for name, info in existing.items():
        if name != spec.name and name != "_id_" and described(info)[:2] == declared(spec)[:2]:
            raise _conflict(model, spec, f"the same keys are already indexed as '{name}'")


def _conflict(model: Any, spec: IndexSpec, reason: str) -> IndexConflict:
    return IndexConflict(
        f"model '{model.identity}' (collection '{model.collection_name}'): index '{spec.name}' "
        f"{dict(spec.keys)} conflicts with the database: {reason}; drop the old index or rename this one",
        model_file(model))


def ensure_indexes(model: Any) -> list[str]:
    """Create the model's indexes (idempotent); returns their names. Raises IndexConflict/StartupError."""
    from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError

    if getattr(model, "disabled", False) or not model.collection_name:
        return []
    collection = model.collection()
    names: list[str] = []
    existing = collection.index_information()
    for spec in model_indexes(model):
        try:
            info = existing.get(spec.name)
            if info is not None and same(info, spec):
                names.append(spec.name)
                continue
            if info is not None:  # a changed TTL or a new unique constraint: collMod, never a gap
                changes = collmod_change(info, spec)
                if changes is None:
                    raise _conflict(model, spec, f"an index named '{spec.name}' exists with another definition "
                                                 "(the generic-ensureIndexes job replaces it)")
                modify(collection, spec.name, changes, spec)
                names.append(spec.name)
                continue
            if is_embedded(collection):
                _check_embedded(collection, spec, model, existing)
            names.append(build(collection, list(spec.keys), spec.name, dict(spec.options)))
        except DuplicateKeyError as exc:
            raise StartupError(f"model '{model.identity}': existing documents violate unique index "
                               f"'{spec.name}': {exc}", model_file(model)) from exc
        except OperationFailure as exc:
            if exc.code in CONFLICT_CODES or "already exists" in str(exc):
                raise _conflict(model, spec, str(exc)) from exc
            if exc.code in (359, 11000):  # CannotConvertIndexToUnique: duplicates exist
                raise StartupError(f"model '{model.identity}': existing documents violate unique index "
                                   f"'{spec.name}': {exc}", model_file(model)) from exc
            raise StartupError(f"model '{model.identity}': creating index '{spec.name}' failed: {exc}",
                               model_file(model)) from exc
        except PyMongoError as exc:
            raise StartupError(f"model '{model.identity}': database unreachable while creating index "
                               f"'{spec.name}': {exc}", model_file(model)) from exc
    return names


def _registered_models() -> list[Any]:
    return [m for _, _, m in Shared.model_registry.items() if not getattr(m, "disabled", False)]


def ensure_all_indexes(startup: bool = False) -> dict[str, list[str]]:
    """Indexes of every registered model, keyed ``identity@version``.

    With ``startup`` (core.app.factory.create_app), collections that do not exist yet are created first
    (with the model's ``collection_options``); when ``skipDatabaseIndexingOnNewCollections`` is set,
    those new collections are not indexed (mia's behaviour, for test set-ups that drop often).
    """
    from pymongo.errors import CollectionInvalid, OperationFailure, PyMongoError

    skip_new = startup and flag(Shared.environment.get("skipDatabaseIndexingOnNewCollections"))
    existing: dict[tuple[int, str], set[str]] = {}
    done: dict[str, list[str]] = {}
    for model in _registered_models():
        if not model.collection_name:
            continue
        if startup:
            try:
                database = model.db()
                key = (id(database.client), database.name)
                if key not in existing:
                    existing[key] = set(database.list_collection_names())
                names = existing[key]
                if model.collection_name not in names:
                    try:
                        database.create_collection(model.collection_name, **(model.collection_options or {}))
                    except (CollectionInvalid, OperationFailure):  # created meanwhile by another worker
                        pass
                    names.add(model.collection_name)
                    if skip_new:
                        continue
            except PyMongoError as exc:
                raise StartupError(f"model '{model.identity}': database unreachable at start-up: {exc}",
                                   model_file(model)) from exc
        done[f"{model.identity}@{model.version}"] = ensure_indexes(model)
    return done


def sync_indexes(model: Any) -> dict[str, list[str]]:
    """Make the collection's indexes exactly the model's (the generic-ensureIndexes cron, mia.js):
    drop indexes the model no longer declares (never ``_id_``), change those whose definition
    changed (collMod, or the new one built before the old one goes: core.data.index_builds), create
    the missing ones. Returns ``{"dropped", "recreated", "modified", "created"}``."""
    from core.data.index_builds import NEXT

    out: dict[str, list[str]] = {"dropped": [], "recreated": [], "modified": [], "created": []}
    if getattr(model, "disabled", False) or not model.collection_name:
        return out
    collection = model.collection()
    wanted = {spec.name: spec for spec in model_indexes(model)}
    existing = collection.index_information()
    for name, spec in wanted.items():  # build first, drop the undeclared ones last
        info = existing.get(name)
        if info is None:
            for other, old in list(existing.items()):  # renamed: MongoDB allows the same keys only once
                if other not in wanted and other != "_id_" and described(old)[:2] == declared(spec)[:2]:
                    collection.drop_index(other)
                    existing.pop(other)
                    out["dropped"].append(other)
            build(collection, list(spec.keys), spec.name, dict(spec.options))
            out["created"].append(name)
        elif not same(info, spec):
            out["modified" if change(collection, info, spec) == "modified" else "recreated"].append(name)
    for name in existing:
        if name != "_id_" and name not in wanted and not (name.endswith(NEXT) and name[:-len(NEXT)] in wanted):
            collection.drop_index(name)
            out["dropped"].append(name)
    return out
