"""The OpenAPI 3 document of every vhost, built once at start-up from the compiled routes.

Why from the compiled routes: parameters come from the very ``CompiledSchema`` objects the
precondition check runs (through :mod:`core.validation.schemas` and apispec's MarshmallowPlugin), so the docs
cannot drift from the behaviour. One document per vhost id: the routes of that vhost plus the
host-less ones (id ``*`` holds only the host-less ones), as mia.js's swaggerDocs.js did (spec §7).

Versions: OpenAPI 3.1.0 by default (JSON Schema 2020-12: a nullable field is a type list such as
``["string", "null"]``, exclusive bounds are numbers); 3.0.3 on request, with the environment key
``openapiVersion: "3.0.3"`` or ``server.py <env> docs --openapi 3.0.3`` (``nullable: true``).

Deliberate differences from mia.js: OpenAPI 3.1.0/3.0.3 instead of 3.0.0; parameter schemas carry every
rule (enum, pattern, min/max, lengths, defaults) instead of only the type; 503 (dependency down or
overloaded) and, for routes that read a body, 413 are documented next to mia's 400/429/500; an
operation without any declared 2xx answer documents ``200 Success``; operations have unique
``operationId``s and the signed-key security schemes.
"""
from __future__ import annotations

import copy
import re
from typing import Any, cast

import marshmallow
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields

from core.app.docs.extensions import add_idempotency, idempotency_headers, idempotency_parameter
from core.app.docs.versions import OPENAPI_VERSION, openapi_version, upgrade_to_31
from core.app.docs.websocket_docs import websocket_section, ws_messages
from core.errors import StartupError
from core.shared import flag
from core.startup.routes import RouteMethod
from core.validation.schemas import object_schema, top_level
from core.validation.validator import RuleDefinitionError, compile_rules

PRECONDITION_CODES = ["UnexpectedDefaultValue", "UnexpectedType", "MinLengthUnderachieved", "MaxLengthExceeded",
                      "MinValueUnderachived", "MaxValueExceeded", "ValueNotAllowed", "PatternMismatch",
                      "MissingRequiredParameter"]
DEFAULT_RESPONSES: dict[int, list[str]] = {
    400: PRECONDITION_CODES, 429: ["RateLimitExceeded"], 500: ["InternalServerError"],
    503: ["ServiceUnavailable", "DatabaseUnavailable", "ServerBusy"],
}
ACCESS_KEY_CONTROLLER = "generic-validateAccessKey"
JWT_CONTROLLER = "generic-validateJWT"
WS_MARK = "/x-websocket"
JSON_MEDIA = "application/json"
_PARAM = re.compile(r"^:([A-Za-z_][A-Za-z0-9_]*)\??$")

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "signedKeyV1": {
        "type": "apiKey", "in": "header", "name": "key",
        "description": "mia.js v1 signed key: `key` = deviceId(32) + secretId(32) + unix time in seconds(10) + "
                       "sha256 hex of lower(deviceId + secret + timestamp + METHOD + scheme://host + path?query + "
                       "sha256 hex of the lower-cased JSON body). Valid for +-300 s; a 401 carries the server's "
                       "`timestamp` header (ms) for clock correction.",
    },
    "signedKeyV2": {
        "type": "apiKey", "in": "header", "name": "key",
        "description": "v2 signed key: same key layout as v1, sent with header `signaturemethod: hmac-sha256` and a "
                       "unique `nonce` header; the signature is HMAC-SHA256 keyed by the secret over the exact (not "
                       "lower-cased) method, scheme://host, path?query, body hash and nonce. A nonce is accepted "
                       "once within the time window (replay guard).",
    },
    "staticKey": {
        "type": "apiKey", "in": "header", "name": "key",
        "description": "Static 32-character device access key (`access.key` of a device) with status, group and "
                       "CIDR checks.",
    },
    "staticKeyQuery": {
        "type": "apiKey", "in": "query", "name": "key",
        "description": "Static 32-character device access key given as query parameter `key`.",
    },
    "bearerJWT": {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "`Authorization: Bearer <access token>` from the route's login (generic-validateJWT): "
                       "signature by `kid`, pinned algorithms, exp/nbf/iat/aud/iss checked.",
    },
    "bearerJWTQuery": {
        "type": "apiKey", "in": "query", "name": "access_token",
        "description": "The same access token as query parameter `access_token` (for WebSocket clients in "
                       "browsers, which cannot set headers).",
    },
}


