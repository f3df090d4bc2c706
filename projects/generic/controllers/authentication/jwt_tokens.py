"""generic-jwtTokens: trade a refresh token for a new pair (``refresh``), or end the session (``revoke``).

Both read ``refreshToken`` from a JSON body. Issuing the first pair is the login route's job: it
checks the credentials its own way and calls ``Shared.libs("generic-jwtSessions").issue(...)``
(see the demo's ``demo-jwtLogin``), then puts the answer in ``res.response``.
"""
from __future__ import annotations

from typing import Any

from core import Controller, Shared

BODY = {"refreshToken": {"type": str, "required": True, "minLength": 16, "maxLength": 256,
                         "desc": "The refresh token of the last pair"}}


class JwtTokens(Controller):
    identity = "generic-jwtTokens"
    version = "1.0"
    group = "generic"
    preconditions = {
        "refresh": {"parameters": {"body": BODY},
                    "responses": {200: "Success", 401: ["RefreshTokenInvalid", "RefreshTokenExpired",
                                                        "RefreshTokenReused"]}},
        "revoke": {"parameters": {"body": BODY}, "responses": {200: "Success"}},
    }

    def refresh(self, req: Any, res: Any) -> None:
        token = req.mia.validated_parameters["body"]["refreshToken"]
        res.response = Shared.libs("generic-jwtSessions").refresh(token, translator=req.mia.translator)

    def revoke(self, req: Any, res: Any) -> None:
        revoked = Shared.libs("generic-jwtSessions").revoke(req.mia.validated_parameters["body"]["refreshToken"])
        Shared.libs("generic-auditTrail").record("token.revoke", req, known=revoked)
        res.response = {"revoked": True}
