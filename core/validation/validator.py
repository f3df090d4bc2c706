"""mia.js's ModelValidator as a compiled, pure-Python rule engine (spec 3.3-3.6, 4.2).

Why compiled: it runs for every request section and every model write, so ``compile_rules`` turns
a mia schema into a tree of nodes holding pre-built check closures once, at start-up, and
``CompiledSchema.validate`` only walks that tree. Error codes and messages are mia's, character
for character (including ``MinValueUnderachived``); one error per field, the first in rule order
wins except that a failing ``deny`` overrides.

Pipeline per call (spec 3.3): dotted input keys are expanded into a private copy -> ``public.set``
input is stripped (not with ``query``) -> virtual defaults (not with ``query``/``partial``) and
virtual functions -> every node is compared in schema order (``extend`` is resolved at its node)
-> nested output with declared keys only.

Deliberate deviations from mia.js:

1. The caller's input is never mutated (mia rewrites ``req.query`` etc. in place).
2. A missing, empty or non-dict input counts as ``{}``: defaults, virtual defaults and ``required``
   still apply (fix 9(g)); when nothing matched the result is ``{}``, never ``ModelNotMatch`` or
   ``InternalError``.
3. ``number`` rejects '', blanks, '0x10', 'abc', booleans, None, [] and non-finite values with
   ``UnexpectedType`` (mia's NaN quirk); integral strings give ``int`` ("5" -> 5, "1e3" -> 1000.0).
4. Python ``int``, 'Integer' and 'SafeInteger' accept numeric strings and integral floats and return
   ``int``, so they work for query, header and path values (mia: numbers only).
5. ``boolean`` rejects everything but bools and "true"/"false"; ``string`` converts numbers and
   bools JS-style (5.0 -> "5", True -> "true"); 'Date' accepts datetimes, ISO-8601 or RFC-2822
   text and epoch-ms numbers (not bools or None) and keeps the value; the Python ``datetime`` type
   returns a timezone-aware datetime (naive means UTC).
6. ``ipv6`` really checks IPv6 (fix 9(i)); ip/ipv4/ipv6/cidr* use the ``ipaddress`` module.
7. ``object``/``dict`` accepts dicts (mia: always fails); object values are copied to the output.
8. A string given for an ``array``-typed field becomes a one-element list ('' -> []), so ``?a=1``
   works like ``?a=1&a=2``.
9. ``required``: absent, None, '' and [] are missing; 0 and False are values (mia's loose ``==``
   also rejected 0, False and ['']). It is waived whenever ``public`` strips the input (mia: only
   for ``set: false``).
10. Array elements are checked against ``min``/``max`` (fix 9(j)) and ``allow``/``deny`` also
    apply to numeric elements (mia: strings only).
11. Arrays of sub-documents: an element ``{}`` is validated like any document (result ``{}`` at
    worst, not ``false``); a scalar value gives ``UnexpectedType``; identical errors of several
    elements are reported once.
12. ``extend`` works on nested nodes too (fix 9(k)); it may return a rule dict or a dict of
    fields and runs at its node, after virtuals; its result is not subject to ``public.set``
    stripping or virtuals.
13. ``{}`` copies the key itself (or its dotted form), not every key starting with it; ``[]``
    copies any present non-None value (mia: any truthy one).
14. Bad definitions fail at start-up with ``RuleDefinitionError`` (unknown keys or types, scalar
    allow/deny, non-int minLength, bad regexes ...): mia ignored unknown keys (e.g. the README's
    ``allowed``), failed every value for a non-number minLength and crashed on a scalar allow.
15. Defaults may be dicts or lists (deep-copied per call) and datetimes; a callable default of a
    virtual field is called (mia assigned the function object); other values still give
    ``UnexpectedDefaultValue``.
16. ``match`` also accepts JS-literal strings such as "/^[a-z]+$/i".
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, cast

from core.errors import ValidationError
from core.validation.coercion import (
    FAIL,
    MISSING,
    RULE_KEYS,
    FieldInfo,
    RuleDefinitionError,
    RuleError,
    SchemaPlace,
    deep_copy,
    error,
    typeof,
)
from core.validation.input_paths import expand_deep, get_path, normalize, set_path
from core.validation.rules import Leaf

__all__ = ["CompiledSchema", "FieldInfo", "RuleDefinitionError", "compile_rules"]

_EMPTY: Any = MappingProxyType({})


# ---------------------------------------------------------------------------------------- nodes
class _Group:
    """A nested object of declared fields; the output omits it when none of them produced a value."""

    __slots__ = ("children", "names", "subgroups")

    def __init__(self) -> None:
        self.children: list[tuple[str, Any]] = []
        self.names: dict[str, Any] = {}
        self.subgroups: list[tuple[str, _Group]] = []

    def add(self, name: str, node: Any) -> None:
        self.children.append((name, node))
        self.names[name] = node
        if isinstance(node, _Group):
            self.subgroups.append((name, node))

    def run(self, v: Any, partial: bool, query: bool, errors: list[dict[str, str]]) -> Any:
        if not isinstance(v, dict):
            v = _EMPTY
        out = {}
        for name, node in self.children:
            r = node.run(v.get(name, MISSING), partial, query, errors)
            if r is not MISSING:
                out[name] = r
        return out or MISSING


class _Free:
    """``{}`` or ``[]``: the value is copied without validation."""

    __slots__ = ("is_list",)

    def __init__(self, is_list: bool) -> None:
        self.is_list = is_list

    def run(self, v: Any, partial: bool, query: bool, errors: list[dict[str, str]]) -> Any:
        if v is MISSING or (self.is_list and v is None):
            return MISSING
        return expand_deep(v)


class _DocArray:
    """``[ {sub-schema} ]``: every dict element is validated on its own; errors carry inner ids."""

    __slots__ = ("sub", "path")

    def __init__(self, sub: CompiledSchema, path: str) -> None:
        self.sub, self.path = sub, path

    def run(self, v: Any, partial: bool, query: bool, errors: list[dict[str, str]]) -> Any:
        if v is MISSING or v is None:
            return MISSING if partial else []
        if isinstance(v, dict):  # mia validates a lone object as one element and keeps it an object
            out, errs = self.sub._run(v, partial, query)
            errors.extend(errs)
            return out
        if not isinstance(v, (list, tuple)):
            errors.append(error("UnexpectedType", self.path,
                                f"{self.path} is unexpected type. {typeof(v)} given array expected"))
            return MISSING
        result: list[Any] = []
        found: list[dict[str, str]] = []
        for element in v:
            if isinstance(element, dict):
                out, errs = self.sub._run(element, partial, query)
                result.append(out)
                found.extend(e for e in errs if e not in found)
            elif element is None:
                e = error("UnexpectedType", self.path, f"{self.path} is unexpected type. null given object expected")
                if e not in found:
                    found.append(e)
            else:
                result.append(deep_copy(element))
        errors.extend(found)
        return result


class _Extend:
    """``extend: fn``: ``fn(value)`` returns the node's rules for this value (compiled, then cached)."""

    __slots__ = ("fn", "path", "ctx", "cache", "info")

    def __init__(self, rules: dict[str, Any], path: str, ctx: SchemaPlace) -> None:
        if not callable(rules["extend"]):
            raise ctx.fail(path, "extend must be a function")
        self.fn, self.path, self.ctx = rules["extend"], path, ctx
        self.cache: dict[Any, Any] = {}
        self.info = FieldInfo(name=path, rules=rules, dynamic=True, docs=rules.get("docs", True) is not False,
                              desc=rules.get("desc", rules.get("description")))

    def run(self, v: Any, partial: bool, query: bool, errors: list[dict[str, str]]) -> Any:
        spec = self.fn(None if v is MISSING else v)
        if spec is None:
            return MISSING
        hit = self.cache.get(id(spec))
        if hit is None or hit[0] is not spec:  # the cache holds ``spec`` alive, so its id stays unique
            if len(self.cache) >= 64:
                self.cache.clear()
            hit = self.cache[id(spec)] = (spec, _compile_node(spec, self.path, self.ctx))
        node = hit[1]
        if isinstance(node, _Group) and isinstance(v, dict):
            v = normalize(v, node)
        return node.run(v, partial, query, errors)