# ---------------------------------------------------------------------------------------- envelope
class ErrorDescriptionSchema(marshmallow.Schema):
    """One entry of mia's error envelope."""

    code = fields.String(required=True, metadata={"description": "Error code (translation key)"})
    msg = fields.String(metadata={"description": "Translated message"})
    id = fields.String(metadata={"description": "The failing parameter"})
    in_ = fields.String(data_key="in", metadata={"description": "Where the failing parameter was sent"})
    reason = fields.String(metadata={"description": "Which check failed (device attestation and assertions), or why "
                                                    "a body could not be parsed (the JSON parser's message)"})
    position = fields.Integer(metadata={"description": "Malformed JSON: character offset of the error"})
    line = fields.Integer(metadata={"description": "Malformed JSON: line of the error (from 1)"})
    column = fields.Integer(metadata={"description": "Malformed JSON: column of the error (from 1)"})


class ErrorSchema(marshmallow.Schema):
    """``{"status": s, "errors": [{"code", "msg"}]}``: every error leaves the server in this shape."""

    status = fields.Integer(required=True)
    errors = fields.List(fields.Nested(ErrorDescriptionSchema), required=True)
    debug = fields.Dict(metadata={"description": "Only with debug on and request header `debug: true`"})


class SuccessSchema(marshmallow.Schema):
    """generic-defaultResponse's envelope."""

    status = fields.Integer(required=True)
    response = fields.Raw(metadata={"description": "The service's payload"})
    deprecated = fields.Boolean()
    notice = fields.String()


def _schema_name(schema: Any) -> str | None:
    """Named components for the envelopes; every compiled rule schema is inlined."""
    cls = schema if isinstance(schema, type) else type(schema)
    names: dict[type, str] = {ErrorSchema: "Error", ErrorDescriptionSchema: "ErrorDescription",
                              SuccessSchema: "Success"}
    return names.get(cls)


_CONVERTERS: dict[str, Any] = {}


def _converter(version: str) -> Any:
    if version not in _CONVERTERS:
        plugin = MarshmallowPlugin(schema_name_resolver=cast(Any, _schema_name))  # None inlines: apispec documents it
        APISpec("mia", "1", version, plugins=[plugin])
        _CONVERTERS[version] = plugin.converter
    return _CONVERTERS[version]


def rules_to_json_schema(rules: dict[str, Any], where: str, version: str = OPENAPI_VERSION) -> dict[str, Any]:
    """A mia rule dict (as in ``responseSchemes``) -> an OpenAPI schema object, via the validator's compiler."""
    try:
        compiled = compile_rules(rules, where=where)
    except RuleDefinitionError as exc:
        raise StartupError(str(exc), where) from exc
    return _converter(version).schema2jsonschema(object_schema(compiled.fields))


def response_schemes(route: RouteMethod, version: str = OPENAPI_VERSION) -> dict[str, dict[str, Any]]:
    """``responseSchemes.success``/``error`` of a route as OpenAPI schemas (compiled at start-up)."""
    return {kind: rules_to_json_schema(rules, where, version) for kind, rules, where in route.response_rules()}


# ---------------------------------------------------------------------------------------- helpers
def docs_enabled(environment: dict[str, Any]) -> bool:
    """mia's ``swaggerMode``: on when unset or true/1/y/yes/on."""
    return flag(environment.get("swaggerMode"), default=True)


def openapi_path(path: str) -> tuple[str, list[str]]:
    """``/todo/:id`` -> (``/todo/{id}``, [``id``]); a ``*`` segment becomes ``{wildcard}``."""
    names: list[str] = []
    out = []
    for segment in path.split("/"):
        match = _PARAM.match(segment)
        if match:
            names.append(match.group(1))
            out.append("{" + match.group(1) + "}")
        elif segment == "*":
            names.append("wildcard")
            out.append("{wildcard}")
        else:
            out.append(segment)
    return "/".join(out) or "/", names


def _section_fields(route: RouteMethod, section: str) -> list[Any]:
    """Every controller's compiled leaves of one section, first declaration wins."""
    seen: dict[str, Any] = {}
    for entry in route.preconditions.entries:
        schema = entry.schemas.get(section)
        if schema is None:
            continue
        for info in schema.fields:
            seen.setdefault(info.name, info)
    return list(seen.values())


