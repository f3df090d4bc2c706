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


class _Node:
    __slots__ = ("static", "dynamic", "by_key", "rules")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.dynamic: list[tuple[Any, str, re.Pattern[str] | None, _Node]] = []  # (weight, key, regex, node)
        self.by_key: dict[str, _Node] = {}
        self.rules: list[tuple[frozenset[str], int]] = []  # (methods, endpoint) in insertion order


def _tail(segments: list[str]) -> tuple[Any, str]:
    """Weight and regex of a wildcard and everything after it (werkzeug makes one final part of them)."""
    pieces, statics, args = [], [], []
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
                node = self._dynamic(node, (0, [], -1, [PARAM_WEIGHT]), "<param>", None)
            else:
                node = node.static.setdefault(segment, _Node())
        allowed = set(methods)
        if "GET" in allowed:
            allowed.add("HEAD")  # werkzeug's rule answers HEAD with GET
        node.rules.append((frozenset(allowed), endpoint))

    @staticmethod
    def _dynamic(node: _Node, weight: Any, key: str, regex: re.Pattern[str] | None) -> _Node:
        child = node.by_key.get(key)
        if child is not None:
            return child
        child = node.by_key[key] = _Node()
        node.dynamic.append((weight, key, regex, child))
        node.dynamic.sort(key=lambda entry: entry[0])
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
