"""The audit trail for admins (README "Audit trail"): group ``audit``, prefix ``/audit/v1``.

Only a key whose groups list ``audit`` opens it: a static key with ``access.groups: ["audit"]`` on its
device, or a signed request with a secret whose ``groups`` hold ``audit``. No seeded key does.
"""

KEY = {"name": "generic-validateAccessKey", "version": "1.0"}
OUT = {"name": "generic-defaultResponse", "version": "1.0"}
AUDIT_EVENT = {
    "id": {"type": "String"}, "event": {"type": "String"}, "at": {"type": "String"},
    "actor": {"type": "String"}, "userId": {"type": "String"}, "login": {"type": "String"},
    "deviceId": {"type": "String"}, "keyId": {"type": "String"}, "ip": {"type": "String"},
    "userAgent": {"type": "String"}, "requestId": {"type": "String"}, "method": {"type": "String"},
    "path": {"type": "String"}, "group": {"type": "String"}, "details": {"type": "Object"},
}

routes = {
    "group": "audit",
    "name": "Audit trail",
    "version": "1.0",
    "prefix": "/audit/v1",
    "routes": {
        "./events": {
            "list": {"identity": "audit-events", "authorization": True,
                     "description": "Security events, newest first (admin keys only)",
                     "controller": [KEY, {"name": "generic-auditEvents", "function": "list"}, OUT],
                     "responseSchemes": {"success": {"status": {"type": "Number"}, "response": [AUDIT_EVENT]}}},
        },
        "./events/export": {
            "get": {"identity": "audit-export", "authorization": True,
                    "description": "The events of [since, until) as JSON lines (application/x-ndjson)",
                    "controller": [KEY, {"name": "generic-auditExport", "function": "export"}]},
        },
    },
}
