"""WebSocket routes in the docs: what a socket carries, and the description section Swagger UI shows.

Swagger UI renders no path-item extensions, so besides ``x-websocket`` on the path item (with
``x-messages``) every ws route is described in the document's ``info.description`` (Markdown):
path, description, authentication, policy and messages.
"""
from __future__ import annotations

import inspect
from typing import Any

from core.startup.routes import RouteMethod


def ws_messages(route: RouteMethod) -> dict[str, str]:
    """What a socket carries: the route's ``messages``, else the handler's docstrings (``on_connect``
    and ``on_message``), else that only broadcasts arrive."""
    if route.messages:
        return dict(route.messages)
    out: dict[str, str] = {}
    handler = route.socket
    hooks = (("send", getattr(handler, "on_connect", None)), ("receive", getattr(handler, "on_message", None)))
    for key, hook in hooks:
        doc = inspect.getdoc(hook) if hook is not None else None
        if doc:
            out[key] = doc
    return out or {"send": "broadcasts to this path (Shared.ws(path).broadcast)"}


def websocket_section(document: dict[str, Any]) -> str:
    """Markdown for ``info.description``: Swagger UI shows no path-item extensions, so each ws route is
    described there too (path, description, authentication, policy, messages)."""
    lines = ["", "", "## WebSocket routes", "",
             "Open with an HTTP `GET` and `Upgrade: websocket`; the handshake runs the route's checks and answers "
             "the JSON error envelope when it refuses. Described in this document as `x-websocket` on each path.",
             ""]
    for path, item in document.get("paths", {}).items():
        operation = item.get("x-websocket")
        if not isinstance(operation, dict):
            continue
        auth = " or ".join(f"`{name}`" for requirement in operation.get("security") or [] for name in requirement)
        lines.append(f"**WS {path}**: {operation.get('summary') or ''}")
        lines.append(f"- auth: {auth or 'none'}" + (f"; policy: groups {', '.join(operation['x-policy']['groups'])} "
                                                    f"({operation['x-policy']['groupPolicy']})"
                                                    if operation.get("x-policy") else ""))
        for key, label in (("send", "server sends"), ("receive", "client may send")):
            text = (operation.get("x-messages") or {}).get(key)
            if text:
                lines.append(f"- {label}: {' '.join(text.split())}")
        lines.append("")
    return "\n".join(lines)
