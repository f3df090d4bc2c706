"""Compiles route files into :class:`RouteMethod` objects once, at start-up.

Keys keep mia.js's names (``prefix``, ``hostId``, ``corsHeaders``, ``rateLimit``, ``controller``,
``errorController``, ``bodyParser``/``bodyparser``, ``parameterOverflow``, ...). Everything that
can be wrong in a route file fails here, naming the file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from core.data.consistency import READ_MODES
from core.errors import StartupError
from core.http.chain import ChainStep, resolve_chain
from core.http.context import RouteInfo
from core.http.idempotency import Rule, compile_rule, with_idempotency
from core.http.policy import Policy, compile_policy, with_policy
from core.http.ratelimit import parse_limit
from core.shared import Shared
from core.startup.loader import RouteFile, disabled_controller
from core.startup.sockets import SocketHandler, messages_spec, socket_handler
from core.validation.preconditions import PreconditionSet, compile_preconditions

# method key -> (HTTP verb, automatic path suffix)
METHOD_KEYS: dict[str, tuple[str, str]] = {
    "list": ("GET", ""), "index": ("GET", "/:id"), "create": ("POST", ""),
    "update": ("PUT", "/:id"), "delete": ("DELETE", "/:id"),
    "get": ("GET", ""), "post": ("POST", ""), "put": ("PUT", ""), "del": ("DELETE", ""),
    "ws": ("GET", ""),  # a WebSocket route: the chain runs at the handshake (core/http/websocket.py)
}
FILE_KEYS = {"group", "name", "version", "hostId", "environment", "prefix", "corsHeaders", "rateLimit",
             "deprecated", "routes", "parameterOverflow", "bodyParser", "bodyparser", "description",
             "modified", "docs", "idempotent", "readPreference"}
METHOD_FIELDS = {"identity", "description", "docs", "deprecated", "environment", "bodyParser", "bodyparser",
                 "authorization", "session", "controller", "errorController", "corsHeaders",
                 "responseSchemes", "rateLimit", "parameterOverflow", "modified", "summary", "tags",
                 "policy", "handler", "maxMessageSize", "idempotent", "readPreference", "messages"}
WS_ONLY_FIELDS = {"handler", "maxMessageSize", "messages"}
BODY_TYPES = {"json", "raw", "text", "urlencoded", "none"}
OVERFLOW_MODES = {"ignore", "log", "block"}
DEFAULT_LIMIT = 512 * 1024
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3}


@dataclass
class RouteMethod:
    """One (host ids, prefix, path, method) of a route file, fully resolved."""

    info: RouteInfo
    host_ids: tuple[str, ...]
    path: str
    file: RouteFile
    controllers: list[ChainStep]
    error_controllers: list[ChainStep]
    preconditions: PreconditionSet
    body_type: str = "json"
    body_limit: int = DEFAULT_LIMIT
    cors_headers: dict[str, Any] = field(default_factory=dict)
    cors_answers: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)  # core.http.cors's cache
    description: str | None = None
    docs: bool = True
    authorization: bool = False
    response_schemes: dict[str, Any] | None = None
    modified: Any = None
    name: str = ""
    policy: Policy | None = None
    socket: SocketHandler | None = None   # ws routes: the controller that receives the socket
    max_message_size: int | None = None   # ws routes: bytes per incoming message
    messages: dict[str, str] | None = None  # ws routes: what the server sends and the client may send (docs)
    idempotency: Rule | None = None       # ``idempotent``: Idempotency-Key claims and replays
    read_preference: str | None = None    # readPreference: this route's model reads may use secondaries

    @property
    def is_websocket(self) -> bool:
        return self.info.method == "ws"

    @property
    def verb(self) -> str:
        return self.info.request_method

    def response_rules(self) -> list[tuple[str, dict[str, Any], str]]:
        """``(kind, rules, where)`` of ``responseSchemes.success``/``error``; a bad shape stops start-up."""
        declared = self.response_schemes or {}
        if not isinstance(declared, dict):
            raise StartupError(f"responseSchemes of {self.verb} {self.path} must be a dict", self.file.path)
        found = []
        for kind in ("success", "error"):
            rules = declared.get(kind)
            if rules is None:
                continue
            if not isinstance(rules, dict):
                raise StartupError(f"responseSchemes.{kind} of {self.verb} {self.path} must be a dict of rules",
                                   self.file.path)
            found.append((kind, rules, f"{self.file.path} responseSchemes.{kind}"))
        return found


def parse_size(value: Any, where: str) -> int:
    """``"512kb"`` -> 524288; ints are bytes."""
    if isinstance(value, bool):
        raise StartupError(f"bodyParser limit must be a size like '512kb', got {value!r}", where)
    if isinstance(value, int) and value > 0:
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise StartupError(f"bodyParser limit must be a size like '512kb', got {value!r}", where)
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "b").lower()])


def websocket_options(environment: dict[str, Any]) -> tuple[float | None, int]:
    """``websocket.pingInterval`` (seconds, default 25, 0 = off) and ``maxMessageSize`` (bytes, default 64kb)."""
    conf = environment.get("websocket") or {}
    where = "environment websocket"
    ping = conf.get("pingInterval", 25)
    if isinstance(ping, bool) or not isinstance(ping, (int, float)) or ping < 0:
        raise StartupError(f"websocket.pingInterval must be seconds (a number >= 0), got {ping!r}", where)
    return (float(ping) or None), parse_size(conf.get("maxMessageSize", "64kb"), where)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _body_parser(spec: Any, inherited: tuple[str, int], where: str) -> tuple[str, int]:
    if spec is None:
        return inherited
    if not isinstance(spec, dict):
        raise StartupError("bodyParser must be a dict like {'type': 'json', 'limit': '512kb'}", where)
    body_type = str(spec.get("type", inherited[0])).lower()
    if body_type not in BODY_TYPES:
        raise StartupError(f"bodyParser type must be one of {sorted(BODY_TYPES)}, got {body_type!r}", where)
    limit = parse_size(spec["limit"], where) if "limit" in spec else inherited[1]
    return body_type, limit


def _in_environment(value: Any, mode: str) -> bool:
    envs = _as_list(value)
    return not envs or mode in envs


def _prefixes(value: Any, where: str) -> list[str]:
    prefixes = _as_list(value) or ["/"]
    out = []
    for prefix in prefixes:
        if not isinstance(prefix, str):
            raise StartupError(f"prefix must be a string or a list of strings, got {prefix!r}", where)
        prefix = prefix.strip()
        if prefix in ("", "/"):
            out.append("")
        else:
            out.append(("/" + prefix.strip("/")) if not prefix.startswith("/") else prefix.rstrip("/"))
    return out


def full_path(prefix: str, path: str, suffix: str) -> str:
    """mia's ``./`` rule: relative paths hang below the prefix, anything else is absolute."""
    if path.startswith("."):
        result = prefix + path[1:]
    else:
        result = path if path.startswith("/") else "/" + path
    result = (result.rstrip("/") or "") + suffix
    return result or "/"