# ---------------------------------------------------------------------------------------- compiling
def _is_rule_dict(d: dict[str, Any]) -> bool:
    """A dict of rules rather than of fields: it has a rule key whose value fits that rule.

    Fields may be named like rules (``os.type``); their values are dicts, which no such rule takes.
    """
    for k, v in d.items():
        if k not in RULE_KEYS:
            continue
        if not isinstance(v, (dict, list)):
            return True
        if isinstance(v, list) and k in ("allow", "deny", "convert", "allowMultiple", "default") and \
                not (len(v) == 1 and isinstance(v[0], dict)) and (v or k == "default"):
            return True
        if isinstance(v, dict) and (k in ("default", "indexOptions") or
                                    (k in ("public", "virtual") and v and set(v) <= {"set", "get"})):
            return True
    return False


def _kind(d: Any) -> str:
    if isinstance(d, list):
        if not d or (len(d) == 1 and d[0] == {}):
            return "free"
        if len(d) == 1 and isinstance(d[0], dict):
            return "docs"
        raise RuleError("an array node must be [] or [ {sub-schema} ]")
    if not isinstance(d, dict):
        raise RuleError(f"expected a dict of rules or of fields, not {type(d).__name__}")
    if not d:
        return "free"
    if _is_rule_dict(d):
        return "rule"
    bad = [str(k) for k, v in d.items() if not isinstance(v, (dict, list))]
    if bad:
        raise RuleError(f"unknown rule key(s): {', '.join(bad)}")
    return "group"