def _operation_id(route: RouteMethod, used: set[str]) -> str:
    base = route.info.identity or f"{route.verb.lower()}{route.path}"
    prefix = re.sub(r"[^0-9A-Za-z]+", "_", route.info.prefix).strip("_")
    candidate = re.sub(r"[^0-9A-Za-z_.-]+", "_", f"{base}_{prefix}" if prefix else base).strip("_") or "operation"
    unique, n = candidate, 2
    while unique in used:
        unique, n = f"{candidate}_{n}", n + 1
    used.add(unique)
    return unique


def _security(route: RouteMethod) -> list[dict[str, list[str]]] | None:
    for step in route.controllers:
        if step.name == JWT_CONTROLLER:
            return [{"bearerJWT": []}, {"bearerJWTQuery": []}] if step.function == "queryParameters" \
                else [{"bearerJWT": []}]
        if step.name == ACCESS_KEY_CONTROLLER:
            if step.function == "queryParameters":
                return [{"staticKeyQuery": []}]
            return [{"signedKeyV1": []}, {"signedKeyV2": []}, {"staticKey": []}]
    return None


def _responses(route: RouteMethod, schemes: dict[str, dict[str, Any]], has_body: bool) -> dict[str, Any]:
    merged: dict[int, list[str]] = {status: list(codes) for status, codes in DEFAULT_RESPONSES.items()}
    if has_body:
        merged[413] = ["PayloadTooLarge"]
    for status, codes in route.preconditions.responses.items():
        target = merged.setdefault(status, [])
        target.extend(c for c in codes if c not in target)
    if route.policy is not None:
        merged.setdefault(403, []).append("GroupPolicyViolation")
    add_idempotency(route, merged)
    if not any(200 <= status < 300 for status in merged):
        merged[200] = ["Success"]
    success_media, error_media = produces(route.controllers), produces(route.error_controllers)
    out: dict[str, Any] = {}
    for status in sorted(merged):
        entry: dict[str, Any] = {"description": ", ".join(merged[status]) or str(status)}
        if status == 204:
            pass
        elif status < 300:
            entry["content"] = _content(success_media, schemes.get("success", SuccessSchema))
        elif status >= 400:
            entry["content"] = _content(error_media, schemes.get("error", ErrorSchema))
        out[str(status)] = entry
    idempotency_headers(route, out)
    return out


def produces(steps: list[Any]) -> str:
    """The media type a chain answers with: the last controller declaring ``produces`` wins, else JSON.

    ``produces`` is declared metadata on a controller class (``produces = "text/html"``), as midwinter's
    middleware declares what it does; generic-defaultResponse and the JSON error output need none.
    """
    media = JSON_MEDIA
    for step in steps:
        declared = getattr(step.controller, "produces", None)
        if isinstance(declared, str) and declared:
            media = declared
    return media


def _content(media: str, schema: Any) -> dict[str, Any]:
    is_json = media == JSON_MEDIA or media.endswith("+json")
    return {media: {"schema": schema if is_json else {"type": "string"}}}


