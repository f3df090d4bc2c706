"""Account tokens and the end of sessions (``generic-accountTokens``; reached through generic-userAuthManager).

validate / invalidate / password-reset tokens, account deletion, logout everywhere and removing a
device. Why every one of them raises ``sessionEpoch``: JWTs and refresh tokens carry the epoch they
were issued in and device logins are stamped with it, so a password reset, a deletion, a device
removal or a logout everywhere ends every session of the account at once, on every server, even
a stolen refresh token's whole family (generic-jwtSessions refuses an outdated epoch).
"""
from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument

from core import Lib, MiaError, Shared

ATTEMPTS = 5  # a revocation re-reads the account when a login changed it between read and write
STRIPPED = {"accessTokens": [], "deviceCounts": [], "profile": {}, "inspectTokens": {}, "nativeLoginIsSet": False}


def _m() -> Any:
    return Shared.libs("generic-userAuthManager")


class AccountTokens(Lib):
    identity = "generic-accountTokens"
    version = "1.0"

    def validate_user(self, token: str) -> dict[str, Any]:
        users = _m().users()
        user = users.find_one({"messaging.inspectTokens.validateToken.token": token}) if token else None
        if user is None:
            raise MiaError(401, code="InvalidValidationToken")
        entry = next(mm for mm in user["messaging"]
                     if ((mm.get("inspectTokens") or {}).get("validateToken") or {}).get("token") == token)
        if _m().expired(entry["inspectTokens"]["validateToken"].get("tokenIssueDate"), "validate"):
            raise MiaError(401, code="TokenExpired")
        users.update_one({"_id": user["_id"], "messaging.inspectTokens.validateToken.token": token},
                         {"$set": {"messaging.$.validated": True, "validated": True},
                          "$unset": {"messaging.$.inspectTokens.validateToken": ""}})
        return users.find_one({"_id": user["_id"]})

    def invalidate_user(self, token: str) -> dict[str, Any]:
        users = _m().users()
        user = users.find_one({"inspectTokens.invalidateToken.token": token}) if token else None
        if user is None:
            raise MiaError(401, code="InvalidInvalidationToken")
        if _m().expired(user["inspectTokens"]["invalidateToken"].get("tokenIssueDate"), "invalidate"):
            raise MiaError(401, code="TokenExpired")
        users.update_one({"_id": user["_id"]}, {
            "$set": {**STRIPPED, "status": "deleted", "messaging": []}, "$inc": {"sessionEpoch": 1},
            "$unset": {"passHash": "", "nameKeys": "", "deviceKeys": ""}})
        _m().revoke_jwt_sessions(user["_id"])
        return users.find_one({"_id": user["_id"]})

    def get_password_reset_token(self, login: str, group: str) -> dict[str, Any] | None:
        """Store a new reset token on the active account of ``login``; None when there is none."""
        if not login:
            return None
        m = _m()
        return m.users().find_one_and_update(
            {**m.login_filter(group, login), "status": "active"},
            {"$set": {"inspectTokens.passwordResetToken": {"token": m.new_token(), "tokenIssueDate": m.now()}}},
            return_document=ReturnDocument.AFTER)

    def reset_password(self, token: str, new_password: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        """Set a new password with a valid reset token; every session of the account ends in the same write."""
        m = _m()
        users = m.users()
        user = users.find_one({"inspectTokens.passwordResetToken.token": token, "status": "active"}) if token else None
        if user is None:
            raise MiaError(401, code="WrongOrMissingRequestParameter")
        if m.expired(user["inspectTokens"]["passwordResetToken"].get("tokenIssueDate"), "passwordReset"):
            users.update_one({"_id": user["_id"]}, {"$unset": {"inspectTokens.passwordResetToken": ""}})
            raise MiaError(401, code="TokenExpired")
        m.protection().check_password(new_password, user.get("login"),
                                      *[mm.get("value") for mm in user.get("messaging") or []])
        result = users.update_one(
            {"_id": user["_id"], "status": "active", "inspectTokens.passwordResetToken.token": token},
            {"$set": {"passHash": m.passwords().hash(new_password), "etag": m.new_etag(), "accessTokens": [],
                      "deviceCounts": []},
             "$inc": {"sessionEpoch": 1},
             "$unset": {"inspectTokens.passwordResetToken": "", "deviceKeys": ""}})
        if result.matched_count == 0:
            raise MiaError(401, code="InvalidPasswordResetToken")
        m.revoke_jwt_sessions(user["_id"])
        return users.find_one({"_id": user["_id"]})

    def delete_user(self, user_id: Any) -> bool:
        """Mark the account deleted and strip it (the removeUserAccounts cron deletes it for good)."""
        m = _m()
        result = m.users().update_one({"_id": m.object_id(user_id)}, {
            "$set": {**STRIPPED, "status": "deleted", "thirdParty": []}, "$inc": {"sessionEpoch": 1},
            "$unset": {"passHash": "", "nameKeys": "", "deviceKeys": ""}})
        m.revoke_jwt_sessions(user_id)
        return result.matched_count == 1

    def revoke_all(self, user_id: Any, keep_device: str | None = None, app_id: str | None = None) -> bool:
        """End every session of the account except the login of ``keep_device`` (for ``app_id``)."""
        m = _m()
        oid = m.object_id(user_id)
        for _attempt in range(ATTEMPTS):
            user = m.users().find_one({"_id": oid, "status": "active"})
            if user is None:
                return False
            update = m.revocation(user, keep_device, app_id)
            logins = user["accessTokens"] if "accessTokens" in user else {"$exists": False}
            if m.users().update_one({"_id": oid, **m.epoch_filter(user), "accessTokens": logins},
                                    update).matched_count:
                m.revoke_jwt_sessions(oid)
                return True
        raise MiaError(409, code="Conflict", msg="The account changed meanwhile, try again")

    def logout_everywhere(self, user_id: Any) -> bool:
        """Every device login, JWT and refresh token of the account ends (also this device's)."""
        return self.revoke_all(user_id)

    def remove_device(self, user_id: Any, device_id: str, app_id: str, keep_device: str | None = None) -> bool:
        """Take ``device_id`` off the account: its login ends and so does every other session except
        ``keep_device``'s (a JWT or another login may have been taken from the removed device)."""
        if device_id == keep_device:
            keep_device = None
        return self.revoke_all(user_id, keep_device, app_id)
