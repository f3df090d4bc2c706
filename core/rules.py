"""One field of a mia.js schema, compiled: type coercion, rule checks and mia's exact messages.

Why a separate module: ``core.validator`` walks schema trees (groups, arrays, virtuals, extend);
this module turns a single rule dict into pre-built closures once, at start-up, so validating a
value never re-reads the rule dict or compiles a regex. Deviations from mia.js are listed in the
docstring of ``core.validator``.
"""
from __future__ import annotations

import copy
import ipaddress
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from email.utils import parsedate_to_datetime
from typing import Any


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
    """An unusable rule definition; ``core.validator`` adds ``where`` and the field name."""


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
    str: _NAMED["string"], int: TypeSpec(to_int, "number", "number", integer=True), float: _NAMED["number"],
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
    flags = "".join(f for f, bit in (("i", re.I), ("m", re.M), ("s", re.S), ("x", re.X)) if pattern.flags & bit)
    return pattern, f"/{source}/{flags}"


# ---------------------------------------------------------------------------------------- checks
def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class LooseSet:
    """Case-insensitive membership with JS loose equality between numbers and strings (1 == '1')."""

    __slots__ = ("strs", "nums", "str_nums")

    def __init__(self, items: list[Any]) -> None:
        self.strs = {i.lower() for i in items if isinstance(i, str)}
        self.nums = {i for i in items if isinstance(i, (int, float))}
        self.str_nums = {n for i in items if isinstance(i, str) and (n := to_number(i)) is not FAIL}

    def __contains__(self, v: Any) -> bool:
        if isinstance(v, str):
            if v.lower() in self.strs:
                return True
            n = to_number(v)
            return n is not FAIL and n in self.nums
        return v in self.nums or v in self.str_nums


def _length_checks(rules: dict[str, Any]) -> list[Check]:
    checks: list[Check] = []
    for key, code, word, too_far in (("minLength", "MinLengthUnderachieved", "less", lambda a, b: a < b),
                                     ("maxLength", "MaxLengthExceeded", "more", lambda a, b: a > b)):
        n = rules.get(key)
        if n is None:
            continue
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise RuleError(f"{key} must be a non-negative int, not {n!r}")

        def check(v: Any, lab: str, n: int = n, code: str = code, word: str = word, too_far: Any = too_far) -> Any:
            if isinstance(v, (str, list)) and too_far(len(v), n):
                return error(code, lab, f"{lab} length is {word} than {n} chars")
            return None
        checks.append(check)
    return checks


def _range_checks(rules: dict[str, Any]) -> list[Check]:
    checks: list[Check] = []
    for key, code, word, too_far in (("min", "MinValueUnderachived", "less", lambda a, b: a < b),
                                     ("max", "MaxValueExceeded", "more", lambda a, b: a > b)):
        n = rules.get(key)
        if n is None:
            continue
        if not _is_num(n):
            raise RuleError(f"{key} must be a number, not {n!r}")
        shown = js_str(n)

        def check(v: Any, lab: str, n: Any = n, code: str = code, word: str = word, shown: str = shown,
                  too_far: Any = too_far) -> Any:
            if _is_num(v) and too_far(v, n):
                return error(code, lab, f"{lab} value is {word} than {shown}")
            return None
        checks.append(check)
    return checks


def _list_rule(rules: dict[str, Any], key: str) -> list[Any] | None:
    items = rules.get(key)
    if items is None:
        return None
    if not isinstance(items, (list, tuple)):
        raise RuleError(f"{key} must be a list, not {type(items).__name__}")
    return list(items)


def _membership_check(items: list[Any], tail: str, negate: bool) -> Check:
    allowed, listed = LooseSet(items), js_join(items)

    def check(v: Any, lab: str) -> Any:
        if (isinstance(v, str) or _is_num(v)) and (v in allowed) is negate:
            return error("ValueNotAllowed", lab, f"{lab} value '{js_str(v)}' is not allowed. {tail}{listed}")
        return None
    return check


def _multiple_check(items: list[Any]) -> Check:
    allowed, listed = {js_str(i).lower() for i in items if i is not None}, js_join(items)

    def check(v: Any, lab: str) -> Any:
        if (isinstance(v, str) or _is_num(v)) and not all(p in allowed for p in js_str(v).lower().split(",")):
            return error("ValueNotAllowed", lab, f"{lab} value '{js_str(v)}' is not allowed. Use one or more of the "
                         f"following string values separated by comma without blank spaces: {listed}")
        return None
    return check