def _compile_node(d: Any, path: str, ctx: SchemaPlace) -> Any:
    try:
        kind = _kind(d)
        if kind == "group":
            return _compile_group(d, path + ".", ctx)
        if kind == "free":
            return _Free(isinstance(d, list))
        if kind == "docs":
            return _DocArray(CompiledSchema(_compile_group(d[0], "", SchemaPlace(ctx.where, f"{ctx.prefix}{path}[].")),
                                            ctx.where), path)
        if "extend" in d:
            return _Extend(d, path, ctx)
        return Leaf(d, path)
    except RuleError as exc:
        raise ctx.fail(path, str(exc)) from None


class _Raw(dict[str, Any]):
    """A group being assembled from nested dicts and dotted names."""


def _merge(target: _Raw, key: Any, d: Any, prefix: str, ctx: SchemaPlace) -> None:
    parts = key.split(".") if isinstance(key, str) else [""]
    if "" in parts:
        raise ctx.fail(prefix + str(key), "invalid field name")
    try:
        kind = _kind(d)
    except RuleError as exc:
        raise ctx.fail(prefix + key, str(exc)) from None
    for part in parts[:-1] + ([parts[-1]] if kind == "group" else []):
        nxt = target.get(part)
        if nxt is None:
            nxt = target[part] = _Raw()
        elif not isinstance(nxt, _Raw):
            raise ctx.fail(prefix + key, "declared twice")
        target = nxt
    if kind == "group":
        for k, sub in d.items():
            _merge(target, k, sub, f"{prefix}{key}.", ctx)
    elif parts[-1] in target:
        raise ctx.fail(prefix + key, "declared twice")
    else:
        target[parts[-1]] = d


def _build(raw: _Raw, prefix: str, ctx: SchemaPlace) -> _Group:
    group = _Group()
    for name, d in raw.items():
        group.add(name, _build(d, f"{prefix}{name}.", ctx) if isinstance(d, _Raw) else
                  _compile_node(d, prefix + name, ctx))
    return group


def _compile_group(defs: dict[str, Any], prefix: str, ctx: SchemaPlace) -> _Group:
    raw = _Raw()
    for key, d in defs.items():
        _merge(raw, key, d, prefix, ctx)
    return _build(raw, prefix, ctx)


def _walk(group: _Group, prefix: str) -> Any:
    for name, node in group.children:
        yield prefix + name, node
        if isinstance(node, _Group):
            yield from _walk(node, f"{prefix}{name}.")


def _infos(group: _Group, prefix: str = "") -> list[FieldInfo]:
    infos: list[FieldInfo] = []
    for name, node in group.children:
        path = prefix + name
        if isinstance(node, _Group):
            infos.extend(_infos(node, path + "."))
        elif isinstance(node, _DocArray):
            infos.append(FieldInfo(name=path, type_name="array", is_array_of_documents=True,
                                   item_fields=node.sub.fields))
        elif isinstance(node, _Free):
            infos.append(FieldInfo(name=path, type_name="array" if node.is_list else "object", free_form=True))
        else:
            infos.append(node.info)
    return infos