def _parameters(route: RouteMethod, path_names: list[str]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for section in ("path", "query", "header"):
        infos = _section_fields(route, section)
        if section == "path":
            infos = [i for i in infos if i.name.split(".")[0] in path_names]
        if infos and top_level(infos):
            params.append({"in": section, "schema": object_schema(infos)})
    declared = {i.name.split(".")[0] for i in _section_fields(route, "path")}
    for name in path_names:
        if name not in declared:
            params.append({"in": "path", "name": name, "required": True, "schema": {"type": "string"}})
    return params


def _operation(route: RouteMethod, path_names: list[str], used_ids: set[str],
               version: str = OPENAPI_VERSION) -> dict[str, Any]:
    schemes = response_schemes(route, version)
    operation: dict[str, Any] = {"operationId": _operation_id(route, used_ids), "tags": [route.name]}
    if route.description:
        operation["summary"] = str(route.description)
    if route.info.deprecated:
        operation["deprecated"] = True
    params = _parameters(route, path_names) + [p for p in [idempotency_parameter(route)] if p]
    if params:
        operation["parameters"] = params
    body = _section_fields(route, "body")
    has_body = bool(body) or route.verb in ("POST", "PUT", "PATCH")
    if body and route.body_type in ("json", "urlencoded") and top_level(body):
        media = "application/x-www-form-urlencoded" if route.body_type == "urlencoded" else "application/json"
        schema = object_schema(body, additional=route.info.parameter_overflow != "block")
        operation["requestBody"] = {"required": any(top_level(body).values()),
                                    "content": {media: {"schema": schema}}}
    operation["responses"] = _responses(route, schemes, has_body and route.body_type != "none")
    security = _security(route)
    if security:
        operation["security"] = security
    if route.policy is not None:
        operation["x-policy"] = {"groups": list(route.policy.groups), "groupPolicy": route.policy.group_policy}
    return operation


def websocket_operation(route: RouteMethod, path_names: list[str], used_ids: set[str],
                        version: str = OPENAPI_VERSION) -> dict[str, Any]:
    """A ws route, described on its path item as ``x-websocket``: the handshake's parameters, security
    and refusals (the JSON envelope), ``101`` when the socket opens. Not a ``get`` operation, so
    clients generated from the document and fuzzers never send it a plain GET."""
    operation = _operation(route, path_names, used_ids, version)
    responses = {k: v for k, v in operation["responses"].items() if not k.startswith("2")}
    operation["responses"] = {"101": {"description": "Switching Protocols: the WebSocket is open"}, **responses}
    operation["x-maxMessageSize"] = route.max_message_size
    operation["x-messages"] = ws_messages(route)
    return operation


def _sort_key(route: RouteMethod) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", f"{route.name}{route.path}{route.verb}").lower()


def _fix_parameters(document: dict[str, Any]) -> None:
    """OpenAPI rules apispec does not apply: path parameters are required and non-empty; objects in the
    query use ``deepObject`` (``a[b]=1``, as the query parser reads them)."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            for param in operation.get("parameters", []):
                schema = param.setdefault("schema", {})
                if param["in"] == "path":
                    param["required"] = True
                    if schema.get("type") == "string" and not schema.get("minLength"):
                        schema["minLength"] = 1
                elif param["in"] == "query" and schema.get("type") == "object":
                    param["style"], param["explode"] = "deepObject", True


def _deep_merge(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def build_document(routes: list[RouteMethod], environment: dict[str, Any]) -> dict[str, Any]:
    """One OpenAPI document for ``routes`` (those with ``docs`` on), in :func:`openapi_version`."""
    version = openapi_version(environment)
    spec = APISpec(
        title=str(environment.get("title") or "API"),
        version=str(environment.get("version") or "1.0"),
        openapi_version=version,
        plugins=[MarshmallowPlugin(schema_name_resolver=cast(Any, _schema_name))],
        info={"description": str(environment.get("description") or "API documentation")},
    )
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.schema("Success", schema=SuccessSchema)
    for name, scheme in SECURITY_SCHEMES.items():
        spec.components.security_scheme(name, scheme)
    used_ids: set[str] = set()
    tags: list[str] = []
    sockets: list[str] = []
    for route in sorted((r for r in routes if r.docs), key=_sort_key):
        path, names = openapi_path(route.path)
        if route.name not in tags:
            tags.append(route.name)
        if route.is_websocket:  # through apispec (schemas resolved), then moved to the path item
            sockets.append(path)
            spec.path(path=WS_MARK + path, operations={"get": websocket_operation(route, names, used_ids, version)})
            continue
        spec.path(path=path, operations={route.verb.lower(): _operation(route, names, used_ids, version)})
    for tag in tags:
        spec.tag({"name": tag})
    document = spec.to_dict()
    for path in sockets:
        operation = document["paths"].pop(WS_MARK + path)["get"]
        document["paths"].setdefault(path, {})["x-websocket"] = operation
    if sockets:
        document["info"]["description"] = str(document["info"].get("description") or "") + websocket_section(document)
    _fix_parameters(document)
    options = (environment.get("swagger") or {}).get("options")
    if isinstance(options, dict):
        _deep_merge(document, options)
    if version.startswith("3.1"):
        upgrade_to_31(document)
    return document


def build_documents(routes: list[RouteMethod], host_ids: set[str] | list[str],
                    environment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """vhost id -> document; ``*`` holds the host-less routes, every other id adds its own."""
    return {host_id: build_host_document(routes, host_id, environment) for host_id in ["*", *sorted(host_ids)]}


def build_host_document(routes: list[RouteMethod], host_id: str, environment: dict[str, Any]) -> dict[str, Any]:
    """The document of one vhost id (``*``: the host-less routes only)."""
    own = [r for r in routes if "*" in r.host_ids or (host_id != "*" and host_id in r.host_ids)]
    return build_document(own, environment)


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) of a document, in document order (for exports and tests)."""
    return [(path, method, op) for path, item in document.get("paths", {}).items()
            for method, op in item.items() if isinstance(op, dict) and not method.startswith("x-")]
