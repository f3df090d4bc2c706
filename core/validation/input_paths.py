"""Dotted keys and paths in validator input: ``{"a.b": 1}`` read as ``{"a": {"b": 1}}``, as mia un-flattens.

Every function works on a private copy, so the caller's input is never mutated (validator
deviation 1). ``normalize`` expands only the keys a compiled group declares; ``expand_deep`` expands
a free-form value entirely.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.validation.coercion import MISSING


def normalize(d: Mapping[str, Any], group: Any) -> dict[str, Any]:
    """A private copy of the declared part of ``d`` with dotted keys expanded, one level per group."""
    out: dict[str, Any] = {}
    dotted = []
    names = group.names
    for k, v in d.items():
        if k in names:
            out[k] = v
        elif isinstance(k, str) and "." in k:
            head, _, rest = k.partition(".")
            if head in names:
                dotted.append((head, rest, v))
    if dotted:
        own: set[int] = set()
        for head, rest, v in dotted:
            cur = out.get(head)
            if not isinstance(cur, dict) or id(cur) not in own:
                cur = out[head] = dict(cur) if isinstance(cur, dict) else {}
                own.add(id(cur))
            cur[rest] = v
    for name, sub in group.subgroups:
        v = out.get(name)
        if isinstance(v, dict):
            out[name] = normalize(v, sub)
    return out


def expand_deep(v: Any) -> Any:
    """A copy of a free-form value with dotted keys turned into nested dicts (as mia's un-flattening)."""
    if isinstance(v, list):
        return [expand_deep(x) for x in v]
    if not isinstance(v, dict):
        return v
    out: dict[str, Any] = {}
    for k, x in v.items():
        parts = k.split(".") if isinstance(k, str) and "." in k else [k]
        cur = out  # every dict below ``out`` is new, so it may be written to
        for part in parts[:-1]:
            nxt = cur.get(part)
            if not isinstance(nxt, dict):
                nxt = cur[part] = {}
            cur = nxt
        cur[parts[-1]] = expand_deep(x)
    return out


def get_path(work: dict[str, Any], parts: list[str]) -> Any:
    cur: Any = work
    for part in parts:
        if not isinstance(cur, dict):
            return MISSING
        cur = cur.get(part, MISSING)
        if cur is MISSING:
            return MISSING
    return cur


def set_path(work: dict[str, Any], parts: list[str], value: Any) -> None:
    """Sets a path in the private working copy (its group-level dicts all belong to us)."""
    cur = work
    for part in parts[:-1]:
        nxt = cur.get(part)
        if not isinstance(nxt, dict):
            nxt = cur[part] = {}
        cur = nxt
    cur[parts[-1]] = value
