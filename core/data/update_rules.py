"""What MongoDB 7/8 refuses in an update, a filter or a document, checked without a server.

Why: the embedded store (mongomock-ng) accepts updates MongoDB rejects (``{"$set": {"a": 1, "a.b": 2}}``,
an ``$unset`` of ``_id``, a 17 MB document, ``$where``), so a project test could pass here and the
same code fail in production. These pure checks raise pymongo's own error types with MongoDB's codes
and messages; :func:`install` puts them in front of the embedded store's collection methods (called
by core.data.databases when it makes the embedded client) and core.data.models calls them for project
code on every backend, so the error is the same everywhere.

Codes: 9 FailedToParse (unknown operator, operand not a document, bad ``$pop``), 2 BadValue
(``$rename`` shapes, ``$currentDate`` values, ``$where``), 14 TypeMismatch (``$inc``/``$mul`` of a
non-number), 40 ConflictingUpdateOperators (one path, or a path and its prefix, updated twice),
56 EmptyFieldName, 66 ImmutableField (``_id``). Over 16 MiB: ``DocumentTooLarge``. An empty operand
(``{"$set": {}}``) is allowed, as on MongoDB >= 5.0.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from bson import Decimal128, Int64, encode
from pymongo.errors import DocumentTooLarge, OperationFailure, WriteError

MAX_BSON_SIZE = 16 * 1024 * 1024
OPERATORS = frozenset({"$set", "$unset", "$inc", "$mul", "$rename", "$min", "$max", "$currentDate",
                       "$setOnInsert", "$push", "$pull", "$pullAll", "$addToSet", "$pop", "$bit"})
_NUMBERS = (int, float, Int64, Decimal128, Decimal)
Error = type[OperationFailure]


def _fail(error: Error, code: int, message: str) -> OperationFailure:
    if error is WriteError:
        return WriteError(message, code, {"code": code, "errmsg": message, "index": 0})
    return error(message, code, {"ok": 0.0, "code": code, "errmsg": message})


def _check_path(path: str, error: Error) -> None:
    if not isinstance(path, str) or path == "" or "" in path.split("."):
        raise _fail(error, 56, f"An update path '{path}' contains an empty field name, which is not allowed.")


def _is_id(path: str) -> bool:
    return path == "_id" or path.startswith("_id.")


def _filter_id(filter: Mapping[str, Any] | None) -> tuple[bool, Any]:
    value = (filter or {}).get("_id", ...)
    if value is ... or (isinstance(value, Mapping) and any(str(k).startswith("$") for k in value)):
        return False, None
    return True, value


def _operand_checks(op: str, path: str, value: Any, error: Error) -> list[str]:
    """Per-operator value rules; returns the paths this entry updates (``$rename``: both)."""
    if op in ("$inc", "$mul") and (isinstance(value, bool) or not isinstance(value, _NUMBERS)):
        verb = "increment" if op == "$inc" else "multiply"
        raise _fail(error, 14, f"Cannot {verb} with non-numeric argument: {{{path}: {value!r}}}")
    if op == "$pop" and (isinstance(value, bool) or value not in (1, -1)):
        raise _fail(error, 9, f"$pop expects 1 or -1, found: {value!r}")
    if op == "$currentDate" and value not in (True, False) and not (
            isinstance(value, Mapping) and value.get("$type") in ("date", "timestamp") and len(value) == 1):
        raise _fail(error, 2, f"{path} is not valid type for $currentDate. Please use a boolean ('true') "
                              "or a $type expression ({$type: 'timestamp/date'}).")
    if op != "$rename":
        return [path]
    if not isinstance(value, str):
        raise _fail(error, 2, f"The 'to' field for $rename must be a string: {path}: {value!r}")
    _check_path(value, error)
    if value == path:
        raise _fail(error, 2, f"The source and target field for $rename must differ: {path}: {value!r}")
    if value.startswith(path + ".") or path.startswith(value + "."):
        raise _fail(error, 2, f"The source and target field for $rename must not be on the same path: "
                              f"{path}: {value!r}")
    if "$" in path or "$" in value:
        raise _fail(error, 2, f"The source and target field for $rename must not contain '$': {path}: {value!r}")
    return [path, value]


def check_update(update: Any, filter: Mapping[str, Any] | None = None, *, error: Error = WriteError) -> None:
    """Raise what MongoDB raises for this update document (a pipeline, a list, is left to the server)."""
    if not isinstance(update, Mapping):
        return
    seen: dict[str, str] = {}
    has_id, id_value = _filter_id(filter)
    for op, operand in update.items():
        if op not in OPERATORS:
            raise _fail(error, 9, f"Unknown modifier: {op}. Expected a valid update modifier or pipeline-style "
                                  "update specified as an array")
        if not isinstance(operand, Mapping):
            raise _fail(error, 9, f"Modifiers operate on fields but we found type {type(operand).__name__} "
                                  f"instead. For example: {{$mod: {{<field>: ...}}}} not {{{op}: {operand!r}}}")
        for path, value in operand.items():
            _check_path(path, error)
            for updated in _operand_checks(op, path, value, error):
                if _is_id(updated) and op != "$setOnInsert" and not (
                        op == "$set" and updated == "_id" and has_id and value == id_value):
                    raise _fail(error, 66, f"Performing an update on the path '{updated}' would modify the "
                                           "immutable field '_id'")
                _claim(seen, updated, error)
    size_check(update)


def _claim(seen: dict[str, str], path: str, error: Error) -> None:
    parts = path.split(".")
    for n in range(1, len(parts) + 1):
        prefix = ".".join(parts[:n])
        if prefix in seen:
            raise _fail(error, 40, f"Updating the path '{path}' would create a conflict at '{prefix}'")
    for other in seen:
        if other.startswith(path + "."):
            raise _fail(error, 40, f"Updating the path '{other}' would create a conflict at '{path}'")
    seen[path] = path


def check_replacement(replacement: Any, filter: Mapping[str, Any] | None = None, *,
                      error: Error = WriteError) -> None:
    """A replacement keeps ``_id`` (66 when it names another one) and fits in 16 MiB."""
    if isinstance(replacement, Mapping) and "_id" in replacement:
        has_id, id_value = _filter_id(filter)
        if has_id and replacement["_id"] != id_value:
            raise _fail(error, 66, "After applying the update, the (immutable) field '_id' was found to have "
                                   f"been altered to _id: {replacement['_id']!r}")
    size_check(replacement)


def check_filter(filter: Any) -> None:
    """``$where`` (server-side JavaScript, deprecated in 8.0, off on many deployments) is refused."""
    if not isinstance(filter, Mapping):
        return
    for key, value in filter.items():
        if key == "$where":
            raise _fail(OperationFailure, 2, "$where is not allowed: server-side JavaScript is disabled for "
                                             "this application; express the condition as a query or $expr")
        if key in ("$and", "$or", "$nor") and isinstance(value, list):
            for part in value:
                check_filter(part)


def size_check(document: Any) -> None:
    """Raise ``DocumentTooLarge`` (as pymongo does) for a document over MongoDB's 16 MiB."""
    if not isinstance(document, Mapping):
        return
    size = len(encode(document))
    if size > MAX_BSON_SIZE:
        raise DocumentTooLarge(f"BSON document too large ({size} bytes) - the connected server supports "
                               f"BSON document sizes up to {MAX_BSON_SIZE} bytes.")


