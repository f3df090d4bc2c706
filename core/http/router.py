"""Host + path + method -> route method, in constant time per request.

Every vhost id gets one path trie (core/http/pathtrie.py, matching as werkzeug's state machine did:
cost does not grow with the number of rules); route files without ``hostId`` go to the ``*`` table,
which answers on every host. Paths match case-insensitively and with an optional trailing slash, as
Express did: rules are stored lower-cased, the request path is lower-cased for matching, and
parameter values are cut from the original path so they keep their case.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from core.errors import MiaError, StartupError
from core.http.pathtrie import PathTrie

_PARAM = re.compile(r"^:([A-Za-z_][A-Za-z0-9_]*)\??$")
HOST_CACHE_SIZE = 4096
MATCH_CACHE_SIZE = 4096
_SHARED_PARAMS: dict[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]] = {}  # one per distinct shape


@dataclass(frozen=True)
class Target:
    """What a rule points at: a route method, or the CORS preflight of one."""

    route: Any
    preflight: bool
    param_segments: tuple[tuple[str, int], ...]
    wildcard_from: int | None


def to_rule(path: str) -> tuple[str, tuple[tuple[str, int], ...], int | None]:
    """``/Demo/v1/todo/:id`` -> (``/demo/v1/todo/<id>``, ((``id``, 4),), None)."""
    segments = path.split("/")
    out, params, wildcard = [], [], None
    names: set[str] = set()
    for index, segment in enumerate(segments):
        match = _PARAM.match(segment) if segment[:1] == ":" else None
        name = match.group(1) if match else "wildcard" if segment == "*" else None
        if name is not None:
            if name in names:
                raise StartupError(f"path parameter {name!r} used twice in {path!r}")
            names.add(name)
        if match:
            out.append(f"<{match.group(1)}>")
            params.append((match.group(1), index))
        elif segment == "*":
            out.append("<path:wildcard>")
            wildcard = index
        else:
            if "<" in segment or ">" in segment or ":" in segment:
                raise StartupError(f"unsupported path segment {segment!r} in {path!r}")
            out.append(segment.lower())
    shape = tuple(params)  # most routes of a large API share theirs (``(("id", 4),)``): kept once
    return "/".join(out) or "/", _SHARED_PARAMS.setdefault(shape, shape), wildcard


def rule_variants(path: str) -> list[str]:
    """The path, plus the paths without its trailing optional parameters (Express's ``/x/:id?`` answers ``/x``)."""
    variants = [path]
    segments = path.split("/")
    while len(segments) > 1 and _PARAM.match(segments[-1]) and segments[-1].endswith("?"):
        segments = segments[:-1]
        variants.append("/".join(segments) or "/")
    return variants


def raw_segments(raw_uri: str | None, path: str) -> tuple[list[str], set[int]] | None:
    """The request path split on its *raw* slashes, each segment decoded, and the indexes of segments
    that are not UTF-8; None when the raw URI does not describe ``path`` (absolute form, SCRIPT_NAME)."""
    if not raw_uri or "%" not in raw_uri:
        return None
    raw_path = raw_uri.split("?", 1)[0].split("#", 1)[0]
    if "%" not in raw_path or not raw_path.startswith("/"):
        return None
    try:
        parts = [unquote_to_bytes(part.encode("latin-1")) for part in raw_path.split("/")]
    except UnicodeEncodeError:
        return None
    decoded, invalid = [], set()
    for index, part in enumerate(parts):
        try:
            decoded.append(part.decode("utf-8"))
        except UnicodeDecodeError:
            decoded.append(part.decode("utf-8", "replace"))
            invalid.add(index)
    if "/".join(decoded) != path:
        return None
    return decoded, invalid


def _host_name(name: str) -> str:
    """A host name as compared: lower case, IPv6 without brackets, no trailing root dot (``a.com.``)."""
    name = name.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    return name.rstrip(".") or name


class HostResolver:
    """``Host`` header -> configured vhost id (exact names and one-label ``*`` wildcards)."""

    def __init__(self, hosts: Any) -> None:
        self.exact: dict[str, str] = {}
        self.patterns: list[tuple[re.Pattern[str], str]] = []
        self._cache: dict[str, str | None] = {}
        entries = list(hosts.values()) if isinstance(hosts, dict) else list(hosts or [])
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                raise StartupError("Host configuration is invalid. Host id is missing or not a string")
            names = entry.get("host")
            if names is None:
                raise StartupError("Host configuration is invalid. Host is missing")
            if isinstance(names, str):
                names = [names]
            if not isinstance(names, list):
                raise StartupError("Host configuration is invalid. Host should be array or string")
            for name in names:
                name = _host_name(str(name))
                if "*" in name:
                    regex = re.escape(name).replace(r"\*", r"[^.]+")
                    self.patterns.append((re.compile(f"^{regex}$"), entry["id"]))
                else:
                    self.exact.setdefault(name, entry["id"])
        self.ids = {e["id"] for e in entries}
        self.active = bool(self.exact or self.patterns)  # without vhosts every Host resolves to None

    def resolve(self, host_header: str | None) -> str | None:
        if not host_header or not (self.exact or self.patterns):
            return None
        cached = self._cache.get(host_header, "")
        if cached != "":
            return cached
        name = host_header.lower()
        if name.startswith("["):
            name = name.split("]")[0] + "]"
        else:
            name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
        name = _host_name(name)
        host_id = self.exact.get(name)
        if host_id is None:
            host_id = next((hid for regex, hid in self.patterns if regex.match(name)), None)
        if len(self._cache) >= HOST_CACHE_SIZE:
            self._cache.clear()
        self._cache[host_header] = host_id
        return host_id


class Router:
    """All mounted route methods, one path trie per vhost id plus ``*``."""

    def __init__(self, routes: list[Any], hosts: HostResolver) -> None:
        self.hosts = hosts
        self.targets: list[Target] = []
        # (map id, lower-case path) -> verb -> endpoint, for rules without parameters: one dict lookup
        # answers most requests; the trie handles the rest (and every 404/405).
        self.static: dict[tuple[str, str], dict[str, int]] = {}
        self.tries: dict[str, PathTrie] = {}
        # (map id, lookup, method) -> endpoint of the trie's matches (paths with parameters): the trie is
        # fixed once built, so a repeated path (the same id, the same code) is one dict lookup too.
        self.matched: dict[tuple[str, str, str], int] = {}
        preflight_done: set[tuple[str, str]] = set()
        for route in routes:
            for variant in rule_variants(route.path):
                try:
                    rule_path, params, wildcard = to_rule(variant)
                except StartupError as exc:
                    raise StartupError(str(exc), route.file.path) from None
                for host_id in route.host_ids:
                    self._rule(rule_path, route, False, params, wildcard, route.verb, host_id)
                    if route.cors_headers and (host_id, rule_path) not in preflight_done:
                        preflight_done.add((host_id, rule_path))
                        self._rule(rule_path, route, True, params, wildcard, "OPTIONS", host_id)

    def _rule(self, path: str, route: Any, preflight: bool, params: Any, wildcard: Any, verb: str,
              host_id: str) -> None:
        self.targets.append(Target(route, preflight, params, wildcard))
        endpoint = len(self.targets) - 1
        if not params and wildcard is None:
            verbs = self.static.setdefault((host_id, path), {})
            verbs.setdefault(verb, endpoint)
            if verb == "GET":
                verbs.setdefault("HEAD", endpoint)  # a GET rule answers HEAD
        self.tries.setdefault(host_id, PathTrie()).add(path, {verb}, endpoint)

    def find(self, map_id: str, lookup: str, method: str) -> tuple[int | None, set[str]]:
        """Endpoint of ``lookup`` (lower case, no trailing slash) in one vhost's table, else the methods seen."""
        trie = self.tries.get(map_id)
        if trie is None:
            return None, set()
        verbs = self.static.get((map_id, lookup))
        if verbs is not None and method in verbs:
            return verbs[method], set()
        key = (map_id, lookup, method)
        endpoint = self.matched.get(key)
        if endpoint is not None:
            return endpoint, set()
        endpoint, seen = trie.match(lookup, method)
        if endpoint is not None:
            if len(self.matched) >= MATCH_CACHE_SIZE:  # made-up paths only empty and refill it
                self.matched.clear()
            self.matched[key] = endpoint
        return endpoint, seen

    def match(self, host: str | None, path: str, method: str, raw_uri: str | None = None
              ) -> tuple[Target, dict[str, str]]:
        """Raise MiaError 404 (or 405 with ``Allow``) when nothing matches.

        ``raw_uri`` (the request target as sent) keeps an encoded slash inside its segment, as
        Express matched: ``/x/a%2Fb`` is the parameter ``a/b``, never the path ``/x/a/b``.
        """
        raw = raw_segments(raw_uri, path)
        segments = raw[0] if raw is not None else None
        lookup = path.lower() if segments is None else "/".join(s.replace("/", "%2F") for s in segments).lower()
        if len(lookup) > 1 and lookup.endswith("/"):
            lookup = lookup.rstrip("/") or "/"
        if lookup.startswith("//"):
            lookup = "/" + lookup.lstrip("/")
        host_id = self.hosts.resolve(host)
        allowed: set[str] = set()
        for map_id in ((host_id, "*") if host_id else ("*",)):
            endpoint, seen = self.find(map_id, lookup, method)
            if endpoint is None:
                allowed.update(seen)
                continue
            target = self.targets[endpoint]
            if raw is not None and any(index in raw[1] for _, index in target.param_segments):
                raise MiaError(400, code="BadRequest")  # a parameter that is not UTF-8 (Express: 400)
            return target, self._params(target, path, segments)
        if allowed:
            raise MiaError(405, headers={"Allow": ", ".join(sorted(allowed))})
        raise MiaError(404)

    @staticmethod
    def _params(target: Target, path: str, segments: list[str] | None) -> dict[str, str]:
        if not target.param_segments and target.wildcard_from is None:
            return {}
        if segments is None:
            segments = path.split("/")
        values = {name: segments[index] for name, index in target.param_segments if index < len(segments)}
        if target.wildcard_from is not None:
            values["wildcard"] = "/".join(segments[target.wildcard_from:]).rstrip("/")
        return values
