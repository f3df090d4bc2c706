"""Security events of the audit trail: collection ``auditTrail`` (lib ``generic-auditTrail``).

One flat document per event (README "Audit trail" has the table): ``event`` (what), ``at`` (when),
``actor``/``userId``/``login`` (who), ``ip``/``userAgent`` (from where), ``deviceId`` (which device),
``keyId`` (the secret id or static key's device a key event is about), ``requestId`` (the access log's
X-Request-Id), ``method``/``path``/``group`` (the route), ``details`` (event specifics, never a
credential). A TTL index drops an event at ``expires`` (``generic-audit.retentionDays`` after ``at``).
"""
from __future__ import annotations

from datetime import datetime

from core import BaseModel


class AuditEventModel(BaseModel):
    identity = "generic-auditEvent-model"
    version = "1.0"
    collection_name = "auditTrail"
    data = {
        "event": {"type": str, "required": True},
        "at": {"type": datetime, "required": True, "index": True},
        "actor": {"type": str},
        "userId": {"type": str, "index": True, "sparse": True},
        "login": {"type": str},
        "deviceId": {"type": str, "index": True, "sparse": True},
        "keyId": {"type": str},
        "ip": {"type": str},
        "userAgent": {"type": str},
        "requestId": {"type": str},
        "method": {"type": str},
        "path": {"type": str},
        "group": {"type": str},
        "details": {"type": dict},
        "expires": {"type": datetime, "required": True, "index": True, "indexOptions": {"expireAfterSeconds": 0}},
    }
    compound_indexes = [{"fields": [{"event": 1}, {"at": -1}], "name": "eventAt"}]
