"""User accounts on top of devices (``generic-userAuthManager``, spec §3): the public face.

A device is "logged in" to a user when the user holds an ``accessTokens`` entry for
``(appId, device.id)``; which user a request belongs to is derived from the device that
``generic-validateAccessKey`` verified. Function names follow PEP 8; the manual's camelCase names
are aliases at the bottom of the class. Errors are ``MiaError``s with mia.js's codes (the
controllers translate them).

The work is split by concept; this lib holds the shared helpers and lookups and delegates:
``generic-userAccounts`` (sign-up, third-party accounts, profile changes), ``generic-deviceLogins``
(logging devices in and out under the device limit) and ``generic-accountTokens`` (validate,
invalidate and reset tokens, deletion, revoking every session).

Uniqueness across processes is never checked in code and then written: every active account holds
``nameKeys`` (its login, email and third-party ids, prefixed by group) and ``deviceKeys`` (its
device logins), each under a unique multikey index, so one atomic write either claims a name or a
device or fails with a duplicate key, on MongoDB and on the embedded store alike.

Deliberate differences from mia.js (spec §10): argon2id password hashes (legacy md5 hashes are
verified once and replaced); tokens from ``secrets`` that expire (``generic-identity.tokenLifetimes``);
a password reset logs every device out; at the device limit the oldest login (or one whose device
no longer exists) is evicted; requestPasswordReset never reveals whether a login exists.
"""
from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from core import Lib, Shared
from core.validation.coercion import parse_date

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def _part(identity: str) -> Any:
    return Shared.libs(identity)


