"""The service registry: mia.js's ``Shared.registeredServices()``, one description per route method.

What ``generic-listServices`` lists and ``generic-servicesManager`` filters: each mounted route
method's ``modified`` date, verb, path, identity, the parameters every controller of its chain
declared (read from the compiled preconditions, so a listing cannot drift from what is
validated), the merged response codes and the ``authorization`` flag. Built from compiled routes
once; only ``url`` (scheme and Host of the request) is completed per request.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any

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
    method = "WS" if route.info.method == "ws" else route.verb  # a WebSocket route (its handshake is a GET)
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


def service_record(route: Any) -> dict[str, Any]:
    """mia's registered-service entry: the v2 item plus what filtering needs (host, group, version, prefix)."""
    info = route.info
    return {**describe(route), "hostIds": list(route.host_ids), "group": info.group, "version": info.version,
            "prefix": info.prefix, "name": route.name, "description": route.description,
            "routeMethod": info.method}


ITEM_KEYS = ("modified", "method", "url", "id", "parameters", "responses", "deprecated", "authorization")


def filtered_services(services: list[dict[str, Any]], base_url: str, host_id: str | None, group: str,
                      version: str, prefix: str) -> list[dict[str, Any]]:
    """The v2 items of ``services`` on ``host_id`` with this group and version (case-insensitive) and prefix."""
    out = []
    for service in services:
        if not service.get("group") or not service.get("version"):
            continue
        hosts = service.get("hostIds") or ["*"]
        if host_id is not None and host_id not in hosts and str(host_id) != ",".join(hosts):
            continue
        if (str(service["group"]).lower() != str(group).lower()
                or str(service["version"]).lower() != str(version).lower() or service.get("prefix") != prefix):
            continue
        item = {key: service[key] for key in ITEM_KEYS if key in service}
        if not str(item["url"]).startswith(("http", "ftp")):
            item["url"] = base_url + item["url"]
        out.append(item)
    return out


def base_url(req: Any) -> str:
    """``<X-Forwarded-Proto or scheme>://<Host>`` as the client addressed us."""
    forwarded = (req.headers.get("X-Forwarded-Proto") or "").split(",")[0].strip().lower()
    mia = getattr(req, "mia", None)
    scheme = forwarded if forwarded in ("http", "https") else (getattr(mia, "scheme", None) or req.scheme)
    return f"{scheme}://{req.host}"