# -- the embedded store's hooks -------------------------------------------------------------------
def _wrap(method: Callable[..., Any], check: Callable[[tuple, dict[str, Any]], None]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        check(args, kwargs)
        return method(self, *args, **kwargs)

    call._mia_checked = True  # type: ignore[attr-defined]
    return call


def _arg(args: tuple, kwargs: dict[str, Any], index: int, name: str) -> Any:
    return args[index] if len(args) > index else kwargs.get(name)


def _filter_only(args: tuple, kwargs: dict[str, Any]) -> None:
    check_filter(_arg(args, kwargs, 0, "filter"))


def _updating(error: Error) -> Callable[[tuple, dict[str, Any]], None]:
    def check(args: tuple, kwargs: dict[str, Any]) -> None:
        filter = _arg(args, kwargs, 0, "filter")
        check_filter(filter)
        check_update(_arg(args, kwargs, 1, "update"), filter, error=error)
    return check


def _replacing(error: Error) -> Callable[[tuple, dict[str, Any]], None]:
    def check(args: tuple, kwargs: dict[str, Any]) -> None:
        filter = _arg(args, kwargs, 0, "filter")
        check_filter(filter)
        check_replacement(_arg(args, kwargs, 1, "replacement"), filter, error=error)
    return check


def _inserting_one(args: tuple, kwargs: dict[str, Any]) -> None:
    size_check(_arg(args, kwargs, 0, "document"))


def _inserting_many(args: tuple, kwargs: dict[str, Any]) -> None:
    for document in _arg(args, kwargs, 0, "documents") or []:
        size_check(document)


def install() -> None:
    """Check every write and read of the embedded store's collections (idempotent)."""
    from mongomock_ng.collection import Collection

    checks: dict[str, Callable[[tuple, dict[str, Any]], None]] = {
        "insert_one": _inserting_one, "insert_many": _inserting_many,
        "update_one": _updating(WriteError), "update_many": _updating(WriteError),
        "find_one_and_update": _updating(OperationFailure),
        "replace_one": _replacing(WriteError), "find_one_and_replace": _replacing(OperationFailure),
        "find": _filter_only, "find_one": _filter_only, "count_documents": _filter_only,
        "delete_one": _filter_only, "delete_many": _filter_only, "find_one_and_delete": _filter_only,
    }
    for name, check in checks.items():
        method = getattr(Collection, name)
        if not getattr(method, "_mia_checked", False):
            setattr(Collection, name, _wrap(method, check))
