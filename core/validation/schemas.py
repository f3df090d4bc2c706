"""Compiled precondition rules -> marshmallow schemas whose fields carry the OpenAPI facts.

Why: the validator (``core.validation.validator``) and the docs must never disagree, so the docs are not written
from the raw rule dicts but from the ``FieldInfo`` leaves of the *compiled* schema the validator
runs. Each leaf becomes a marshmallow field with validators (``OneOf`` -> enum, ``Range`` ->
minimum/maximum, ``Length`` -> lengths, ``Regexp`` -> pattern) and metadata (description, default,
format, ``not``); apispec's ``MarshmallowPlugin`` turns those into OpenAPI schema objects.

The fields describe what the validator *accepts*, as narrowly as needed for a generated request
to pass: a required string or list gets ``minLength``/``minItems`` 1 (mia treats "" and [] as
missing), a required field with a default is optional, ``public: {set: false}`` fields are left out
(their input is stripped), and Python/JS-literal regexes become ECMA-262 patterns (case-insensitive
ones are spelled out as ``[aA]`` classes, since JSON Schema has no flags).
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

import marshmallow
from marshmallow import fields, validate

from core.validation.coercion import (
    MAX_SAFE_INTEGER,
    FieldInfo,
    RuleError,
    compile_match,
    js_str,
    resolve_type,
    to_number,
)

_UNSUPPORTED_FLAGS = re.MULTILINE | re.DOTALL | re.VERBOSE
_REGEX_META = set("\\^$.|?*+()[]{}/")
_FORMATS = {"ipv4": "ipv4", "ipv6": "ipv6"}
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CIDR4 = rf"^{_OCTET}(?:\.{_OCTET}){{3}}/(?:3[0-2]|[12]?[0-9])$"


# ---------------------------------------------------------------------------------------- regexes
# Python's ``\s`` (str patterns) is ``str.isspace``: it includes \x1c-\x1f and \x85, which ECMA-262's
# ``\s`` does not (and ECMA's includes \ufeff). Spelled out, the docs match what the server checks.
_PY_SPACE = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
_ASCII_SPACE = "\\t\\n\\x0b\\x0c\\r "


def _translate(src: str, fold: bool, ascii_only: bool) -> str:
    """Python regex source -> ECMA-262: ``\\s``/``\\S`` spelled out; with ``fold``, ``[a-z]x`` -> ``[a-zA-Z][xX]``."""
    space = _ASCII_SPACE if ascii_only else _PY_SPACE
    out: list[str] = []
    i, in_class, n = 0, False, len(src)
    while i < n:
        c = src[i]
        if c == "\\":
            pair = src[i:i + 2]
            if pair == "\\s":
                out.append(space if in_class else f"[{space}]")
            elif pair == "\\S" and not in_class:
                out.append(f"[^{space}]")
            else:
                out.append(pair)
            i += 2
            continue
        if not in_class and src.startswith("(?P<", i):  # a named group: ECMA spells it differently
            end = src.find(">", i)
            out.append("(?:")
            i = n if end < 0 else end + 1
            continue
        if in_class:
            if c == "]":
                in_class = False
                out.append(c)
            elif fold and c.isalpha() and i + 2 < n and src[i + 1] == "-" and src[i + 2].isalpha():
                lo, hi = c, src[i + 2]
                out.append(f"{lo}-{hi}")
                if lo.swapcase() != lo and hi.swapcase() != hi and lo.islower() == hi.islower():
                    out.append(f"{lo.swapcase()}-{hi.swapcase()}")
                i += 3
                continue
            else:
                out.append(c + c.swapcase() if fold and c.isalpha() and c.swapcase() != c else c)
        elif c == "[":
            in_class = True
            out.append(c)
            if i + 1 < n and src[i + 1] == "^":
                out.append("^")
                i += 1
            if i + 1 < n and src[i + 1] == "]":
                out.append("\\]")
                i += 1
        elif fold and c.isalpha() and c.swapcase() != c:
            out.append(f"[{c}{c.swapcase()}]")
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _fold_case(src: str) -> str:
    return _translate(src, True, True)


def ecma_pattern(spec: Any) -> str | None:
    """A JSON-Schema (ECMA-262) ``pattern`` for a mia ``match`` rule, or None if flags cannot be expressed."""
    pattern, _ = compile_match(spec)
    if pattern.flags & _UNSUPPORTED_FLAGS or re.search(r"\(\?[aiLmsux-]+[:)]|\(\?P=|\(\?\(", pattern.pattern):
        return None
    source = pattern.pattern.replace("\\A", "^").replace("\\Z", "$")
    return _translate(source, bool(pattern.flags & re.IGNORECASE), bool(pattern.flags & re.ASCII))


def _literal(value: Any) -> str:
    return "".join("\\" + ch if ch in _REGEX_META else ch for ch in js_str(value))


def choices_pattern(items: list[Any]) -> str:
    """mia's ``allowMultiple``: comma-separated values from ``items``, case-insensitively."""
    alternatives = "|".join(_fold_case(_literal(i)) for i in items if i is not None)
    return f"^(?:{alternatives})(?:,(?:{alternatives}))*$"


