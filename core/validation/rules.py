"""One field of a mia.js schema, compiled: type coercion, rule checks and mia's exact messages.

Why a separate module: ``core.validation.validator`` walks schema trees (groups, arrays, virtuals, extend);
this module turns a single rule dict into pre-built closures once, at start-up, so validating a
value never re-reads the rule dict or compiles a regex. Deviations from mia.js are listed in the
docstring of ``core.validation.validator``.
"""
from __future__ import annotations

import copy
import operator
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from core.validation.coercion import (
    FAIL,
    MISSING,
    RULE_KEYS,
    Check,
    FieldInfo,
    RuleError,
    compile_match,
    deep_copy,
    error,
    js_join,
    js_str,
    parse_date,
    resolve_type,
    to_number,
    typeof,
)


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
    for key, code, word, too_far in (("minLength", "MinLengthUnderachieved", "less", operator.lt),
                                     ("maxLength", "MaxLengthExceeded", "more", operator.gt)):
        n = rules.get(key)
        if n is None:
            continue
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise RuleError(f"{key} must be a non-negative int, not {n!r}")

        def check(v: Any, lab: str, n: int = n, code: str = code, word: str = word, too_far: Any = too_far) -> Any:
            if isinstance(v, (str, list)) and too_far(len(v), n):  # operator.lt/gt: C, no Python call per value
                return error(code, lab, f"{lab} length is {word} than {n} chars")
            return None
        checks.append(check)
    return checks


def _range_checks(rules: dict[str, Any]) -> list[Check]:
    checks: list[Check] = []
    for key, code, word, too_far in (("min", "MinValueUnderachived", "less", operator.lt),
                                     ("max", "MaxValueExceeded", "more", operator.gt)):
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
        return d
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
                 "hidden", "has_default", "default_fn", "default_err", "missing_err", "virtual", "elem_active",
                 "scalar_active")

    def __init__(self, rules: dict[str, Any], path: str) -> None:
        unknown = [str(k) for k in rules if k not in RULE_KEYS]
        if unknown:
            raise RuleError(f"unknown rule key(s): {', '.join(unknown)}")
        self.path, self.parts, self.rules = path, path.split("."), rules
        ts = resolve_type(rules["type"]) if rules.get("type") is not None else None
        st = resolve_type(rules["subType"]) if rules.get("subType") is not None else None
        self.coerce: Callable[..., Any] | None = ts.coerce if ts else None
        self.expected: str = ts.expected if ts else ""
        self.sub_coerce: Callable[..., Any] | None = st.coerce if st else None
        self.sub_expected: str = st.expected if st else ""
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
        self.virtual: Callable[..., Any] | None = virtual
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
        self.scalar_active = bool(self.pre or self.deny or self.match or self.converts or self.date_convert)
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
            if self.scalar_active:
                path = self.path
                if err is None:
                    for check in self.pre:
                        err = check(v, path)
                        if err is not None:
                            break
                if self.deny is not None:
                    err = self.deny(v, path) or err
                if err is None and self.match is not None:
                    err = self.match(v, path)
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