def _match_check(pattern: re.Pattern[str], literal: str) -> Check:
    search = pattern.search

    def check(v: Any, lab: str) -> Any:
        if isinstance(v, (str, int, float)) and not search(js_str(v)):
            return error("PatternMismatch", lab, f"{lab} does not match pattern {literal}")
        return None
    return check


_CONVERTERS: dict[str, Callable[[str], str]] = {"lower": str.lower, "upper": str.upper, "trim": str.strip}


def _converters(spec: Any) -> list[Callable[[str], str]]:
    names = [] if spec is None else [spec] if isinstance(spec, str) else spec
    if not isinstance(names, (list, tuple)) or any(n not in _CONVERTERS for n in names):
        raise RuleError(f"convert must be 'lower', 'upper', 'trim' or a list of them, not {spec!r}")
    return [_CONVERTERS[n] for n in names]


def _flag(rules: dict[str, Any], key: str, default: bool = False) -> bool:
    value = rules.get(key, default)
    if not isinstance(value, bool):
        raise RuleError(f"{key} must be true or false, not {value!r}")
    return value


def _default_factory(d: Any, nullable: bool) -> Callable[[], Any] | None:
    """A per-validation producer of the default, or None when mia would report UnexpectedDefaultValue."""
    if callable(d):
        return d  # type: ignore[no-any-return]
    if (d is None and nullable) or isinstance(d, (str, int, float, bool, date)):
        return lambda: d
    if isinstance(d, (dict, list)):
        return lambda: copy.deepcopy(d)
    return None


