"""generic-listServices v2 and v1 (generic §4.5): a machine-readable listing of a route file's services.

Lists every mounted route method with the same host, group, version (case-insensitive) and prefix
as the request, in registration order (route file, path, method). v2 items carry the parameters
every controller of the chain declared (from the compiled preconditions, so the listing cannot
drift from what is validated), the merged response codes and the ``authorization`` flag; v1 is
the older, shorter shape. The listing goes to ``res.response``; an output controller sends it.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any

from flask import current_app

from core import Controller, MiaError

DEFAULT_RESPONSES: dict[int, list[str]] = {
    400: ["UnexpectedDefaultValue", "UnexpectedType", "MinLengthUnderachieved", "MaxLengthExceeded",
          "MinValueUnderachived", "MaxValueExceeded", "ValueNotAllowed", "PatternMismatch",
          "MissingRequiredParameter"],
    429: ["RateLimitExceeded"],
    500: ["InternalServerError"],
}
SECTIONS = ("header", "query", "body", "path")
TYPE_NAMES = {"string": "String", "number": "Number", "boolean": "Boolean", "date": "Date", "array": "Array",
              "object": "Object", "integer": "Integer", "safeinteger": "SafeInteger", "timestamp": "Timestamp"}
# rule key -> FieldInfo attribute (the attributes mia's listing keeps; ``convert`` is dropped)
KEPT = {"type": "type_name", "desc": "desc", "subType": "sub_type", "required": "required",
        "maxLength": "max_length", "minLength": "min_length", "match": "match", "max": "max", "min": "min",
        "allow": "allow", "deny": "deny", "docs": "docs"}


def iso_modified(value: Any) -> str | None:
    """The route's ``modified`` as ISO-8601 UTC with milliseconds (naive datetimes are local time)."""
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        value = _dt.datetime(value.year, value.month, value.day)
    if isinstance(value, _dt.datetime):
        utc = value.astimezone(_dt.UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return None if value is None else str(value)


def _type_label(declared: Any, normalised: str | None) -> str | None:
    if isinstance(declared, str):
        return declared  # as the route author wrote it ('String', 'Date', 'ipv4', ...)
    return TYPE_NAMES.get(normalised or "", normalised.capitalize() if normalised else None)


def field_attributes(info: Any) -> dict[str, Any]:
    """The documented attributes of one compiled field, only those its rules declared."""
    rules = info.rules or {}
    out: dict[str, Any] = {}
    for key, attribute in KEPT.items():
        if key == "type":
            label = _type_label(rules.get("type"), info.type_name)
            if label:
                out["type"] = label
        elif key == "subType":
            if "subType" in rules:
                out["subType"] = _type_label(rules.get("subType"), info.sub_type)
        elif key == "desc":
            if info.desc is not None:
                out["desc"] = info.desc
        elif key in rules:
            out[key] = getattr(info, attribute)
    return out


def route_parameters(route: Any) -> dict[str, Any]:
    """``{header?, query?, body?, path?}`` merged over every controller of the chain (first wins)."""
    merged: dict[str, dict[str, Any]] = {}
    for entry in route.preconditions.entries:
        for section in SECTIONS:
            schema = entry.schemas.get(section)
            if schema is None:
                continue
            target = merged.setdefault(section, {})
            for info in schema.fields:
                node = target
                parts = info.name.split(".")
                for part in parts[:-1]:
                    node = node.setdefault(part, {})
                attributes = node.setdefault(parts[-1], {})
                for key, value in field_attributes(info).items():
                    attributes.setdefault(key, value)
    return {section: merged[section] for section in SECTIONS if merged.get(section)}


def route_responses(route: Any) -> dict[str, list[str]]:
    codes = {status: list(names) for status, names in DEFAULT_RESPONSES.items()}
    for status, names in route.preconditions.responses.items():
        target = codes.setdefault(int(status), [])
        target.extend(name for name in names if name not in target)
    return {str(status): codes[status] for status in sorted(codes)}


def describe(route: Any) -> dict[str, Any]:
    """The request-independent part of a v2 item (``url`` is completed per request)."""
    method = "WS" if route.info.method == "ws" else route.verb
    item: dict[str, Any] = {"modified": iso_modified(route.modified), "method": method, "url": route.path,
                            "id": route.info.identity}
    parameters = route_parameters(route)
    if parameters:
        item["parameters"] = parameters
    item["responses"] = route_responses(route)
    if route.info.deprecated:
        item["deprecated"] = True
    item["authorization"] = bool(route.authorization)
    return item


class _Listing:
    """Items grouped by (hosts, group, version, prefix), built once per compiled route list."""

    def __init__(self, routes: list[Any]) -> None:
        self.routes = routes
        self.groups: dict[tuple[Any, ...], list[tuple[frozenset[str], dict[str, Any]]]] = {}
        self.by_info = {id(route.info): route for route in routes}
        for route in routes:
            info = route.info
            if not info.group or not info.version:
                continue
            key = (info.group.lower(), str(info.version).lower(), info.prefix)
            self.groups.setdefault(key, []).append((frozenset(route.host_ids), describe(route)))

    def items(self, route: Any) -> list[dict[str, Any]]:
        info = route.info
        hosts = frozenset(route.host_ids)
        found = self.groups.get((info.group.lower(), str(info.version).lower(), info.prefix), [])
        return [item for item_hosts, item in found if item_hosts & hosts]


class ListServicesV2(Controller):
    """``[{modified, method, url, id, parameters?, responses, deprecated?, authorization}, ...]``."""

    identity = "generic-listServices"
    version = "2.0"
    group = "generic"
    _listing: _Listing | None = None

    def listing(self, req: Any) -> list[dict[str, Any]]:
        route = req.mia.route
        if route is None or not route.group or not route.version:
            raise MiaError(500, code="UnknownServiceGroupOrVersion", msg="Unknown service group or version")
        routes = current_app.config["mia.routes"]
        listing = self._listing
        if listing is None or listing.routes is not routes:
            listing = self._listing = _Listing(routes)
        current = listing.by_info.get(id(route))  # the RouteMethod (not only its info) of this request
        if current is None:
            raise MiaError(500, code="UnknownServiceGroupOrVersion", msg="Unknown service group or version")
        base = _base_url(req)
        out = []
        for item in listing.items(current):
            entry = dict(item)
            if not str(entry["url"]).startswith(("http", "ftp")):
                entry["url"] = base + entry["url"]
            out.append(entry)
        return out

    def list(self, req: Any, res: Any) -> None:
        res.response = self.listing(req)


class ListServicesV1(ListServicesV2):
    """The older shape: ``[{modified, url, deprecated?, requiresSession, name, requestMethods}, ...]``."""

    version = "1.0"

    def list(self, req: Any, res: Any) -> None:
        out = []
        for item in self.listing(req):
            entry: dict[str, Any] = {"modified": item["modified"], "url": item["url"]}
            if item.get("deprecated"):
                entry["deprecated"] = True
            entry.update(requiresSession=item["authorization"], name=item["id"], requestMethods=[item["method"]])
            out.append(entry)
        res.response = out


def _base_url(req: Any) -> str:
    """``<X-Forwarded-Proto or scheme>://<Host>`` as the client addressed us."""
    forwarded = (req.headers.get("X-Forwarded-Proto") or "").split(",")[0].strip().lower()
    scheme = forwarded if forwarded in ("http", "https") else (getattr(req.mia, "scheme", None) or req.scheme)
    return f"{scheme}://{req.host}"