def compile_route_files(files: list[RouteFile], mode: str, host_ids: set[str]) -> list[RouteMethod]:
    """Every mounted route method of every route file, in file order; raises StartupError."""
    compiled: list[RouteMethod] = []
    seen_paths: dict[tuple[str, str, str], str] = {}
    seen_identities: dict[tuple[str, str, str], str] = {}
    shared: dict[Any, Any] = {}  # compiled precondition schemas, shared by routes using the same function
    for route_file in files:
        for method in _compile_file(route_file, mode, host_ids, shared):
            for host in method.host_ids:
                key = (host, "WS" if method.is_websocket else method.verb, method.path.lower())
                if key in seen_paths:
                    raise StartupError(
                        f"{method.verb} {method.path}->{method.info.identity} already registered "
                        f"(first in {seen_paths[key]})", route_file.path)
                seen_paths[key] = route_file.path
                if method.info.identity:
                    id_key = (host, method.info.prefix, method.info.identity)
                    if id_key in seen_identities:
                        raise StartupError(f"{method.info.identity} for {method.info.prefix or '/'} -> already "
                                           f"registered (first in {seen_identities[id_key]})", route_file.path)
                    seen_identities[id_key] = route_file.path
            compiled.append(method)
    return compiled


def _compile_file(route_file: RouteFile, mode: str, known_hosts: set[str], shared: dict[Any, Any]
                  ) -> list[RouteMethod]:
    where = route_file.path
    spec = route_file.definition
    unknown = set(spec) - FILE_KEYS
    if unknown:
        raise StartupError(f"unknown route file keys: {', '.join(sorted(unknown))}", where)
    if not _in_environment(spec.get("environment"), mode):
        return []
    host_ids = _as_list(spec.get("hostId")) or ["*"]
    for host in host_ids:
        if not isinstance(host, str):
            raise StartupError("Unknown definition type for host used in routes definiton. Use string or array",
                               where)
        if host != "*" and host not in known_hosts:
            raise StartupError(f"Host {host} for route {spec.get('group')} not registered in mia.js global "
                               "configuration.", where)
    file_limit = parse_limit(spec.get("rateLimit"), f"route file {spec.get('prefix')}", where)
    file_body = _body_parser(spec.get("bodyParser", spec.get("bodyparser")), ("json", DEFAULT_LIMIT), where)
    file_overflow = spec.get("parameterOverflow", "ignore")
    route_maps = spec.get("routes")
    if isinstance(route_maps, dict):
        route_maps = [route_maps]
    if not isinstance(route_maps, list) or not all(isinstance(r, dict) for r in route_maps):
        raise StartupError("'routes' must map paths to method dicts (or be a list of such dicts)", where)
    out: list[RouteMethod] = []
    seen_absolute: set[tuple[str, str]] = set()
    for prefix in _prefixes(spec.get("prefix"), where):
        for route_map in route_maps:
            for path, methods in route_map.items():
                if not isinstance(path, str) or not isinstance(methods, dict):
                    raise StartupError(f"route {path!r} must map method keys to dicts", where)
                for key, method_spec in methods.items():
                    if key not in METHOD_KEYS:
                        raise StartupError(f"unknown route method key {key!r} for path {path!r}; use one of "
                                           f"{', '.join(METHOD_KEYS)}", where)
                    if not path.startswith("."):
                        if (path, key) in seen_absolute:
                            continue  # an absolute path is mounted once, whatever the prefixes
                        seen_absolute.add((path, key))
                    method = _compile_method(route_file, spec, prefix, path, key, method_spec, host_ids, mode,
                                             file_limit, file_body, file_overflow, shared)
                    if method is not None:
                        out.append(method)
    return out


