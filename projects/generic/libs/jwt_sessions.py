"""Issues JWT sessions and rotates their refresh tokens (``generic-jwtSessions``).

``issue(account, username, groups)`` answers ``{tokenType, accessToken, expiresIn, refreshToken,
refreshExpiresIn}``. ``refresh(token)`` trades a refresh token for a new pair *once*: the token is
marked ``used`` with one atomic ``find_one_and_update``, so two workers can never both rotate it.
Presenting a used (or revoked) token again means it was copied: the whole family (every token
rotated from the same login) is revoked, the thief's and the owner's alike, and both must log in
again (401 ``RefreshTokenReused``). ``revoke(token)`` is logout. Access tokens stay stateless and
short-lived (``accessTokenLifetime``); a revoked family stops at the next refresh.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument

from core import Lib, MiaError, Shared

log = logging.getLogger("mia.generic.jwt")
T = "generic-translations"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _refused(code: str, translator: Any = None) -> MiaError:
    msg = translator(T, code) if translator is not None else None
    return MiaError(401, code=code, msg=msg)


class JwtSessions(Lib):
    identity = "generic-jwtSessions"
    version = "1.0"

    @staticmethod
    def _tokens() -> Any:
        return Shared.models("generic-refreshToken-model").collection()

    def issue(self, account: str | None, username: str, groups: Iterable[str] = (),
              family: str | None = None) -> dict[str, Any]:
        """A new access token and refresh token; ``family`` continues a rotation chain."""
        keys = Shared.libs("generic-jwtKeys")
        conf, _ = keys.config()
        groups = [str(g) for g in groups]
        access, seconds = keys.sign({"sub": username, "account": account, "groups": groups})
        refresh = secrets.token_urlsafe(32)
        refresh_seconds = int(conf.get("refreshTokenLifetime") or 30 * 24 * 3600)
        now = datetime.now(UTC)
        self._tokens().insert_one({
            "_id": _digest(refresh), "family": family or secrets.token_hex(12), "account": account,
            "username": username, "groups": groups, "status": "active", "created": now,
            "expires": now + timedelta(seconds=refresh_seconds)})
        return {"tokenType": "Bearer", "accessToken": access, "expiresIn": seconds, "refreshToken": refresh,
                "refreshExpiresIn": refresh_seconds}

    def refresh(self, token: str, translator: Any = None) -> dict[str, Any]:
        """Rotate ``token``: a new pair in the same family; reuse revokes the family (401)."""
        digest, now = _digest(str(token)), datetime.now(UTC)
        tokens = self._tokens()
        doc = tokens.find_one_and_update({"_id": digest, "status": "active"},
                                         {"$set": {"status": "used", "used": now}},
                                         return_document=ReturnDocument.BEFORE)
        if doc is None:
            known = tokens.find_one({"_id": digest})
            if known is None or _aware(known["expires"]) <= now:
                raise _refused("RefreshTokenInvalid", translator)
            revoked = tokens.update_many({"family": known["family"]},
                                         {"$set": {"status": "revoked", "revoked": now}})
            log.warning("refresh token reused for %s: family %s revoked (%d tokens)", known.get("username"),
                        known["family"], revoked.modified_count)
            Shared.libs("generic-auditTrail").record("token.reuse", login=known.get("username"), family=known["family"])
            raise _refused("RefreshTokenReused", translator)
        if _aware(doc["expires"]) <= now:
            raise _refused("RefreshTokenExpired", translator)
        return self.issue(doc.get("account"), doc["username"], doc.get("groups") or [], family=doc["family"])

    def revoke(self, token: str) -> bool:
        """Logout: revoke the family of ``token``; False when the token is unknown."""
        known = self._tokens().find_one({"_id": _digest(str(token))})
        if known is None:
            return False
        self._tokens().update_many({"family": known["family"]}, {"$set": {"status": "revoked"}})
        return True
