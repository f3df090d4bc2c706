"""Lifetimes of user logins on devices (``generic-userSessions``).

Why: a login (an ``accessTokens`` entry of the user, for one device and appId) used to live
forever, so a lost phone or a copied device id stayed logged in. Now a login ends
``generic-identity.loginLifetime.absolute`` seconds after it was issued, or ``idle`` seconds after
its last use (``lastUsed``, written at most every ``touchAfter`` seconds), or when the account's
``sessionEpoch`` moved past the one it was stamped with (generic-accountTokens). An expired login is
refused at request time (``active_login``) and removed; ``remove_expired_logins`` removes all of
them at once, for the cron job ``generic-removeSessions``.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core import Lib, Shared
from core.validation.coercion import parse_date


def _settings() -> dict[str, Any]:
    return Shared.config("generic-identity.loginLifetime") or {}


def _users() -> Any:
    return Shared.models("generic-user-model").collection()


class UserSessions(Lib):
    identity = "generic-userSessions"
    version = "1.0"

    @staticmethod
    def cutoffs(now: datetime | None = None) -> tuple[datetime, datetime]:
        """``(issued_before, used_before)``: a login issued or last used before these has expired."""
        now = now or datetime.now(UTC)
        settings = _settings()
        absolute = int(settings.get("absolute") or 30 * 86400)
        idle = int(settings.get("idle") or absolute)
        return now - timedelta(seconds=absolute), now - timedelta(seconds=idle)

    def is_expired(self, entry: dict[str, Any], now: datetime | None = None) -> bool:
        issued_before, used_before = self.cutoffs(now)
        issued = parse_date(entry.get("tokenIssueDate"))
        used = parse_date(entry.get("lastUsed")) or issued
        return issued is None or issued < issued_before or used is None or used < used_before

    def active_login(self, user: dict[str, Any], device_id: str, app_id: str) -> bool:
        """Whether ``user``'s login on this device is still valid; an expired one is removed, a used one touched."""
        entry = next((t for t in user.get("accessTokens") or []
                      if t.get("appId") == app_id and (t.get("device") or {}).get("id") == device_id), None)
        if entry is None:
            return False
        now = datetime.now(UTC)
        revoked = int(entry.get("epoch") or 0) != int(user.get("sessionEpoch") or 0)  # issued before a revocation
        if revoked or self.is_expired(entry, now):
            Shared.libs("generic-userAuthManager").logout_user_from_device(user["_id"], device_id, app_id)
            return False
        last = parse_date(entry.get("lastUsed")) or parse_date(entry.get("tokenIssueDate"))
        if last is None or (now - last).total_seconds() > int(_settings().get("touchAfter") or 60):
            _users().update_one({"_id": user["_id"]}, {"$set": {"accessTokens.$[login].lastUsed": now}},
                                array_filters=[{"login.appId": app_id, "login.device.id": device_id}])
        return True

    def remove_expired_logins(self, now: datetime | None = None) -> int:
        """Log out every expired login of every user (device counters follow); the number removed."""
        issued_before, used_before = self.cutoffs(now)
        manager = Shared.libs("generic-userAuthManager")
        stale = {"$or": [{"tokenIssueDate": {"$lt": issued_before}}, {"lastUsed": {"$lt": used_before}},
                         {"lastUsed": {"$exists": False}, "tokenIssueDate": {"$lt": used_before}},
                         {"tokenIssueDate": {"$exists": False}}]}
        removed = 0
        for user in _users().find({"accessTokens": {"$elemMatch": stale}}, {"accessTokens": 1}):
            for entry in user.get("accessTokens") or []:
                if self.is_expired(entry, now):
                    device_id, app_id = (entry.get("device") or {}).get("id"), entry.get("appId")
                    if manager.logout_user_from_device(user["_id"], device_id, app_id) is not None:
                        removed += 1
        return removed

    removeExpiredLogins = remove_expired_logins