_CHAIN_ENTRY_KEYS = frozenset({"name", "version", "function"})


def _chain_key(controllers: Any, error_controllers: Any, key: str) -> tuple[Any, ...] | None:
    """A hashable key for a route's chain entries, or None when they are not plain name/version/function dicts.

    Routes with the same entries and method key resolve to the same steps and preconditions (both read-only
    after start-up), so a large API with a few controllers compiles each chain once.
    """
    parts: list[Any] = ["chain", key]
    for entries in (controllers, error_controllers):
        if isinstance(entries, dict):
            entries = [entries]
        if entries is None:
            parts.append(None)
            continue
        if not isinstance(entries, list):
            return None
        steps = []
        for entry in entries:  # plain loops: this runs once per route method (10,000 in a large API)
            if not isinstance(entry, dict) or not _CHAIN_ENTRY_KEYS.issuperset(entry):
                return None
            for value in entry.values():
                if not isinstance(value, str):
                    return None
            steps.append((entry.get("name"), entry.get("version", "1.0"), entry.get("function")))
        parts.append(tuple(steps))
    return tuple(parts)


def _compile_method(route_file: RouteFile, spec: dict[str, Any], prefix: str, path: str, key: str,
                    method_spec: Any, host_ids: list[str], mode: str, file_limit: dict[str, int] | None,
                    file_body: tuple[str, int], file_overflow: Any, shared: dict[Any, Any]) -> RouteMethod | None:
    where = route_file.path
    label = f"{key} {path!r}"
    if not isinstance(method_spec, dict):
        raise StartupError(f"route method {label} must be a dict", where)
    if not METHOD_FIELDS.issuperset(method_spec):
        unknown = set(method_spec) - METHOD_FIELDS
        raise StartupError(f"unknown keys in route method {label}: {', '.join(sorted(unknown))}", where)
    if not _in_environment(method_spec.get("environment"), mode):
        return None
    off = disabled_controller(method_spec)
    if off is not None:
        Shared.warnings.append(f"route {key} {full_path(prefix, path, METHOD_KEYS[key][1])} "
                               f"({method_spec.get('identity') or '-'}) is not mounted: controller {off} is "
                               f"disabled (in {where})")
        return None
    verb, suffix = METHOD_KEYS[key]
    url = full_path(prefix, path, suffix)
    identity = method_spec.get("identity")
    method_limit = None if method_spec.get("rateLimit") is None else parse_limit(
        method_spec["rateLimit"], f"route {identity} in route file {spec.get('prefix')}", where)
    limits = [lim for lim in (file_limit, method_limit) if lim]
    overflow = method_spec.get("parameterOverflow", file_overflow) or "ignore"
    if overflow not in OVERFLOW_MODES:
        raise StartupError(f"parameterOverflow must be one of ignore, log, block; got {overflow!r}", where)
    body_type, body_limit = _body_parser(method_spec.get("bodyParser", method_spec.get("bodyparser")),
                                         file_body, where)
    chain_key = _chain_key(method_spec.get("controller"), method_spec.get("errorController"), key)
    cached = shared.get(chain_key) if chain_key is not None else None
    if cached is not None:  # the same chain as an earlier route: its resolved steps and compiled checks
        controllers, error_controllers, preconditions = cached
    else:
        controllers = resolve_chain(method_spec.get("controller"), key, where, label, error=False)
        if not controllers and key != "ws":  # a ws route may be open to everybody: its handler is the point
            raise StartupError(f"route method {label} has no controller", where)
        error_controllers = resolve_chain(method_spec.get("errorController"), key, where, label, error=True)
        preconditions = compile_preconditions(controllers, where, shared)
        if chain_key is not None:
            shared[chain_key] = (controllers, error_controllers, preconditions)
    if key != "ws" and not WS_ONLY_FIELDS.isdisjoint(method_spec):
        raise StartupError(f"{', '.join(sorted(set(method_spec) & WS_ONLY_FIELDS))} of {label} only apply to "
                           "'ws' routes", where)
    read_preference = method_spec.get("readPreference", spec.get("readPreference"))
    if read_preference is not None and read_preference not in READ_MODES:
        raise StartupError(f"readPreference of {label} must be one of {', '.join(READ_MODES)}, "
                           f"got {read_preference!r}", where)
    policy = compile_policy(method_spec.get("policy"), where, label)
    controllers = with_policy(controllers, policy, where, label)
    # A file-level ``idempotent`` covers the file's writes; on a GET or ws method it must be said per method.
    idempotent = method_spec.get("idempotent", spec.get("idempotent") if verb != "GET" else None)
    idempotency = compile_rule(idempotent, where, label)
    if idempotency is not None:
        controllers = with_idempotency(controllers, idempotency, verb, where, label)
    cors = method_spec.get("corsHeaders", spec.get("corsHeaders")) or {}
    if not isinstance(cors, dict):
        raise StartupError(f"corsHeaders of {label} must be a dict", where)
    # A route is deprecated when its file or method says so, or a controller in its chain is deprecated.
    deprecated = bool(method_spec.get("deprecated", spec.get("deprecated", False))) or any(
        getattr(step.controller, "deprecated", False) is True for step in controllers)
    info = RouteInfo(identity=identity, group=spec.get("group"), version=str(spec.get("version", "1.0")),
                     prefix=prefix, url=url, method=key, request_method=verb,
                     host_id=",".join(host_ids), deprecated=deprecated,
                     name=spec.get("name") or prefix or "/", rate_limits=tuple(limits),
                     parameter_overflow=overflow)
    authorization = bool(method_spec.get("authorization") or method_spec.get("session")) or any(
        step.name in ("generic-validateSession",) or getattr(step.controller, "sets_session", False)
        for step in controllers)
    return RouteMethod(info=info, host_ids=tuple(host_ids), path=url, file=route_file, controllers=controllers,
                       error_controllers=error_controllers, preconditions=preconditions, body_type=body_type,
                       body_limit=body_limit, cors_headers=dict(cors),
                       description=method_spec.get("description", spec.get("description")),
                       docs=method_spec.get("docs", spec.get("docs", True)) is not False,
                       authorization=authorization, response_schemes=method_spec.get("responseSchemes"),
                       modified=method_spec.get("modified"), name=info.name, policy=policy,
                       socket=socket_handler(method_spec.get("handler"), where, label) if key == "ws" else None,
                       max_message_size=parse_size(method_spec["maxMessageSize"], where)
                       if "maxMessageSize" in method_spec else None, idempotency=idempotency,
                       read_preference=read_preference,
                       messages=messages_spec(method_spec.get("messages"), where, label))
