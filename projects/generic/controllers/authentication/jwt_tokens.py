"""generic-jwtTokens: trade a refresh token for a new pair (``refresh``), end the session (``revoke``), or
end every session of the account (``revokeAll``, after generic-validateJWT).

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
                                                        "RefreshTokenReused", "RefreshTokenRevoked"]}},
        "revoke": {"parameters": {"body": BODY}, "responses": {200: "Success"}},
        "revokeAll": {"responses": {200: "Success"}},
    }

    def refresh(self, req: Any, res: Any) -> None:
        token = req.mia.validated_parameters["body"]["refreshToken"]
        res.response = Shared.libs("generic-jwtSessions").refresh(token, translator=req.mia.translator)

    def revokeAll(self, req: Any, res: Any) -> None:
        """Logout everywhere, after generic-validateJWT: every session of the token's account ends (its
        device logins too); a token without an account (``uid``) revokes its user's refresh tokens."""
        claims = getattr(req.mia, "jwt", None) or {}
        if claims.get("uid") is not None:
            Shared.libs("generic-userAuthManager").logout_everywhere(claims["uid"])
        else:
            Shared.models("generic-refreshToken-model").collection().update_many(
                {"username": claims.get("sub"), "account": claims.get("account")}, {"$set": {"status": "revoked"}})
        res.response = {"revoked": True}

    def revoke(self, req: Any, res: Any) -> None:
        revoked = Shared.libs("generic-jwtSessions").revoke(req.mia.validated_parameters["body"]["refreshToken"])
        Shared.libs("generic-auditTrail").record("token.revoke", req, known=revoked)
        res.response = {"revoked": True}