# ---------------------------------------------------------------------------------------- values
def _json_value(value: Any) -> Any:
    """A JSON-representable default/enum value, or ``marshmallow.missing``."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        items = [_json_value(v) for v in value]
        return marshmallow.missing if marshmallow.missing in items else items
    if isinstance(value, dict):
        pairs = {str(k): _json_value(v) for k, v in value.items()}
        return marshmallow.missing if marshmallow.missing in pairs.values() else pairs
    return marshmallow.missing


def _typed_choices(items: list[Any], kind: str) -> list[Any]:
    """``allow`` values as the field's JSON type (mia compares loosely: 1 == "1")."""
    out: list[Any] = []
    for item in items:
        if kind in ("number", "integer"):
            value = to_number(item)
            if not isinstance(value, int | float) or (kind == "integer" and not float(value).is_integer()):
                continue
            value = int(value) if kind == "integer" else value
        elif kind == "string":
            if item is None or isinstance(item, dict | list):
                continue
            value = js_str(item)
        else:
            value = item
        if value not in out:
            out.append(value)
    return out


# ---------------------------------------------------------------------------------------- fields
def _scalar(type_name: str | None, integer: bool) -> tuple[type[fields.Field], str, dict[str, Any]]:
    """(marshmallow field class, JSON kind, extra metadata) for one mia type."""
    if type_name == "timestamp":
        return fields.String, "string", {"pattern": "^[0-9]{10}$", "description_suffix": "Unix time in seconds"}
    if integer:
        return fields.Integer, "integer", {}
    if type_name == "number":
        return fields.Float, "number", {}
    if type_name == "boolean":
        return fields.Boolean, "boolean", {}
    if type_name == "date":
        return fields.String, "string", {"format": "date-time"}
    if type_name == "object":
        return fields.Dict, "object", {}
    if type_name in _FORMATS:
        return fields.String, "string", {"format": _FORMATS[type_name]}
    if type_name == "ip":
        return fields.String, "string", {"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}
    if type_name == "cidrv4":
        return fields.String, "string", {"pattern": _CIDR4}
    if type_name in ("cidr", "cidrv6"):
        return fields.String, "string", {"description_suffix": f"a {type_name} network (address/prefix)"}
    if type_name is None:
        return fields.Raw, "any", {}
    return fields.String, "string", {}


def _rule_kwargs(info: FieldInfo, kind: str, *, element: bool) -> tuple[list[Any], dict[str, Any]]:
    """Validators and metadata for one value (a leaf, or an element of a list leaf)."""
    validators: list[Any] = []
    meta: dict[str, Any] = {}
    if kind in ("number", "integer"):
        lo, hi = info.min, info.max
        if info.type_name == "safeinteger":
            lo = -MAX_SAFE_INTEGER if lo is None else max(lo, -MAX_SAFE_INTEGER)
            hi = MAX_SAFE_INTEGER if hi is None else min(hi, MAX_SAFE_INTEGER)
        if lo is not None or hi is not None:
            validators.append(validate.Range(min=lo, max=hi))
    if kind in ("string", "any"):
        lo = info.min_length
        if info.required and not info.has_default and not element:
            lo = max(lo or 0, 1)
        if lo or info.max_length is not None:
            validators.append(validate.Length(min=lo or None, max=info.max_length))
        if info.match is not None:
            pattern = ecma_pattern(info.rules.get("match"))
            if pattern is not None:
                validators.append(validate.Regexp(re.compile(pattern)))
    multiple = info.rules.get("allowMultiple")
    if info.allow_multiple and not element and kind in ("string", "any"):
        items = list(multiple) if isinstance(multiple, list | tuple) else info.allow or []
        validators.append(validate.Regexp(re.compile(choices_pattern(items))))
    elif info.allow is not None:
        choices = _typed_choices(info.allow, kind)
        if choices:
            validators.append(validate.OneOf(choices))
    if info.deny:
        if kind == "string":
            alternatives = "|".join(_fold_case(_literal(i)) for i in info.deny if i is not None)
            meta["not"] = {"pattern": f"^(?:{alternatives})$"}
        elif kind in ("number", "integer"):
            meta["not"] = {"enum": _typed_choices(info.deny, kind)}
    return validators, meta


def _is_integer(spec: Any) -> bool:
    try:
        return spec is not None and resolve_type(spec).integer
    except RuleError:
        return False


def _description(info: FieldInfo, suffix: str | None) -> str | None:
    parts = [p for p in (info.desc, suffix) if p]
    if info.match is not None and ecma_pattern(info.rules.get("match")) is None:
        parts.append(f"must match {compile_match(info.rules.get('match'))[1]}")
    return "; ".join(parts) or None


def leaf_field(info: FieldInfo) -> fields.Field:
    """One marshmallow field for a compiled leaf (arrays, free-form and dynamic leaves included)."""
    meta: dict[str, Any] = {}
    if info.dynamic:
        desc = _description(info, "rules depend on the value")
        return fields.Raw(metadata={"description": desc} if desc else {})
    if info.is_array_of_documents:
        inner = fields.Nested(object_schema(info.item_fields))
        desc = _description(info, None)
        return fields.List(inner, metadata={"description": desc} if desc else {})
    if info.free_form:
        return fields.List(fields.Raw()) if info.type_name == "array" else fields.Dict()
    required = info.required and not info.has_default
    if info.type_name == "array":
        sub_cls, sub_kind, sub_meta = _scalar(info.sub_type, _is_integer(info.rules.get("subType")))
        sub_validators, deny_meta = _rule_kwargs(info, sub_kind, element=True)
        sub_meta.pop("description_suffix", None)
        element: fields.Field = sub_cls(validate=sub_validators, metadata={**sub_meta, **deny_meta})
        validators = []
        lo = 1 if required else None
        if info.min_length is not None:
            lo = max(lo or 0, info.min_length)
        if lo or info.max_length is not None:
            validators.append(validate.Length(min=lo, max=info.max_length))
        field_cls: Any = fields.List
        args: tuple[Any, ...] = (element,)
    else:
        field_cls, kind, meta = _scalar(info.type_name, info.integer)
        validators, deny_meta = _rule_kwargs(info, kind, element=False)
        meta = {**meta, **deny_meta}
        args = ()
    desc = _description(info, meta.pop("description_suffix", None))
    if desc:
        meta["description"] = desc
    if info.has_default and not callable(info.rules.get("default")):
        default = _json_value(info.default)
        if default is not marshmallow.missing:
            meta["default"] = default
    return field_cls(*args, required=required, allow_none=info.nullable, validate=validators, metadata=meta)


def _documented(info: FieldInfo) -> bool:
    return info.docs and info.public_set


def _tree(infos: list[FieldInfo]) -> dict[str, Any]:
    """Dotted leaf names -> nested dicts of FieldInfo."""
    root: dict[str, Any] = {}
    for info in infos:
        if not _documented(info):
            continue
        node = root
        parts = info.name.split(".")
        for part in parts[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = node[part] = {}
            node = nxt
        node[parts[-1]] = info
    return root


def _has_required(node: dict[str, Any]) -> bool:
    for value in node.values():
        if isinstance(value, dict):
            if _has_required(value):
                return True
        elif value.required and not value.has_default and not value.is_array_of_documents and not value.free_form:
            return True
    return False


def _schema_from_tree(node: dict[str, Any], unknown: Literal["exclude", "include", "raise"]) -> marshmallow.Schema:
    declared: dict[str, fields.Field] = {}
    for name, value in node.items():
        if isinstance(value, dict):
            declared[name] = fields.Nested(_schema_from_tree(value, marshmallow.INCLUDE), required=_has_required(value))
        else:
            declared[name] = leaf_field(value)
    return marshmallow.Schema.from_dict(declared, name="MiaSchema")(unknown=unknown)


def object_schema(infos: list[FieldInfo], *, additional: bool = True) -> marshmallow.Schema:
    """A marshmallow schema instance for a compiled section (body, query, header, path, response)."""
    return _schema_from_tree(_tree(infos), marshmallow.INCLUDE if additional else marshmallow.RAISE)


def top_level(infos: list[FieldInfo]) -> dict[str, bool]:
    """Top-level names of a section -> whether that parameter is required (for query/header/path)."""
    tree = _tree(infos)
    out: dict[str, bool] = {}
    for name, value in tree.items():
        if isinstance(value, dict):
            out[name] = _has_required(value)
        else:
            out[name] = value.required and not value.has_default
    return out
