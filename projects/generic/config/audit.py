"""Settings of the audit trail (``generic-auditTrail``, README "Audit trail")."""
from __future__ import annotations

from core import Config


class AuditConfig(Config):
    identity = "generic-audit"
    version = "1.0"

    # Days an event (and a key's known address) is kept; a TTL index removes it afterwards.
    retentionDays = 180
    # Most events one page of GET /audit/v1/events returns.
    maxPage = 1000
