"""Issues JWT sessions and rotates their refresh tokens (``generic-jwtSessions``).

``issue(account, username, groups)`` answers ``{tokenType, accessToken, expiresIn, refreshToken,
refreshExpiresIn}``. ``refresh(token)`` trades a refresh token for a new pair *once*: the token is
marked ``used`` with one atomic ``find_one_and_update``, so two workers can never both rotate it.
Presenting a used (or revoked) token again means it was copied: the whole family (every token
rotated from the same login) is revoked, the thief's and the owner's alike, and both must log in
again (401 ``RefreshTokenReused``). ``revoke(token)`` is logout.

A family lives at most ``refreshTokenLifetime`` from its login: rotation keeps the family's first
issue time (``familyStarted``) and never extends it. Sessions of a generic-users account
(``user_id`` given to ``issue``) carry the account's ``sessionEpoch`` (claims ``uid`` and ``sep``,
and in the refresh token): a password change or reset, a deletion, a device removal or a logout
everywhere raises the epoch, and from then on generic-validateJWT answers 401 ``TokenRevoked`` to
every access token and ``refresh`` answers 401 ``RefreshTokenRevoked`` (the family is revoked).
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


def _aware(value: Any) -> datetime:
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

    @staticmethod
    def current_epoch(user_id: Any) -> int | None:
        """The ``sessionEpoch`` of the active generic-users account ``user_id``; None: no such account."""
        oid = Shared.libs("generic-userAuthManager").object_id(user_id)
        user = Shared.models("generic-user-model").collection().find_one(
            {"_id": oid, "status": "active"}, {"sessionEpoch": 1}) if oid is not None else None
        return None if user is None else int(user.get("sessionEpoch") or 0)

    def is_revoked(self, claims: dict[str, Any]) -> bool:
        """Whether an access token of an account was issued before its sessions were ended."""
        if claims.get("uid") is None:
            return False
        epoch = self.current_epoch(claims["uid"])
        return epoch is None or epoch != claims.get("sep")

    def issue(self, account: str | None, username: str, groups: Iterable[str] = (), family: str | None = None,
              user_id: Any = None, epoch: int | None = None, family_started: datetime | None = None
              ) -> dict[str, Any]:
        """A new access token and refresh token; ``family`` continues a rotation chain.

        ``user_id``: the generic-users account of the session, so that ending its sessions ends this
        one; ``epoch`` its ``sessionEpoch`` when the credentials were checked (read now if None).
        """
        keys = Shared.libs("generic-jwtKeys")
        conf, _ = keys.config()
        groups = [str(g) for g in groups]
        claims: dict[str, Any] = {"sub": username, "account": account, "groups": groups}
        if user_id is not None:
            epoch = self.current_epoch(user_id) if epoch is None else int(epoch)
            if epoch is None:
                raise _refused("RefreshTokenRevoked")
            claims.update(uid=str(user_id), sep=epoch)
        access, seconds = keys.sign(claims)
        refresh = secrets.token_urlsafe(32)
        lifetime = timedelta(seconds=int(conf.get("refreshTokenLifetime") or 30 * 24 * 3600))
        now = datetime.now(UTC)
        started = _aware(family_started) if family_started is not None else now
        expires = started + lifetime  # rotation never extends the family's life
        self._tokens().insert_one({
            "_id": _digest(refresh), "family": family or secrets.token_hex(12), "account": account,
            "username": username, "groups": groups, "status": "active", "created": now, "familyStarted": started,
            "expires": expires, "userId": str(user_id) if user_id is not None else None, "epoch": epoch})
        return {"tokenType": "Bearer", "accessToken": access, "expiresIn": seconds, "refreshToken": refresh,
                "refreshExpiresIn": max(0, int((expires - now).total_seconds()))}

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
            if self._outdated(known):  # its account ended every session: not a copy, no alarm
                raise _refused("RefreshTokenRevoked", translator)
            revoked = tokens.update_many({"family": known["family"]},
                                         {"$set": {"status": "revoked", "revoked": now}})
            log.warning("refresh token reused for %s: family %s revoked (%d tokens)", known.get("username"),
                        known["family"], revoked.modified_count)
            Shared.libs("generic-auditTrail").record("token.reuse", login=known.get("username"), family=known["family"])
            raise _refused("RefreshTokenReused", translator)
        if _aware(doc["expires"]) <= now:
            raise _refused("RefreshTokenExpired", translator)
        conf, _ = Shared.libs("generic-jwtKeys").config()
        lifetime = timedelta(seconds=int(conf.get("refreshTokenLifetime") or 30 * 86400))
        # Written before families kept their start: the family ends when this token does.
        started = _aware(doc.get("familyStarted") or (_aware(doc["expires"]) - lifetime))
        if started + lifetime <= now:
            raise _refused("RefreshTokenExpired", translator)
        user_id = doc.get("userId")
        if self._outdated(doc):
            tokens.update_many({"family": doc["family"]}, {"$set": {"status": "revoked", "revoked": now}})
            raise _refused("RefreshTokenRevoked", translator)
        return self.issue(doc.get("account"), doc["username"], doc.get("groups") or [], family=doc["family"],
                          user_id=user_id, epoch=doc.get("epoch"), family_started=started)

    def _outdated(self, doc: dict[str, Any]) -> bool:
        """A refresh token of an account whose sessions were ended after it was issued."""
        return doc.get("userId") is not None and self.current_epoch(doc["userId"]) != doc.get("epoch")

    def revoke_account(self, user_id: Any) -> int:
        """Revoke every refresh token of a generic-users account; the number revoked."""
        result = self._tokens().update_many({"userId": str(user_id), "status": "active"},
                                            {"$set": {"status": "revoked", "revoked": datetime.now(UTC)}})
        return int(result.modified_count)

    def revoke(self, token: str) -> bool:
        """Logout: revoke the family of ``token``; False when the token is unknown."""
        known = self._tokens().find_one({"_id": _digest(str(token))})
        if known is None:
            return False
        self._tokens().update_many({"family": known["family"]}, {"$set": {"status": "revoked"}})
        return True
