"""generic-validateAccessKey: every request signs itself with the device's key (spec §1).

Put it first in a route's chain. ``all`` reads the headers ``key``, ``signaturemethod``
(``sha256`` = v1, ``hmac-sha256`` = v2), ``nonce`` (v2) and ``requestdate``;
``queryParameters`` reads the same from the query string (useful only for static keys, because a
signature covers the URL that would contain it). On success ``req.mia.device`` is the device
document and its culture drives translations from here on. Every answer carries the header
``timestamp`` (server time, ms) so a client can correct its clock.
"""
from __future__ import annotations

from typing import Any

from core import Controller, Shared

PARAMETERS = {
    "key": {"type": str, "required": True, "desc": "Authorization access key"},
    "signaturemethod": {"type": str, "allow": ["sha256", "hmac-sha256"], "convert": "lower", "docs": False,
                        "desc": "Authorization access key signature method. Default SHA256 if not set"},
    "nonce": {"type": str, "docs": False, "desc": "One-time value of a hmac-sha256 signature (16-64 characters)"},
    "requestdate": {"type": "Date", "docs": False,
                    "desc": "Date string when client request was initiated i.e. 2015-01-01T00:00:00"},
}
RESPONSES = {
    401: ["KeyInvalid", "KeyExpired", "DeviceIdInvalid", "NonceInvalid", "NonceReused"],
    403: ["KeyInvalidForGroup", "SignatureMethodInvalid", "TemporaryDisabled", "IPNotAllowed"],
    429: ["RateLimitExceededForKey"],
}


class ValidateAccessKey(Controller):
    identity = "generic-validateAccessKey"
    authenticates = True  # an idempotent route claims its key after this (core/http/idempotency.py)
    version = "1.0"
    group = "generic"
    preconditions = {
        "all": {"parameters": {"header": PARAMETERS}, "responses": RESPONSES},
        "headerParameters": {"parameters": {"header": PARAMETERS}, "responses": RESPONSES},
        "queryParameters": {"parameters": {"query": PARAMETERS}, "responses": RESPONSES},
    }

    def all(self, req: Any, res: Any) -> None:
        Shared.libs("generic-accessKeyAuth").validate(req, res, req.mia.validated_parameters.get("header") or {})

    def headerParameters(self, req: Any, res: Any) -> None:
        self.all(req, res)

    def queryParameters(self, req: Any, res: Any) -> None:
        Shared.libs("generic-accessKeyAuth").validate(req, res, req.mia.validated_parameters.get("query") or {})