# ---------------------------------------------------------------------------------------- one field
class Leaf:
    """A declared field: ``run`` applies mia's rule order (spec 3.4) with closures built once."""

    __slots__ = ("path", "parts", "rules", "info", "coerce", "expected", "sub_coerce", "sub_expected", "pre",
                 "elem_pre", "deny", "match", "converts", "date_convert", "required", "nullable", "stripped",
                 "hidden", "has_default", "default_fn", "default_err", "missing_err", "virtual", "elem_active")

    def __init__(self, rules: dict[str, Any], path: str) -> None:
        unknown = [str(k) for k in rules if k not in RULE_KEYS]
        if unknown:
            raise RuleError(f"unknown rule key(s): {', '.join(unknown)}")
        self.path, self.parts, self.rules = path, path.split("."), rules
        ts = resolve_type(rules["type"]) if rules.get("type") is not None else None
        st = resolve_type(rules["subType"]) if rules.get("subType") is not None else None
        self.coerce, self.expected = (ts.coerce, ts.expected) if ts else (None, "")
        self.sub_coerce, self.sub_expected = (st.coerce, st.expected) if st else (None, "")
        self.required, self.nullable = _flag(rules, "required"), _flag(rules, "nullable")
        pub = rules.get("public", True)
        if isinstance(pub, bool):
            self.stripped, self.hidden = False, not pub
        elif isinstance(pub, dict) and set(pub) <= {"set", "get"}:
            self.stripped, self.hidden = pub.get("set") is not True, pub.get("get") is not True
        else:
            raise RuleError(f"public must be true, false or {{'set': bool, 'get': bool}}, not {pub!r}")
        lengths, ranges = _length_checks(rules), _range_checks(rules)
        allow, deny = _list_rule(rules, "allow"), _list_rule(rules, "deny")
        multi = rules.get("allowMultiple", False)
        if multi is True and allow is None:
            raise RuleError("allowMultiple needs an allow list")
        if not isinstance(multi, (bool, list, tuple)):
            raise RuleError(f"allowMultiple must be true, false or a list, not {multi!r}")
        multi_items = list(multi) if isinstance(multi, (list, tuple)) else allow if multi else None
        allow_check = [] if allow is None else [_membership_check(allow, "Use one of the following values: ", False)]
        self.pre = lengths + ranges + ([_multiple_check(multi_items)] if multi_items is not None else allow_check)
        self.elem_pre = lengths + ranges + allow_check
        self.deny = None if deny is None else _membership_check(deny, "Do not use one of the following values: ", True)
        self.match, match_source = None, None
        if rules.get("match") is not None:
            pattern, literal = compile_match(rules["match"])
            self.match, match_source = _match_check(pattern, literal), pattern.pattern
        self.converts = _converters(rules.get("convert"))
        self.date_convert = bool(ts and ts.mia_date and rules.get("convert") is not None)
        virtual = rules.get("virtual")
        if isinstance(virtual, dict) and set(virtual) <= {"set", "get"}:
            virtual = virtual.get("set")
        if virtual is not None and not callable(virtual):
            raise RuleError("virtual must be a function or {'set': function}")
        self.virtual = virtual
        desc = rules.get("desc", rules.get("description"))
        if desc is not None and not isinstance(desc, str):
            raise RuleError("desc/description must be a string")
        self.has_default, d = "default" in rules, rules.get("default")
        self.default_fn = _default_factory(d, self.nullable) if self.has_default else None
        self.default_err = error("UnexpectedDefaultValue", path,
                                 f"{path} default value is faulty. {typeof(d)} given but not expected")
        self.missing_err = error("MissingRequiredParameter", path,
                                 f"{path} is required but invalid value or no value given")
        self.elem_active = bool(self.sub_coerce or self.elem_pre or self.deny or self.match or self.converts)
        self.info = FieldInfo(
            name=path, type_name=ts.name if ts else None, sub_type=st.name if st else None, required=self.required,
            min_length=rules.get("minLength"), max_length=rules.get("maxLength"), min=rules.get("min"),
            max=rules.get("max"), allow=allow, allow_multiple=multi_items is not None, deny=deny, match=match_source,
            default=None if callable(d) else d, has_default=self.has_default, nullable=self.nullable, desc=desc,
            docs=_flag(rules, "docs", True), rules=rules, integer=bool(ts and ts.integer),
            public_set=not self.stripped, public_get=not self.hidden, virtual=virtual is not None,
            unique=rules.get("unique") is True, index=rules.get("index") is True, sparse=rules.get("sparse") is True,
            index_options=rules.get("indexOptions"))

    def default_value(self) -> Any:
        """The default for this validation, or FAIL when the declared default is unusable."""
        return FAIL if self.default_fn is None else self.default_fn()

    def run(self, v: Any, partial: bool, query: bool, errors: list[dict[str, str]]) -> Any:
        """The cleaned value (MISSING: leave it out); appends at most one error for this field."""
        if v is MISSING:
            if partial:
                return MISSING
            if not self.has_default:
                if self.required and not self.stripped:
                    errors.append(dict(self.missing_err))
                return MISSING
            v = self.default_value()
            if v is FAIL:
                errors.append(dict(self.default_err))
                return MISSING
        if v is None and self.nullable:
            return MISSING if self.hidden else None
        err = None
        if self.coerce is not None:
            c = self.coerce(v)
            if c is FAIL:
                err = error("UnexpectedType", self.path,
                            f"{self.path} is unexpected type. {typeof(v)} given {self.expected} expected")
            else:
                v = c
        if isinstance(v, (str, int, float)):
            if err is None:
                for check in self.pre:
                    err = check(v, self.path)
                    if err is not None:
                        break
            if self.deny is not None:
                err = self.deny(v, self.path) or err
            if err is None and self.match is not None:
                err = self.match(v, self.path)
            if err is None and isinstance(v, str):
                for conv in self.converts:
                    v = conv(v)
                if self.date_convert:
                    v = parse_date(v) or v
        elif isinstance(v, (list, tuple)):
            v, err = self._run_list(v, err)
        elif isinstance(v, dict):
            v = deep_copy(v)
        if err is None and self.required and not partial and not self.stripped and (v is None or v == "" or v == []):
            err = dict(self.missing_err)
        if err is not None:
            errors.append(err)
            return MISSING
        return MISSING if self.hidden else v

    def _run_list(self, items: Any, err: Any) -> tuple[list[Any], Any]:
        """Element rules (spec 3.4 row 5, plus min/max): errors are labelled ``N[k]``, k from 1."""
        if not self.elem_active:
            return [deep_copy(e) for e in items], err
        out, denied = [], False
        for k, e in enumerate(items, 1):
            lab = f"{self.path}[{k}]"
            if self.sub_coerce is not None:
                c = self.sub_coerce(e)
                if c is not FAIL:
                    e = c
                elif err is None:
                    err = error("UnexpectedType", lab, f"{lab} is unexpected type. {typeof(e)} given "
                                f"{self.sub_expected} expected")
            if err is None:
                for check in self.elem_pre:
                    err = check(e, lab)
                    if err is not None:
                        break
            if self.deny is not None and not denied:
                hit = self.deny(e, lab)
                if hit is not None:
                    err, denied = hit, True
            if err is None and self.match is not None:
                err = self.match(e, lab)
            if isinstance(e, str):
                for conv in self.converts:
                    e = conv(e)
            out.append(deep_copy(e))
        return out, err
