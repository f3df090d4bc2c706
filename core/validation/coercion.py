"""Value coercion for mia.js types (String, Number, Boolean, Date, Array, Object, IP, CIDR, ...).

Split from ``core.validation.rules``: this module knows how a raw value (often a query-string text) becomes
the declared type, and how mia.js names JS types in its messages; ``core.validation.rules`` builds the checks.
"""
from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from email.utils import parsedate_to_datetime
from typing import Any

from core.errors import StartupError


class _Sentinel:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


MISSING: Any = _Sentinel("MISSING")  # an absent value (JS ``undefined``)
FAIL: Any = _Sentinel("FAIL")  # a coercion that did not work

RULE_KEYS = frozenset({
    "type", "subType", "required", "min", "max", "minLength", "maxLength", "allow", "deny", "allowMultiple",
    "match", "convert", "default", "nullable", "virtual", "extend", "public", "desc", "description", "docs",
    "unique", "index", "sparse", "indexOptions"})
MAX_SAFE_INTEGER = 2**53 - 1

Check = Callable[[Any, str], "dict[str, str] | None"]


class RuleError(ValueError):
    """An unusable rule definition; ``core.validation.validator`` adds ``where`` and the field name."""


class RuleDefinitionError(StartupError):
    """A schema cannot be compiled; the message names ``where`` and the field, so start-up fails loudly."""

    def __init__(self, where: str, field: str, reason: str) -> None:
        self.where, self.field, self.reason = where, field, reason
        super().__init__(f"{where}: field '{field}': {reason}" if where else f"field '{field}': {reason}")


class SchemaPlace:
    """Where a (sub-)schema comes from, for error messages: ``where`` and a display prefix."""

    __slots__ = ("where", "prefix")

    def __init__(self, where: str, prefix: str = "") -> None:
        self.where, self.prefix = where, prefix

    def fail(self, path: str, reason: str) -> RuleDefinitionError:
        return RuleDefinitionError(self.where, self.prefix + path, reason)


@dataclass
class FieldInfo:
    """A flattened leaf of a schema (dotted ``name``), for docs, service listings and index derivation."""

    name: str
    type_name: str | None = None
    sub_type: str | None = None
    required: bool = False
    min_length: int | None = None
    max_length: int | None = None
    min: float | None = None
    max: float | None = None
    allow: list[Any] | None = None
    allow_multiple: bool = False
    deny: list[Any] | None = None
    match: str | None = None
    default: Any = None
    has_default: bool = False
    nullable: bool = False
    desc: str | None = None
    docs: bool = True
    is_array_of_documents: bool = False
    item_fields: list[FieldInfo] = field(default_factory=list)
    rules: dict[str, Any] = field(default_factory=dict)
    integer: bool = False  # int / Integer / SafeInteger: numbers are returned as int
    public_set: bool = True  # False: client input is stripped
    public_get: bool = True  # False: validated but left out of the output
    virtual: bool = False
    dynamic: bool = False  # ``extend``: the rules are chosen per value
    free_form: bool = False  # ``{}`` / ``[]``: copied without validation
    unique: bool = False
    index: bool = False
    sparse: bool = False
    index_options: dict[str, Any] | None = None


def error(code: str, label: str, msg: str) -> dict[str, str]:
    return {"code": code, "id": label, "msg": msg}


def typeof(v: Any) -> str:
    """JavaScript's ``typeof`` of the equivalent JS value, as used in mia's messages."""
    if v is MISSING:
        return "undefined"
    if isinstance(v, str):
        return "string"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if v is None or isinstance(v, (dict, list, tuple, datetime, date)):
        return "object"
    return "function" if callable(v) else "object"


def js_str(v: Any) -> str:
    """JavaScript's ``String(v)`` (``5.0`` -> ``5``, ``True`` -> ``true``, lists joined by commas)."""
    if isinstance(v, str):
        return v
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return str(int(v)) if v.is_integer() and abs(v) < 1e21 else repr(v)
    if isinstance(v, (list, tuple)):
        return js_join(v)
    if isinstance(v, dict):
        return "[object Object]"
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    return str(v)


