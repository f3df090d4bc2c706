"""The live feed of todo changes (``demo-todoFeed``): the handler of the ``ws`` route ``/demo/v1/live/todos``.

``demo-lib`` broadcasts ``{"event": "created"|"updated"|"deleted", "todo": {...}}`` on every change
(``Shared.ws("/demo/v1/live/todos").broadcast(...)``), from whichever worker or server took the HTTP
request. A client may narrow its own subscription by sending ``{"status": "checked"}`` (only todos
with that status) or ``{"status": null}`` (everything again).
"""
from __future__ import annotations

import json
from typing import Any

from core import Controller


class TodoFeed(Controller):
    identity = "demo-todoFeed"
    version = "1.0"
    group = "demo"

    def on_connect(self, ws: Any, req: Any) -> None:
        """{"event": "welcome", "username"} at once, then {"event": "created"|"updated"|"deleted", "todo": {...}}
        for every todo change; {"event": "filter", "status"} after a filter message."""
        ws.send({"event": "welcome", "username": (ws.session or {}).get("username")})

    def on_message(self, ws: Any, req: Any, message: Any) -> None:
        """{"status": "checked"|"unchecked"} narrows the feed to todos with that status; {"status": null} ends it."""
        try:
            wanted = json.loads(message)
        except (TypeError, ValueError):
            ws.send({"event": "error", "msg": "send JSON like {\"status\": \"checked\"}"})
            return
        status = wanted.get("status") if isinstance(wanted, dict) else None
        ws.filter = None if status is None else (lambda msg: (msg.get("todo") or {}).get("status") == status)
        ws.send({"event": "filter", "status": status})
