"""A segment trie that matches the router's rules exactly as werkzeug's state machine did, built in a fraction.

Why: werkzeug parses every rule with regular expressions and compiles per-rule objects at start-up;
for 10,000 routes that was seconds and tens of megabytes. The router's rules have only three kinds
of segment (lower-case text, a ``<name>`` parameter, a ``<path:wildcard>`` tail), so a trie with
werkzeug's order does the same work: at each step the literal segment first, then the dynamic
transitions in werkzeug's weight order (a parameter matches one non-empty segment; a wildcard
matches the rest through the same regular expression werkzeug builds). A path whose rules exist but
not for the method collects their methods for the 405 ``Allow`` header, as werkzeug did.
"""
from __future__ import annotations

import re
from typing import Any

PARAM_WEIGHT, PATH_WEIGHT = 100, 200  # werkzeug's UnicodeConverter and PathConverter weights
# a parameter segment's place among dynamic transitions (_tail's shape)
_PARAM_SORT_KEY: tuple[Any, ...] = (0, [], -1, [PARAM_WEIGHT])


_NO_CHILDREN: dict[str, Any] = {}  # shared by every node without literal children; never written to
_METHOD_SETS: dict[frozenset[str], frozenset[str]] = {}  # one frozenset per distinct set of methods


class _Node:
    """One segment position. Most nodes of a large table are leaves, so a node holds shared empty
    containers until something is added (a 10,000-route table is some 20,000 nodes)."""

    __slots__ = ("static", "dynamic", "rules")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = _NO_CHILDREN
        self.dynamic: tuple[tuple[Any, str, re.Pattern[str] | None, _Node], ...] = ()  # (weight, key, regex, node)
        self.rules: tuple[tuple[frozenset[str], int], ...] = ()  # (methods, endpoint) in insertion order


def _tail(segments: list[str]) -> tuple[Any, str]:
    """Weight and regex of a wildcard and everything after it (werkzeug makes one final part of them)."""
    pieces: list[str] = []
    statics: list[Any] = []
    args: list[Any] = []
    for segment in segments:
        if segment == "<path:wildcard>":
            pieces.append("(?:[^/].*?)")
            args.append(PATH_WEIGHT)
        elif segment.startswith("<"):
            pieces.append("(?:[^/]{1,})")
            args.append(PARAM_WEIGHT)
        else:
            statics.append((len(statics), -len(segment)))
            pieces.append(re.escape(segment))
    weight = (-len(statics), statics, -len(args), args)
    return weight, "/".join(pieces) + r"\Z"


class PathTrie:
    """Rules added as ``/a/<id>/<path:wildcard>`` strings; ``match`` gives an endpoint or the methods seen."""

    def __init__(self) -> None:
        self.root = _Node()

    def add(self, rule: str, methods: set[str], endpoint: int) -> None:
        node = self.root
        segments = rule.split("/")
        for index, segment in enumerate(segments):
            if segment == "<path:wildcard>":
                weight, pattern = _tail(segments[index:])
                node = self._dynamic(node, weight, pattern, re.compile(pattern))
                break
            if segment.startswith("<"):
                node = self._dynamic(node, _PARAM_SORT_KEY, "<param>", None)
            else:
                child = node.static.get(segment)
                if child is None:
                    if node.static is _NO_CHILDREN:
                        node.static = {}
                    child = node.static[segment] = _Node()
                node = child
        allowed = frozenset(methods | {"HEAD"} if "GET" in methods else methods)  # a GET rule answers HEAD
        node.rules = (*node.rules, (_METHOD_SETS.setdefault(allowed, allowed), endpoint))

    @staticmethod
    def _dynamic(node: _Node, weight: Any, key: str, regex: re.Pattern[str] | None) -> _Node:
        for _weight, known, _regex, child in node.dynamic:
            if known == key:
                return child
        child = _Node()
        node.dynamic = tuple(sorted((*node.dynamic, (weight, key, regex, child)), key=lambda entry: entry[0]))
        return child

    def match(self, path: str, method: str) -> tuple[int | None, set[str]]:
        """(endpoint, set()) on a match; (None, methods of rules on this path) otherwise (empty: 404)."""
        seen: set[str] = set()
        parts = path.split("/")
        found = self._match(self.root, parts, 0, method, seen)
        return found, (set() if found is not None else seen)

    def _match(self, node: _Node, parts: list[str], index: int, method: str, seen: set[str]) -> int | None:
        if index == len(parts):
            for methods, endpoint in node.rules:
                if method in methods:
                    return endpoint
                seen.update(methods)
            return None
        part = parts[index]
        child = node.static.get(part)
        if child is not None:
            found = self._match(child, parts, index + 1, method, seen)
            if found is not None:
                return found
        for _weight, _key, regex, child in node.dynamic:
            if regex is None:
                if not part:
                    continue
                found = self._match(child, parts, index + 1, method, seen)
            else:
                if regex.match("/".join(parts[index:])) is None:
                    continue
                found = self._match(child, parts, len(parts), method, seen)
            if found is not None:
                return found
        return None