def js_join(items: Any) -> str:
    return ",".join("" if i is None else js_str(i) for i in items)


def deep_copy(v: Any) -> Any:
    """A copy of containers, so the output never aliases the caller's input."""
    if isinstance(v, dict):
        return {k: deep_copy(x) for k, x in v.items()}
    if isinstance(v, list):
        return [deep_copy(x) for x in v]
    return v


# ---------------------------------------------------------------------------------------- types
_INT_RE = re.compile(r"\s*[+-]?[0-9]+\s*")
_FLOAT_RE = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")


def to_number(v: Any) -> Any:
    """Numbers and numeric strings ("5" -> 5, "5.5" -> 5.5, "1e3" -> 1000.0), or a one-element list of one."""
    if isinstance(v, bool):
        return FAIL
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return float(v) if math.isfinite(v) else FAIL
    if isinstance(v, str):
        try:
            if _INT_RE.fullmatch(v):
                return int(v)
            if _FLOAT_RE.fullmatch(v):
                f = float(v)
                return f if math.isfinite(f) else FAIL
        except ValueError:  # more digits than Python's int-from-str limit
            return FAIL
        return FAIL
    if isinstance(v, (list, tuple)) and len(v) == 1 and isinstance(v[0], (str, int, float)):
        return to_number(v[0])
    return FAIL


def to_int(v: Any) -> Any:
    n = to_number(v)
    if isinstance(n, float):
        return int(n) if n.is_integer() else FAIL
    return n


def to_safe_int(v: Any) -> Any:
    n = to_int(v)
    return n if n is FAIL or abs(n) <= MAX_SAFE_INTEGER else FAIL


