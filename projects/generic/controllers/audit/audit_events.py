"""generic-auditEvents: read the audit trail (``list``) and export a time range as JSON lines (``export``).

Put it behind generic-validateAccessKey in a route file whose ``group`` only admin keys open (the
generic routes use the group ``audit``: a static key with ``access.groups: ["audit"]`` or a secret
with ``groups: ["audit"]``). Every export is itself recorded (``audit.export``).
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response

from core import Controller, MiaError, Shared

FILTERS = {
    "event": {"type": str, "maxLength": 100, "desc": "An event name, or a prefix like login.*"},
    "userId": {"type": str, "maxLength": 100}, "deviceId": {"type": str, "maxLength": 100},
    "ip": {"type": str, "maxLength": 64}, "login": {"type": str, "maxLength": 200},
}
RANGE = {"since": {"type": datetime, "required": True, "desc": "Start of the range (ISO 8601, inclusive)"},
         "until": {"type": datetime, "required": True, "desc": "End of the range (ISO 8601, exclusive)"}}


def _aware(moment: Any) -> datetime | None:
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


class AuditEvents(Controller):
    identity = "generic-auditEvents"
    version = "1.0"
    group = "generic"
    preconditions = {
        "list": {"parameters": {"query": {
            **FILTERS, "since": {"type": datetime}, "until": {"type": datetime},
            "limit": {"type": int, "min": 1, "max": 1000, "default": 100},
            "skip": {"type": int, "min": 0, "max": 1000000, "default": 0}}},
            "responses": {200: "Success"}},
    }

    def list(self, req: Any, res: Any) -> None:
        """Events newest first, filtered."""
        q = req.mia.validated_parameters["query"]
        limit = min(q["limit"], int(Shared.config("generic-audit.maxPage") or 1000))
        res.response = Shared.libs("generic-auditTrail").query(
            event=q.get("event"), since=_aware(q.get("since")), until=_aware(q.get("until")),
            user_id=q.get("userId"), device_id=q.get("deviceId"), ip=q.get("ip"), login=q.get("login"),
            limit=limit, skip=q["skip"])



class AuditExport(Controller):
    """The export as its own controller: it answers JSON lines, which the docs read from ``produces``."""

    identity = "generic-auditExport"
    version = "1.0"
    group = "generic"
    produces = "application/x-ndjson"
    preconditions = {"export": {"parameters": {"query": {**RANGE, "event": FILTERS["event"]}},
                                "responses": {200: "Success", 400: "InvalidRange"}}}

    def export(self, req: Any, res: Any) -> None:
        """``[since, until)`` as ``application/x-ndjson``, one event per line, oldest first (streamed)."""
        q = req.mia.validated_parameters["query"]
        since, until = _aware(q["since"]), _aware(q["until"])
        if since is None or until is None or until <= since:
            raise MiaError(400, code="InvalidRange", msg="until must be later than since")
        trail = Shared.libs("generic-auditTrail")
        trail.record("audit.export", req, since=since.isoformat(), until=until.isoformat(), filter=q.get("event"))
        lines = trail.export_lines(since, until, q.get("event"))
        stamp = f"{since:%Y%m%dT%H%M%SZ}-{until:%Y%m%dT%H%M%SZ}"
        res.send(Response(lines, mimetype="application/x-ndjson",
                          headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.jsonl"'}))
