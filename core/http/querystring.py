"""Query strings parsed like express's ``qs``: what mia.js controllers saw in ``req.query``.

Repeated keys and ``a[]`` give lists, ``a[b]`` nests (up to qs's depth), ``a[0]`` indexes. Parsed
lazily, once per request, by :class:`core.http.context.MiaContext` when somebody reads ``req.mia.query``.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401 - registers the "werkzeug.url_quote" decoding error handler

QS_ARRAY_LIMIT = 20  # qs's arrayLimit: a[21]=x is an object key, not an index
QS_DEPTH = 5  # qs's depth: a[b][c][d][e][f][g]=x keeps "[g]" as one key


def _qs_arrays(node: Any) -> Any:
    """qs's indexes: ``{"0": a, "2": b}`` built from ``x[0]=a&x[2]=b`` is the (compacted) list ``[a, b]``."""
    if not isinstance(node, dict):
        return node
    for key, value in node.items():
        node[key] = _qs_arrays(value)
    if node and all(k.isascii() and k.isdigit() and str(int(k)) == k and int(k) <= QS_ARRAY_LIMIT for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node


def parse_query_string(query_string: str) -> dict[str, Any]:
    """:func:`parse_query` of a WSGI ``QUERY_STRING``, split exactly as werkzeug's ``request.args`` splits
    it (UTF-8, blank values kept, undecodable escapes left as they are) without building that MultiDict."""
    if not query_string:
        return {}
    grouped: dict[str, list[str]] = {}
    if query_string.isascii() and "%" not in query_string and "+" not in query_string:
        # What parse_qsl answers when there is nothing to decode (the usual query), without its generality.
        for pair in query_string.split("&"):
            if pair:
                key, _, value = pair.partition("=")
                grouped.setdefault(key, []).append(value)
        return parse_query(grouped)
    for key, value in parse_qsl(query_string.encode("latin1").decode(), keep_blank_values=True,
                                errors="werkzeug.url_quote"):
        grouped.setdefault(key, []).append(value)
    return parse_query(grouped)


def parse_query(grouped: dict[str, list[str]]) -> dict[str, Any]:
    """Query values grouped by raw key, like express's ``qs``: repeated keys and ``a[]`` give lists, ``a[b]``
    nests, ``a[0]`` indexes."""
    out: dict[str, Any] = {}
    nested: set[str] = set()
    for raw_key, values in grouped.items():
        if "[" not in raw_key:  # the usual key: its value, or its values when repeated
            out[raw_key] = values if len(values) > 1 else values[0]
            continue
        key = raw_key
        as_list = False
        if key.endswith("[]"):
            key, as_list = key[:-2], True
        value: Any = values if (as_list or len(values) > 1) else values[0]
        if "[" in key and key.endswith("]"):
            head, _, rest = key.partition("[")
            node = out.setdefault(head, {})
            nested.add(head)
            parts = rest[:-1].split("][")
            if len(parts) > QS_DEPTH:
                parts = parts[:QS_DEPTH] + ["[" + "][".join(parts[QS_DEPTH:]) + "]"]
            if not isinstance(node, dict):
                continue
            for part in parts[:-1]:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    break
            else:
                node[parts[-1]] = value
            continue
        out[key] = value
    for head in nested:
        out[head] = _qs_arrays(out[head])
    return out