# ---------------------------------------------------------------------------------------- input
# ---------------------------------------------------------------------------------------- schema
class CompiledSchema:
    """A compiled mia schema: ``validate`` per request or document, ``fields`` for docs and indexes."""

    __slots__ = ("where", "fields", "_root", "_index", "_virtuals", "_stripped", "_constant", "_absent")

    def __init__(self, root: _Group, where: str = "") -> None:
        self.where = where
        self._root = root
        self._index: dict[str, Any] = dict(_walk(root, ""))
        leaves = [n for n in self._index.values() if isinstance(n, Leaf)]
        self._virtuals = [n for n in leaves if n.virtual is not None]
        self._stripped = [n.parts for n in leaves if n.stripped]
        # Nothing declared given: the output is the defaults, the same each time, unless a default is a
        # function, a virtual computes something or an ``extend`` picks the rules. Else worked out once.
        self._constant = not self._virtuals and not any(isinstance(n, _Extend) or (
            isinstance(n, Leaf) and callable(n.rules.get("default"))) for n in self._index.values())
        self._absent: dict[tuple[bool, bool], tuple[dict[str, Any], bool]] = {}
        self.fields: list[FieldInfo] = _infos(root)

    def validate(self, values: Any, *, partial: bool = False, query: bool = False) -> dict[str, Any]:
        """The cleaned nested output; raises ValidationError listing every failing field in schema order.

        ``partial`` (model updates): no defaults, no required checks, absent arrays stay absent.
        ``query`` (model queries): no ``public.set`` stripping and no virtual defaults.
        """
        out, errors = self._run(values, partial, query)
        if errors:
            raise ValidationError(errors)
        return out

    def _run(self, values: Any, partial: bool, query: bool) -> tuple[dict[str, Any], list[dict[str, str]]]:
        work = normalize(values, self._root) if values and (type(values) is dict or isinstance(values, Mapping)) else {}
        if not work and self._constant and (known := self._absent.get((partial, query))) is not None:
            return (dict(known[0]) if known[1] else deep_copy(known[0])), []
        if not query:
            for parts in self._stripped:
                parent = get_path(work, parts[:-1]) if len(parts) > 1 else work
                if isinstance(parent, dict):
                    parent.pop(parts[-1], None)
        if self._virtuals:
            self._apply_virtuals(work, partial, query)
        given = bool(work)
        errors: list[dict[str, str]] = []
        out = self._root.run(work, partial, query, errors)
        out = {} if out is MISSING else out
        if not given and self._constant and not errors:  # kept: a copy (the caller gets ``out``), and if flat
            self._absent[(partial, query)] = (deep_copy(out), not any(type(v) in (dict, list) for v in out.values()))
        return out, errors

    def _apply_virtuals(self, work: dict[str, Any], partial: bool, query: bool) -> None:
        """Spec 3.3 step 4: defaults of virtual fields, then each ``virtual(raw value)`` result."""
        if not partial and not query:
            for leaf in self._virtuals:
                if leaf.has_default and get_path(work, leaf.parts) is MISSING:
                    d = leaf.default_value()
                    if d is not FAIL:
                        set_path(work, leaf.parts, d)
        for leaf in self._virtuals:
            raw = get_path(work, leaf.parts)
            if raw is MISSING:
                continue
            result = cast(Callable[[Any], Any], leaf.virtual)(raw)  # only leaves with a virtual are listed
            if not isinstance(result, dict):
                continue
            for key, value in result.items():
                if key == "this":
                    set_path(work, leaf.parts, value)
                else:
                    self._virtual_output(work, str(key), value)

    def _virtual_output(self, work: dict[str, Any], path: str, value: Any) -> None:
        node = self._index.get(path)
        if node is None:  # undeclared: dropped
            return
        if isinstance(node, _Group) and isinstance(value, dict):
            for key, sub in value.items():
                self._virtual_output(work, f"{path}.{key}", sub)
            return
        parts = path.split(".")
        if get_path(work, parts) is MISSING:  # the input wins over derived values
            set_path(work, parts, normalize(value, node) if isinstance(node, _Group) else value)


def compile_rules(rules: dict[str, Any], *, where: str = "") -> CompiledSchema:
    """Compiles a mia schema once, at start-up; bad definitions raise RuleDefinitionError naming ``where``."""
    if not isinstance(rules, dict):
        raise RuleDefinitionError(where, "", f"a schema must be a dict of fields, not {type(rules).__name__}")
    return CompiledSchema(_compile_group(rules, "", SchemaPlace(where)), where)