class UserAuthManager(Lib):
    identity = "generic-userAuthManager"
    version = "1.0"

    # -- helpers shared by the account libs --------------------------------------------------------
    EMAIL = EMAIL

    @staticmethod
    def users() -> Any:
        return Shared.models("generic-user-model").collection()

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    @staticmethod
    def new_token() -> str:
        """64 hex characters from the OS CSPRNG (mia.js: sha256 of Math.random())."""
        return secrets.token_hex(32)

    @staticmethod
    def new_etag() -> str:
        return secrets.token_hex(16)

    @staticmethod
    def object_id(value: Any) -> Any:
        if isinstance(value, ObjectId):
            return value
        try:
            return ObjectId(str(value))
        except (InvalidId, TypeError):
            return None

    @staticmethod
    def login_filter(group: str, login: str) -> dict[str, Any]:
        return {"group": group, "$or": [{"login": login}, {"messaging.value": login}]}

    @staticmethod
    def device_filter(device_id: str, app_id: str) -> dict[str, Any]:
        return {"accessTokens": {"$elemMatch": {"appId": app_id, "device.id": device_id}}}

    @staticmethod
    def name_keys(user: dict[str, Any]) -> list[str]:
        """The unique claims of an active account: login and emails share one namespace per group."""
        group = user.get("group")
        names = [user.get("login")] + [m.get("value") for m in user.get("messaging") or []]
        keys = [f"name|{group}|{n}" for n in names if n]
        keys += [f"third|{group}|{t.get('provider')}|{t.get('id')}" for t in user.get("thirdParty") or []]
        return list(dict.fromkeys(keys))

    @staticmethod
    def device_key(device_id: Any, app_id: Any) -> str:
        return f"device|{app_id}|{device_id}"

    @staticmethod
    def epoch_filter(user: dict[str, Any]) -> dict[str, Any]:
        """Matches the account only while its ``sessionEpoch`` is still the one read in ``user``."""
        if "sessionEpoch" in user:
            return {"sessionEpoch": user["sessionEpoch"]}
        return {"sessionEpoch": {"$exists": False}}

    def revocation(self, user: dict[str, Any], keep_device: str | None = None,
                   app_id: str | None = None) -> dict[str, Any]:
        """The update that ends every session of ``user`` (apply it with ``epoch_filter(user)``).

        ``sessionEpoch`` goes up: JWTs and refresh tokens carry the epoch they were issued in, device
        logins are stamped with it, so everything issued before is refused from now on. The login of
        ``keep_device`` (the device that asked, e.g. for a password change) stays, re-stamped.
        """
        epoch = int(user.get("sessionEpoch") or 0) + 1
        kept = [{**t, "epoch": epoch} for t in user.get("accessTokens") or []
                if keep_device and (t.get("device") or {}).get("id") == keep_device and t.get("appId") == app_id]
        update: dict[str, Any] = {"$set": {
            "sessionEpoch": epoch, "accessTokens": kept,
            "deviceCounts": [{"appId": app_id, "deviceCount": len(kept)}] if kept else []}}
        if kept:
            update["$set"]["deviceKeys"] = [self.device_key(keep_device, app_id)]
        else:
            update["$unset"] = {"deviceKeys": ""}
        return update

    @staticmethod
    def revoke_jwt_sessions(user_id: Any) -> None:
        """Mark the account's refresh tokens revoked too (the epoch check refuses them anyway)."""
        Shared.libs("generic-jwtSessions").revoke_account(user_id)

    def find_account(self, group: str, names: list[str]) -> dict[str, Any] | None:
        """The account holding one of ``names`` as login or email, an active one first."""
        query = {"group": group, "$or": [{"login": {"$in": names}}, {"messaging.value": {"$in": names}}]}
        return self.users().find_one({**query, "status": "active"}) or self.users().find_one(query)

    # -- settings -------------------------------------------------------------------------------
    @staticmethod
    def options(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Config defaults (``generic-identity.userService``) with per-request ``options`` on top."""
        return {**(Shared.config("generic-identity.userService") or {}), **(overrides or {})}

    def expired(self, issued: Any, kind: str) -> bool:
        lifetime = (Shared.config("generic-identity.tokenLifetimes") or {}).get(kind)
        if not lifetime:
            return False
        moment = parse_date(issued)
        return moment is None or self.now() - moment > timedelta(seconds=int(lifetime))

    @staticmethod
    def passwords() -> Any:
        return Shared.libs("generic-passwords")

    @staticmethod
    def protection() -> Any:
        return Shared.libs("generic-loginProtection")

    def hash_credentials(self, group: str, password: str, options: dict[str, Any] | None = None) -> str:
        """An argon2id hash (per-user salt); ``group`` and ``options`` only matter for legacy hashes."""
        return self.passwords().hash(password)

    # -- lookups ----------------------------------------------------------------------------------
    def get_user_data_by_id(self, user_id: Any) -> dict[str, Any] | None:
        oid = self.object_id(user_id)
        return self.users().find_one({"_id": oid}) if oid is not None else None

    def get_user_data_by_email_and_group(self, email: str, group: str) -> dict[str, Any] | None:
        return self.users().find_one({"group": group, "messaging.value": email})

    def get_devices_user_is_logged_in_on(self, user: dict[str, Any]) -> list[dict[str, Any]]:
        ids = [t.get("device", {}).get("id") for t in user.get("accessTokens") or []]
        devices = Shared.models("generic-device-model").collection()
        return list(devices.find({"id": {"$in": [i for i in ids if i]}}))

    def get_devices_user_is_logged_in_on_by_user_id(self, user_id: Any) -> list[dict[str, Any]]:
        user = self.get_user_data_by_id(user_id)
        return self.get_devices_user_is_logged_in_on(user) if user else []

    def is_user_logged_in_on_device_by_login_and_group(self, login: str, group: str, device_id: str,
                                                       app_id: str) -> dict[str, Any] | None:
        return self.users().find_one({**self.login_filter(group, login), **self.device_filter(device_id, app_id)})

    def get_user_logged_in_on_device(self, device_id: str, app_id: str) -> dict[str, Any] | None:
        """The active user holding an unexpired, unrevoked login for this device and appId, or None."""
        user = self.users().find_one({"status": "active", **self.device_filter(device_id, app_id)})
        if user is None or not Shared.libs("generic-userSessions").active_login(user, device_id, app_id):
            return None
        return user

    def get_user_data_ensuring_etag(self, user_id: Any) -> dict[str, Any] | None:
        """The account, given an etag first if it has none (accounts written by older versions)."""
        oid = self.object_id(user_id)
        self.users().update_one({"_id": oid, "etag": {"$exists": False}}, {"$set": {"etag": self.new_etag()}})
        return self.users().find_one({"_id": oid})

    @staticmethod
    def get_user_account_response(user: dict[str, Any], app_id: str) -> dict[str, Any]:
        """What a client may see: id, login, first email, this app's profile. Never hashes or tokens."""
        out: dict[str, Any] = {"userId": str(user.get("_id"))}
        if user.get("nativeLoginIsSet"):
            out["login"] = user.get("login")
        email = next((m for m in user.get("messaging") or [] if m.get("type") == "email"), None)
        if email is not None:
            out["email"] = {"value": email.get("value"), "validated": bool(email.get("validated"))}
        profile = (user.get("profile") or {}).get(app_id)
        if profile is not None:
            out["profile"] = profile
        return out

    # -- delegated: accounts (generic-userAccounts) --------------------------------------------------
    def process_profile_data(self, params: dict[str, Any], partial: bool = False) -> dict[str, Any]:
        return _part("generic-userAccounts").process_profile_data(params, partial)

    def update_user_profile_data(self, params: dict[str, Any]) -> dict[str, Any]:
        return _part("generic-userAccounts").update_user_profile_data(params)

    def prepare_data_for_signup(self, params: dict[str, Any]) -> dict[str, Any]:
        return _part("generic-userAccounts").prepare_data_for_signup(params)

    def sign_up_user(self, params: dict[str, Any]) -> dict[str, Any]:
        return _part("generic-userAccounts").sign_up_user(params)

    def signup_with_third_party_provider(self, params: dict[str, Any]) -> tuple[dict[str, Any], str]:
        return _part("generic-userAccounts").signup_with_third_party_provider(params)

    # -- delegated: device logins (generic-deviceLogins) ---------------------------------------------
    def logout_user_from_device(self, user_id: Any, device_id: str, app_id: str) -> dict[str, Any] | None:
        return _part("generic-deviceLogins").logout_user_from_device(user_id, device_id, app_id)

    def logout_any_user_from_device(self, device_id: str, app_id: str) -> dict[str, Any] | None:
        return _part("generic-deviceLogins").logout_any_user_from_device(device_id, app_id)

    def login_user_core(self, user: dict[str, Any], device_id: str, app_id: str, device_name: str | None = None,
                        options: dict[str, Any] | None = None) -> dict[str, Any]:
        return _part("generic-deviceLogins").login_user_core(user, device_id, app_id, device_name, options)

    def login_user(self, params: dict[str, Any]) -> dict[str, Any] | None:
        return _part("generic-deviceLogins").login_user(params)

    # -- delegated: tokens and revocation (generic-accountTokens) -------------------------------------
    def validate_user(self, token: str) -> dict[str, Any]:
        return _part("generic-accountTokens").validate_user(token)

    def invalidate_user(self, token: str) -> dict[str, Any]:
        return _part("generic-accountTokens").invalidate_user(token)

    def get_password_reset_token(self, login: str, group: str) -> dict[str, Any] | None:
        return _part("generic-accountTokens").get_password_reset_token(login, group)

    def reset_password(self, token: str, new_password: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        return _part("generic-accountTokens").reset_password(token, new_password, options)

    def delete_user(self, user_id: Any) -> bool:
        return bool(_part("generic-accountTokens").delete_user(user_id))

    def logout_everywhere(self, user_id: Any) -> bool:
        return bool(_part("generic-accountTokens").logout_everywhere(user_id))

    def remove_device(self, user_id: Any, device_id: str, app_id: str, keep_device: str | None = None) -> bool:
        return bool(_part("generic-accountTokens").remove_device(user_id, device_id, app_id, keep_device))

    # mia.js names (Generic Libs in the manual)
    getUserDataById = get_user_data_by_id
    getUserDataByEmailAndGroup = get_user_data_by_email_and_group
    getDevicesUserIsLoggedInOn = get_devices_user_is_logged_in_on
    getDevicesUserIsLoggedInOnByUserId = get_devices_user_is_logged_in_on_by_user_id
    isUserLoggedInOnDeviceByLoginAndGroup = is_user_logged_in_on_device_by_login_and_group
    getUserLoggedInOnDevice = get_user_logged_in_on_device
    logoutAnyUserFromDevice = logout_any_user_from_device
    logoutUserFromDevice = logout_user_from_device
    processProfileData = process_profile_data
    updateUserProfileData = update_user_profile_data
    getUserDataEnsuringEtag = get_user_data_ensuring_etag
    hashCredentials = hash_credentials
    getUserAccountResponse = get_user_account_response

    def deleteUser(self, login: str, group: str) -> bool:  # noqa: N802 - the manual's name and inputs
        """The manual's form: the account with ``login`` in ``group`` is deleted (``delete_user`` takes an id)."""
        user = self.users().find_one(self.login_filter(group, login), {"_id": 1})
        return self.delete_user(user["_id"]) if user else False

    prepareDataForSignup = prepare_data_for_signup
    signUpUser = sign_up_user
    signupWithThirdPartyProvider = signup_with_third_party_provider
    validateUser = validate_user
    invalidateUser = invalidate_user
    getPasswordResetToken = get_password_reset_token
    resetPassword = reset_password

    def loginUserCore(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - the manual's name
        """The manual's form, one ``params`` dict: ``userData`` (or ``user``), ``deviceId``, ``appId``,
        ``deviceName``, ``options``."""
        return self.login_user_core(params.get("userData") or params["user"], params["deviceId"], params["appId"],
                                    params.get("deviceName"), params.get("options"))

    loginUser = login_user
    logoutEverywhere = logout_everywhere
    removeDevice = remove_device
