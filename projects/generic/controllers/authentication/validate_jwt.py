"""generic-validateJWT: a session from ``Authorization: Bearer <token>`` (miqro's auth.ts, declared).

Put it first in a route's chain (or a ``ws`` route's handshake chain). ``all`` reads the header;
``queryParameters`` also accepts the query parameter ``access_token`` (RFC 6750 section 2.3), which
browsers need for WebSockets because they cannot set headers there. On success
``req.mia.session = {"account", "username", "groups", "token"}`` and ``req.mia.jwt`` holds every
claim; a route's ``policy`` is checked right after this controller (``sets_session``). Failures are
401 with ``WWW-Authenticate: Bearer`` and one of the codes in ``RESPONSES``; the checks themselves
live in ``generic-jwtKeys``. A token of a generic-users account (claim ``uid``) issued before the
account's sessions were ended (password change or reset, deletion, device removal, logout
everywhere: generic-jwtSessions) is 401 ``TokenRevoked``: one look-up of the account by ``_id``.
"""
from __future__ import annotations

from typing import Any

from core import Controller, MiaError, Shared

RESPONSES = {401: ["TokenMissing", "TokenInvalid", "TokenExpired", "TokenNotYetValid", "TokenAudienceInvalid",
                   "TokenIssuerInvalid", "TokenKeyUnknown", "TokenAlgorithmInvalid", "TokenRevoked"]}
QUERY = {"access_token": {"type": str, "maxLength": 8192,
                          "desc": "The access token, for clients that cannot send an Authorization header"}}


def bearer_token(req: Any) -> str | None:
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


class ValidateJWT(Controller):
    identity = "generic-validateJWT"
    version = "1.0"
    group = "generic"
    sets_session = True  # a route's ``policy`` is checked right after this controller
    preconditions = {
        "all": {"responses": RESPONSES},
        "queryParameters": {"parameters": {"query": QUERY}, "responses": RESPONSES},
    }

    def all(self, req: Any, res: Any) -> None:
        self._session(req, bearer_token(req))

    def queryParameters(self, req: Any, res: Any) -> None:
        query = req.mia.validated_parameters.get("query") or {}
        self._session(req, bearer_token(req) or query.get("access_token"))

    @staticmethod
    def _session(req: Any, token: str | None) -> None:
        keys = Shared.libs("generic-jwtKeys")
        if not token:
            raise keys.missing(req)
        claims = keys.verify(req, token)
        if Shared.libs("generic-jwtSessions").is_revoked(claims):
            challenge = keys.missing(req).headers["WWW-Authenticate"] + ', error="invalid_token"'
            raise MiaError(401, code="TokenRevoked", msg=req.mia.translator("generic-translations", "TokenRevoked"),
                           headers={"WWW-Authenticate": challenge})
        req.mia.jwt = claims
        leeway = float(keys.config()[0].get("leeway") or 0)
        req.mia.session_expires = float(claims["exp"]) + leeway  # a WebSocket is closed (1008) then
        groups = claims.get("groups")
        req.mia.session = {"account": claims.get("account"), "username": claims.get("sub"),
                           "groups": [str(g) for g in groups] if isinstance(groups, list) else [],
                           "token": token}