def to_bool(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        low = v.lower()
        if low == "true":
            return True
        if low == "false":
            return False
    return FAIL


def to_string(v: Any) -> Any:
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return js_str(v)
    return FAIL


def to_array(v: Any) -> Any:
    """Lists; a string (a single query-string value) becomes a one-element list, '' an empty one."""
    if isinstance(v, (list, tuple)):
        return v
    if isinstance(v, str):
        return [v] if v else []
    return FAIL


def to_object(v: Any) -> Any:
    return v if isinstance(v, dict) else FAIL


def parse_date(v: Any) -> datetime | None:
    """A timezone-aware datetime (naive means UTC) from a datetime, ISO-8601/RFC-2822 text or epoch ms."""
    if isinstance(v, datetime):
        return v if v.tzinfo else v.replace(tzinfo=UTC)
    if isinstance(v, date):
        return datetime.combine(v, time(), UTC)
    if isinstance(v, str):
        s = v.strip()
        if not s:
            return None
        try:
            d = datetime.fromisoformat(s)
        except ValueError:
            try:
                d = parsedate_to_datetime(s)
            except (TypeError, ValueError, IndexError):
                return None
        return d if d.tzinfo else d.replace(tzinfo=UTC)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        try:
            return datetime.fromtimestamp(v / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def keep_date(v: Any) -> Any:
    """mia's 'Date': anything that parses as a date passes, unchanged."""
    return v if parse_date(v) is not None else FAIL


def to_datetime(v: Any) -> Any:
    d = parse_date(v)
    return FAIL if d is None else d


def to_timestamp(v: Any) -> Any:
    return int(v) if isinstance(v, str) and len(v) == 10 and v.isascii() and v.isdigit() else FAIL


def _address_check(parse: Callable[[str], Any], need_prefix: bool) -> Callable[[Any], Any]:
    def coerce(v: Any) -> Any:
        if not isinstance(v, str) or (need_prefix and "/" not in v):
            return FAIL
        try:
            parse(v)
        except ValueError:
            return FAIL
        return v
    return coerce


@dataclass(frozen=True)
class TypeSpec:
    coerce: Callable[[Any], Any]
    expected: str  # the name in UnexpectedType messages
    name: str  # FieldInfo.type_name
    integer: bool = False
    mia_date: bool = False  # mia's string 'Date': ``convert`` also turns strings into datetimes


_NAMED = {
    "string": TypeSpec(to_string, "string", "string"),
    "number": TypeSpec(to_number, "number", "number"),
    "boolean": TypeSpec(to_bool, "boolean", "boolean"),
    "date": TypeSpec(keep_date, "date", "date", mia_date=True),
    "array": TypeSpec(to_array, "array", "array"),
    "object": TypeSpec(to_object, "object", "object"),
    "integer": TypeSpec(to_int, "integer", "integer", integer=True),
    "safeinteger": TypeSpec(to_safe_int, "safeinteger", "safeinteger", integer=True),
    "timestamp": TypeSpec(to_timestamp, "timestamp", "timestamp", integer=True),
    "ip": TypeSpec(_address_check(ipaddress.ip_address, False), "ip", "ip"),
    "ipv4": TypeSpec(_address_check(ipaddress.IPv4Address, False), "ipv4", "ipv4"),
    "ipv6": TypeSpec(_address_check(ipaddress.IPv6Address, False), "ipv6", "ipv6"),
    "cidr": TypeSpec(_address_check(lambda s: ipaddress.ip_network(s, strict=False), True), "cidr", "cidr"),
    "cidrv4": TypeSpec(_address_check(lambda s: ipaddress.IPv4Network(s, strict=False), True), "cidrv4", "cidrv4"),
    "cidrv6": TypeSpec(_address_check(lambda s: ipaddress.IPv6Network(s, strict=False), True), "cidrv6", "cidrv6"),
}
_PYTHON: dict[Any, TypeSpec] = {
    # int: "integer" in messages (as the Integer type), "number" as its family (docs, listings: mia's Number)
    str: _NAMED["string"], int: TypeSpec(to_int, "integer", "number", integer=True), float: _NAMED["number"],
    bool: _NAMED["boolean"], list: _NAMED["array"], dict: _NAMED["object"],
    datetime: TypeSpec(to_datetime, "date", "date"),
}


def resolve_type(spec: Any) -> TypeSpec:
    found = _PYTHON.get(spec) if isinstance(spec, type) else _NAMED.get(spec.lower()) if isinstance(spec, str) else None
    if found is None:
        raise RuleError(f"unknown type {spec!r}")
    return found


# ---------------------------------------------------------------------------------------- regex
_JS_LITERAL = re.compile(r"/(.*)/([a-z]*)", re.S)
_JS_FLAGS = {"i": re.I, "m": re.M, "s": re.S, "x": re.X, "g": 0, "u": 0, "y": 0}


def compile_match(spec: Any) -> tuple[re.Pattern[str], str]:
    """The compiled pattern and its JS literal form ``/source/flags`` for PatternMismatch messages."""
    try:
        if isinstance(spec, re.Pattern) and isinstance(spec.pattern, str):
            pattern = spec
        elif isinstance(spec, str):
            lit = _JS_LITERAL.fullmatch(spec)
            if lit and all(f in _JS_FLAGS for f in lit[2]):
                flags = 0
                for f in lit[2]:
                    flags |= _JS_FLAGS[f]
                pattern = re.compile(lit[1], flags)
            else:
                pattern = re.compile(spec)
        else:
            raise RuleError(f"match must be a str or re.Pattern, not {type(spec).__name__}")
    except re.error as exc:
        raise RuleError(f"match is not a valid regular expression: {exc}") from exc
    source = re.sub(r"(?<!\\)/", r"\/", pattern.pattern) or "(?:)"
    letters = "".join(f for f, bit in (("i", re.I), ("m", re.M), ("s", re.S), ("x", re.X)) if pattern.flags & bit)
    return pattern, f"/{source}/{letters}"


