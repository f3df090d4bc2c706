"""Route preconditions: every controller's declared parameters, checked before the chain runs.

At start-up each controller's ``preconditions[<function>]["parameters"]`` sections (header, query,
body, path) are compiled once. Per request all of them are validated together; every failing
field of every controller is reported at once as ``{code, id, msg, in}``. Each controller then
sees in ``req.mia.validated_parameters`` only the sections it declared.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Set
from dataclasses import dataclass, field
from typing import Any

from core.errors import MiaError, StartupError, ValidationError
from core.translator import translate
from core.validation.validator import CompiledSchema, RuleDefinitionError, compile_rules

SECTIONS = ("header", "query", "body", "path")
CONFLICT_ATTRIBUTES = ("type", "subType", "required", "maxLength", "minLength", "match", "max", "min",
                       "allow", "deny")
log = logging.getLogger("mia.preconditions")


@dataclass
class PreconditionEntry:
    step_index: int
    controller: str
    version: str
    function: str
    schemas: dict[str, CompiledSchema]
    parameters: dict[str, dict[str, Any]]
    responses: dict[int, list[str]]


@dataclass
class PreconditionSet:
    """All precondition entries of one route method, compiled."""

    entries: list[PreconditionEntry] = field(default_factory=list)
    step_count: int = 0
    declared: dict[str, set[str]] = field(default_factory=lambda: {s: set() for s in SECTIONS})
    responses: dict[int, list[str]] = field(default_factory=dict)

    _sections: frozenset[str] | None = None
    _header_keys: tuple[tuple[str, str], ...] | None = None

    @property
    def sections(self) -> frozenset[str]:
        """The sections some entry validates (computed once: the set is read on every request)."""
        if self._sections is None:
            self._sections = frozenset(s for e in self.entries for s in e.schemas)
        return self._sections

    @property
    def header_keys(self) -> tuple[tuple[str, str], ...]:
        """(header name, WSGI environ key) of every declared top-level header name (computed once).

        A name with ``_`` is left out: :func:`header_values` turns every ``_`` of an environ key into
        ``-``, so no request can carry it."""
        if self._header_keys is None:
            self._header_keys = tuple((name, _BODY_ENVIRON.get(name) or "HTTP_" + name.upper().replace("-", "_"))
                                      for name in sorted(self.declared["header"]) if "_" not in name)
        return self._header_keys


def _responses(value: Any, where: str, label: str) -> dict[int, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise StartupError(f"responses of {label} must map status codes to codes", where)
    out: dict[int, list[str]] = {}
    for status, codes in value.items():
        try:
            status_int = int(status)
        except (TypeError, ValueError):
            raise StartupError(f"responses of {label}: {status!r} is not an HTTP status", where) from None
        out[status_int] = [str(c) for c in (codes if isinstance(codes, (list, tuple)) else [codes])]
    return out


def _attribute(rules: Any, name: str) -> Any:
    value = rules.get(name) if isinstance(rules, dict) else None
    if isinstance(value, type):
        return value.__name__.lower()
    if isinstance(value, re.Pattern):
        return value.pattern
    return value


def compile_preconditions(steps: list[Any], where: str, shared: dict[Any, Any] | None = None) -> PreconditionSet:
    """Compile the precondition entries of a resolved chain; conflicts fail start-up.

    ``shared`` (one dict for a whole start-up) lets routes that use the same controller function share
    its compiled schemas: a thousand routes ending in the same output controller compile its rules once.
    """
    cache: dict[Any, Any] = shared if shared is not None else {}
    result = PreconditionSet(step_count=len(steps))
    seen: dict[tuple[str, str], tuple[Any, str]] = {}
    for step in steps:
        spec = step.precondition
        if spec is None:
            continue
        label = f"{step.name} {step.version}->{step.function}"
        if not isinstance(spec, dict):
            raise StartupError(f"preconditions of {label} must be a dict", where)
        parameters = spec.get("parameters") or {}
        responses = _responses(spec.get("responses"), where, label)
        if parameters and not responses:
            raise StartupError(f"Precondition parameters defined in {label} but no responses defined", where)
        unknown = set(parameters) - set(SECTIONS)
        if unknown:
            raise StartupError(f"unknown precondition sections in {label}: {', '.join(sorted(unknown))}", where)
        schemas: dict[str, CompiledSchema] = {}
        normalised: dict[str, dict[str, Any]] = {}
        for section in SECTIONS:
            rules = parameters.get(section)
            if not rules:
                continue
            if not isinstance(rules, dict):
                raise StartupError(f"preconditions {label} {section} must be a dict of parameters", where)
            if section == "header":  # HTTP header names are case-insensitive; mia needed lower case
                rules = {str(k).lower(): v for k, v in rules.items()}
            hit = cache.get((id(parameters), section))
            if hit is not None and hit[0] is parameters:  # the same declaration object: its schema is the same
                schemas[section] = hit[1]
            else:
                try:
                    schemas[section] = compile_rules(rules, where=f"{label} {section}")
                except RuleDefinitionError as exc:
                    raise StartupError(str(exc), where) from exc
                cache[(id(parameters), section)] = (parameters, schemas[section])
            normalised[section] = rules
            for param, param_rules in rules.items():
                top = str(param).split(".")[0]
                result.declared[section].add(top)
                key = (section, str(param))
                if key in seen:
                    earlier, earlier_label = seen[key]
                    for attr in CONFLICT_ATTRIBUTES:
                        if _attribute(earlier, attr) != _attribute(param_rules, attr):
                            raise StartupError(
                                f"Precondition conflict: {step.name} -> {step.version} -> {step.function} -> "
                                f"{attr}:{_attribute(param_rules, attr)} ->  already defined in previous "
                                f"controller ({earlier_label}) and value is mismatching", where)
                else:
                    seen[key] = (param_rules, label)
        for status, codes in responses.items():
            merged = result.responses.setdefault(status, [])
            merged.extend(c for c in codes if c not in merged)
        result.entries.append(PreconditionEntry(step.index, step.name, step.version, step.function, schemas,
                                                normalised, responses))
    return result


_BODY_HEADERS = {"CONTENT_TYPE": "content-type", "CONTENT_LENGTH": "content-length"}
_BODY_ENVIRON = {name: key for key, name in _BODY_HEADERS.items()}


def header_values(environ: dict[str, Any]) -> dict[str, str]:
    """The request headers by lower-case name: werkzeug's ``request.headers`` (EnvironHeaders) read
    straight from the WSGI environ, without its per-item title-casing."""
    out = {}
    for key, value in environ.items():
        if key[:5] == "HTTP_":
            if key != "HTTP_CONTENT_TYPE" and key != "HTTP_CONTENT_LENGTH":
                out[key[5:].replace("_", "-").lower()] = value
        elif key in _BODY_HEADERS and value:
            out[_BODY_HEADERS[key]] = value
    return out


def declared_header_values(environ: dict[str, Any], keys: tuple[tuple[str, str], ...],
                           heads: Set[str]) -> dict[str, str]:
    """The part of :func:`header_values` a header schema reads: its declared names (``keys``, see
    :attr:`PreconditionSet.header_keys`) and dotted names under a declared head (``culture.code``),
    looked up instead of converting every header of the request."""
    out = {}
    for name, key in keys:
        value = environ.get(key)
        if value is not None and (value or key[:5] == "HTTP_"):  # Content-Type/-Length only when given
            out[name] = value
    for key in environ:
        if "." in key and key[:5] == "HTTP_":
            name = key[5:].replace("_", "-").lower()
            if name.split(".", 1)[0] in heads:
                out[name] = environ[key]
    return out


def section_values(req: Any, sections: Set[str], pre: PreconditionSet | None = None) -> dict[str, Any]:
    """Raw input per section, built only for sections some controller declared (headers: only the
    declared ones when ``pre`` is given)."""
    values: dict[str, Any] = {}
    if "header" in sections:
        values["header"] = (header_values(req.environ) if pre is None else
                            declared_header_values(req.environ, pre.header_keys, pre.declared["header"]))
    if "query" in sections:
        values["query"] = req.mia.query
    if "body" in sections:
        body = req.mia.body
        values["body"] = body if isinstance(body, dict) else {}
    if "path" in sections:
        values["path"] = req.mia.params
    return values


def validate_request(pre: PreconditionSet, req: Any) -> list[dict[str, Any]]:
    """Validated data per chain step (index = step index); raises ValidationError with every failure."""
    validated: list[dict[str, Any]] = [{} for _ in range(pre.step_count)]
    if not pre.entries:
        return validated
    values = section_values(req, pre.sections, pre)
    errors: list[dict[str, Any]] = []
    seen: set[tuple[Any, Any, str]] = set()
    common = []
    for entry in pre.entries:
        data: dict[str, Any] = {}
        for section, schema in entry.schemas.items():
            out, found = schema._run(values.get(section), False, False)  # validate(), minus raising and catching
            if not found:
                data[section] = out
                continue
            for error in found:
                key = (error.get("code"), error.get("id"), section)
                if key not in seen:
                    seen.add(key)
                    errors.append({**error, "in": section})
        validated[entry.step_index] = data
        common.append({"name": entry.controller, "version": entry.version, "function": entry.function,
                       "data": data})
    if errors:
        raise ValidationError(errors)
    req.mia.common_validated_parameters = common
    return validated


def check_overflow(pre: PreconditionSet, req: Any, mode: str) -> None:
    """``parameterOverflow`` log/block: top-level query and body keys nobody declared."""
    if mode == "ignore":
        return
    problems = []
    body = req.mia.body if isinstance(req.mia.body, dict) else {}
    for section, given in (("query", req.mia.query), ("body", body)):
        extra = [k for k in given if k not in pre.declared[section]]
        if extra:
            language = req.mia.culture
            msg = translate(None, "AdditionalParamsNotAllowed", language.get("language"), language.get("region"),
                            [section, ", ".join(extra)])
            problems.append({"code": "AdditionalParamsNotAllowed", "msg": msg, "in": section})
    if not problems:
        return
    if mode == "block":
        raise MiaError(400, errors=problems)
    route = req.mia.route
    log.warning("undeclared parameters for %s %s: %s", route.request_method, route.url,
                "; ".join(p["msg"] for p in problems))
