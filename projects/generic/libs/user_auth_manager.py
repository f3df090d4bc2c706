"""User accounts on top of devices (``generic-userAuthManager``, spec §3).

A device is "logged in" to a user when the user holds an ``accessTokens`` entry for
``(appId, device.id)``; which user a request belongs to is derived from the device that
``generic-validateAccessKey`` verified. Function names follow PEP 8; the manual's camelCase names
are aliases at the bottom of the class. Errors are ``MiaError``s with mia.js's codes (the
controllers translate them).

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

from core import Lib, MiaError, Shared
from core.data.models import flatten
from core.validation.coercion import parse_date

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
DEFAULT_PROFILE_MODEL = "generic-userProfile-model"


def now_utc() -> datetime:
    return datetime.now(UTC)


def new_token() -> str:
    """64 hex characters from the OS CSPRNG (mia.js: sha256 of Math.random())."""
    return secrets.token_hex(32)


def new_etag() -> str:
    return secrets.token_hex(16)


def _users() -> Any:
    return Shared.models("generic-user-model").collection()


def _object_id(value: Any) -> Any:
    if isinstance(value, ObjectId):
        return value
    try:
        return ObjectId(str(value))
    except (InvalidId, TypeError):
        return None


def _login_filter(group: str, login: str) -> dict[str, Any]:
    return {"group": group, "$or": [{"login": login}, {"messaging.value": login}]}


def _find_account(group: str, names: list[str]) -> dict[str, Any] | None:
    """The account holding one of ``names`` as login or email, an active one first.

    Several documents may match (a deleted account keeps its emails); picking a deleted one while
    an active one also matches would give two active accounts the same email.
    """
    query = {"group": group, "$or": [{"login": {"$in": names}}, {"messaging.value": {"$in": names}}]}
    return _users().find_one({**query, "status": "active"}) or _users().find_one(query)


def _device_filter(device_id: str, app_id: str) -> dict[str, Any]:
    return {"accessTokens": {"$elemMatch": {"appId": app_id, "device.id": device_id}}}


def _model(value: Any) -> Any:
    """A profile model given as class or identity."""
    return Shared.models(value) if isinstance(value, str) else value


class UserAuthManager(Lib):
    identity = "generic-userAuthManager"
    version = "1.0"

    # -- settings -------------------------------------------------------------------------------
    @staticmethod
    def options(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Config defaults (``generic-identity.userService``) with per-request ``options`` on top."""
        return {**(Shared.config("generic-identity.userService") or {}), **(overrides or {})}

    @staticmethod
    def expired(issued: Any, kind: str) -> bool:
        lifetime = (Shared.config("generic-identity.tokenLifetimes") or {}).get(kind)
        if not lifetime:
            return False
        moment = parse_date(issued)
        return moment is None or now_utc() - moment > timedelta(seconds=int(lifetime))

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
        oid = _object_id(user_id)
        return _users().find_one({"_id": oid}) if oid is not None else None

    def get_user_data_by_email_and_group(self, email: str, group: str) -> dict[str, Any] | None:
        return _users().find_one({"group": group, "messaging.value": email})

    def get_devices_user_is_logged_in_on(self, user: dict[str, Any]) -> list[dict[str, Any]]:
        ids = [t.get("device", {}).get("id") for t in user.get("accessTokens") or []]
        devices = Shared.models("generic-device-model").collection()
        return list(devices.find({"id": {"$in": [i for i in ids if i]}}))

    def get_devices_user_is_logged_in_on_by_user_id(self, user_id: Any) -> list[dict[str, Any]]:
        user = self.get_user_data_by_id(user_id)
        return self.get_devices_user_is_logged_in_on(user) if user else []

    def is_user_logged_in_on_device_by_login_and_group(self, login: str, group: str, device_id: str,
                                                       app_id: str) -> dict[str, Any] | None:
        return _users().find_one({**_login_filter(group, login), **_device_filter(device_id, app_id)})

    def get_user_logged_in_on_device(self, device_id: str, app_id: str) -> dict[str, Any] | None:
        """The active user holding an unexpired login for this device and appId, or None."""
        user = _users().find_one({"status": "active", **_device_filter(device_id, app_id)})
        if user is None or not Shared.libs("generic-userSessions").active_login(user, device_id, app_id):
            return None
        return user

    # -- device logins ----------------------------------------------------------------------------
    def logout_user_from_device(self, user_id: Any, device_id: str, app_id: str) -> dict[str, Any] | None:
        """Remove the user's login on this device, then count it down (the counter never goes below 0)."""
        users, oid = _users(), _object_id(user_id)
        result = users.update_one({"_id": oid, **_device_filter(device_id, app_id)},
                                  {"$pull": {"accessTokens": {"appId": app_id, "device.id": device_id}}})
        if not result.modified_count:
            return None
        users.update_one({"_id": oid}, {"$inc": {"deviceCounts.$[count].deviceCount": -1}},
                         array_filters=[{"count.appId": app_id, "count.deviceCount": {"$gt": 0}}])
        return users.find_one({"_id": oid})

    def logout_any_user_from_device(self, device_id: str, app_id: str) -> dict[str, Any] | None:
        """Log this device out of whichever user holds it for ``app_id``; returns that user, updated."""
        updated = None
        for user in _users().find(_device_filter(device_id, app_id), {"_id": 1}):
            updated = self.logout_user_from_device(user["_id"], device_id, app_id) or updated
        return updated

    def login_user_core(self, user: dict[str, Any], device_id: str, app_id: str, device_name: str | None = None,
                        options: dict[str, Any] | None = None) -> dict[str, Any]:
        """Attach the device to ``user`` under the device limit; the oldest login makes room."""
        opts = self.options(options)
        max_count = max(int(opts.get("maxDeviceCount") or 1), 1)
        users, uid = _users(), user["_id"]
        self.logout_any_user_from_device(device_id, app_id)
        users.update_one({"_id": uid, "deviceCounts.appId": {"$ne": app_id}},
                         {"$push": {"deviceCounts": {"appId": app_id, "deviceCount": 0}}})
        issued = now_utc()
        entry = {"token": new_token(), "appId": app_id, "device": {"id": device_id, "name": device_name},
                 "tokenIssueDate": issued, "lastUsed": issued}
        for _attempt in range(max_count + 3):
            # Reserve a slot atomically (only while below the limit), then store the login in it.
            reserved = users.update_one(
                {"_id": uid, "status": "active",
                 "deviceCounts": {"$elemMatch": {"appId": app_id, "deviceCount": {"$lt": max_count}}}},
                {"$inc": {"deviceCounts.$[count].deviceCount": 1}}, array_filters=[{"count.appId": app_id}])
            if reserved.modified_count:
                users.update_one({"_id": uid}, {"$push": {"accessTokens": entry}})
                return users.find_one({"_id": uid})
            current = users.find_one({"_id": uid, "status": "active"})
            if current is None:
                break
            tokens = [t for t in current.get("accessTokens") or [] if t.get("appId") == app_id]
            if len(tokens) < max_count:  # the counter drifted (crash between writes): repair it
                users.update_one({"_id": uid}, {"$set": {"deviceCounts.$[count].deviceCount": len(tokens)}},
                                 array_filters=[{"count.appId": app_id}])
                continue
            victim = self._eviction_candidate(tokens)
            self.logout_user_from_device(uid, victim["device"]["id"], app_id)
        raise MiaError(500, code="CannotRegisterToken")

    @staticmethod
    def _eviction_candidate(tokens: list[dict[str, Any]]) -> dict[str, Any]:
        """A login whose device is gone, else the one issued first."""
        ids = [t.get("device", {}).get("id") for t in tokens]
        devices = Shared.models("generic-device-model").collection()
        existing = {d["id"] for d in devices.find({"id": {"$in": ids}}, {"id": 1})}
        oldest = datetime.min.replace(tzinfo=UTC)
        return min(tokens, key=lambda t: (t.get("device", {}).get("id") in existing,
                                          parse_date(t.get("tokenIssueDate")) or oldest))

    def login_user(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """Check login + password in the group; on success log the device in. None: bad credentials."""
        group, login, password = params.get("group"), params.get("login"), params.get("password")
        opts = self.options(params.get("options"))
        match = None
        if isinstance(login, str) and login and isinstance(password, str):
            candidates = list(_users().find({**_login_filter(group, login), "status": "active",
                                             "nativeLoginIsSet": True}).limit(2))
            if not candidates:  # the same work as a known login: exactly one argon2 verification
                self.passwords().burn(password)
            for user in candidates:
                ok, rehash = self.passwords().verify(user.get("passHash"), password, str(group), str(opts.get("salt")))
                if ok:
                    match = user
                    if rehash:  # legacy md5 or outdated argon2 parameters: store a fresh hash now
                        fresh = self.passwords().hash(password)
                        _users().update_one({"_id": user["_id"]}, {"$set": {"passHash": fresh}})
                    break
        else:
            self.passwords().burn(password)
        if match is None:
            self.logout_any_user_from_device(params.get("deviceId"), params.get("appId"))
            return None
        return self.login_user_core(match, params["deviceId"], params["appId"], params.get("deviceName"), opts)

    # -- profile ------------------------------------------------------------------------------------
    def process_profile_data(self, params: dict[str, Any], partial: bool = False) -> dict[str, Any]:
        """Custom profile data validated by the given model (400 on bad data; the default model refuses it)."""
        data = params.get("userProfileData")
        model = params.get("userProfileModel") or DEFAULT_PROFILE_MODEL
        if not data:
            return {}
        if isinstance(model, str) and model == DEFAULT_PROFILE_MODEL:
            raise MiaError(500, code="ModelExpected")
        return _model(model).validate(data, partial=partial)

    def get_user_data_ensuring_etag(self, user_id: Any) -> dict[str, Any] | None:
        """The account, given an etag first if it has none (accounts written by older versions)."""
        oid = _object_id(user_id)
        users = _users()
        users.update_one({"_id": oid, "etag": {"$exists": False}}, {"$set": {"etag": new_etag()}})
        return users.find_one({"_id": oid})

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

    def _login_taken(self, group: str, value: str, user_id: Any) -> bool:
        return _users().find_one({**_login_filter(group, value), "_id": {"$ne": user_id}}, {"_id": 1}) is not None

    def update_user_profile_data(self, params: dict[str, Any]) -> dict[str, Any]:
        """Change login/email/password/profile if the etag still matches (else 412 PreconditionFailedETag)."""
        user = self.get_user_data_by_id(params.get("userId"))
        if user is None:
            raise MiaError(412, code="PreconditionFailedETag")
        group, app_id = user["group"], params.get("appId")
        login, email, password = params.get("login"), params.get("email"), params.get("password")
        for value in (login, email):
            if value and value not in (user.get("login"),) and self._login_taken(group, value, user["_id"]):
                raise MiaError(401, code="LoginAlreadyExists")
        if email and not EMAIL.search(email):
            raise MiaError(400, code="InvalidEmailAddress")
        changes: dict[str, Any] = {"etag": new_etag()}
        for key, value in flatten(self.process_profile_data(params, partial=True)).items():
            changes[f"profile.{app_id}.{key}"] = value
        if login:
            changes.update(login=login, nativeLoginIsSet=True)
        if password:
            self.protection().check_password(password, login or user.get("login"), email)
            changes["passHash"] = self.passwords().hash(password)
            # A new password ends every other login (a thief's device); the device that changed it stays.
            changes["accessTokens"] = [t for t in user.get("accessTokens") or []
                                       if (t.get("device") or {}).get("id") == params.get("deviceId")
                                       and t.get("appId") == app_id]
            changes["deviceCounts"] = [{"appId": app_id, "deviceCount": len(changes["accessTokens"])}]
        messaging = user.get("messaging") or []
        if email and not any(m.get("value") == email for m in messaging):
            kept = [m for m in messaging if m.get("type") != "email"]
            changes["messaging"] = kept + [{"type": "email", "value": email, "validated": False, "inspectTokens": {
                "validateToken": {"token": new_token(), "tokenIssueDate": now_utc()}}}]
            # The account's only email is unvalidated now: a stale ``validated`` would let a third-party
            # login with that address be merged into this account (signup_with_third_party_provider).
            changes["validated"] = False
        query: dict[str, Any] = {"_id": user["_id"], "status": "active"}
        if not params.get("ignoreEtag"):
            query["$or"] = [{"etag": params.get("etag")}, {"etag": {"$exists": False}}]
        if _users().update_one(query, {"$set": changes}).matched_count == 0:
            raise MiaError(412, code="PreconditionFailedETag")
        return _users().find_one({"_id": user["_id"]})

    # -- sign-up ---------------------------------------------------------------------------------------
    def prepare_data_for_signup(self, params: dict[str, Any]) -> dict[str, Any]:
        """Checks before an account is written: required values, email format, profile data."""
        out = dict(params)
        out["profile"] = self.process_profile_data(params)
        if not (params.get("group") and params.get("login") and params.get("password") and params.get("email")):
            raise MiaError(500, code="InternalServerError", msg="Error chaining controllers")
        if not EMAIL.search(str(params["email"])):
            raise MiaError(400, code="InvalidEmailAddress")
        self.protection().check_password(params["password"], params["login"], params["email"])
        return out

    @staticmethod
    def _fresh_account(params: dict[str, Any], native: bool) -> dict[str, Any]:
        now = now_utc()
        document: dict[str, Any] = {
            "group": params["group"], "login": params["login"], "status": "active", "nativeLoginIsSet": native,
            "etag": new_etag(), "validated": False, "accessTokens": [], "deviceCounts": [], "thirdParty": [],
            "inspectTokens": {"invalidateToken": {"token": new_token(), "tokenIssueDate": now}},
            "messaging": [{"type": "email", "value": params["email"], "validated": False,
                           "inspectTokens": {"validateToken": {"token": new_token(), "tokenIssueDate": now}}}],
        }
        if params.get("passHash"):
            document["passHash"] = params["passHash"]
        document = Shared.models("generic-user-model").validate(document)
        document["profile"] = {params.get("appId"): params.get("profile") or {}}
        return document

    def sign_up_user(self, params: dict[str, Any]) -> dict[str, Any]:
        """Create the account (or re-create a deleted one); 401 LoginAlreadyExists if active."""
        from pymongo.errors import DuplicateKeyError

        data = self.prepare_data_for_signup(params)
        data["passHash"] = self.passwords().hash(data["password"])
        group, names = data["group"], list({data["login"], data["email"]})
        existing = _find_account(group, names)
        if existing is not None and existing.get("status") == "active":
            raise MiaError(401, code="LoginAlreadyExists")
        document = self._fresh_account(data, native=data.get("nativeLoginIsSet", True) is not False)
        try:
            if existing is None:
                document["_id"] = _users().insert_one(document).inserted_id
            else:  # a deleted or inactive account is reinitialised in place; its login stays
                document.update(_id=existing["_id"], login=existing["login"])
                if _users().replace_one({"_id": existing["_id"], "status": {"$ne": "active"}},
                                        document).matched_count == 0:
                    raise MiaError(401, code="LoginAlreadyExists")
        except DuplicateKeyError:
            raise MiaError(401, code="LoginAlreadyExists") from None
        if self.options(data.get("options")).get("loginOnSignUp") is True and data.get("deviceId"):
            return self.login_user_core(document, data["deviceId"], data["appId"], data.get("deviceName"),
                                        data.get("options"))
        return document

    def signup_with_third_party_provider(self, params: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """Find, create or merge the account of a third-party login; returns (user, loginStatus)."""
        third, group, app_id = params.get("thirdPartyLogin") or {}, params.get("group"), params.get("appId")
        email = params.get("email")
        users = _users()
        user = users.find_one({"group": group, "status": "active", "thirdParty": {
            "$elemMatch": {"provider": third.get("provider"), "id": third.get("id")}}})
        status = "exists"
        if user is None:
            if not email:
                raise MiaError(500, code="InternalServerError", msg="Error chaining controllers")
            found = _find_account(group, [email])
            if found is not None and found.get("status") == "active":
                # Only a validated *email* proves the address: a login that merely equals it does not.
                entries = [m for m in found.get("messaging") or [] if m.get("value") == email]
                validated = any(m.get("validated") for m in entries) or (bool(entries) and found.get("validated"))
                if not validated:
                    raise MiaError(401, code="EmailAddressIsNotValidated")
                merge = (params.get("onMerge") or {}).get("userProfileData")
                changes = {f"profile.{app_id}.{k}": v for k, v in flatten(self.process_profile_data(
                    {**params, "userProfileData": merge}, partial=True)).items()}
                users.update_one({"_id": found["_id"]}, {"$set": {**changes, "etag": new_etag()},
                                                         "$push": {"thirdParty": dict(third)}})
                user, status = users.find_one({"_id": found["_id"]}), "merged"
            else:
                create = (params.get("onCreate") or {}).get("userProfileData")
                profile = self.process_profile_data({**params, "userProfileData": create})
                document = self._fresh_account({"group": group, "login": new_token()[:32], "email": email,
                                                "appId": app_id, "profile": profile}, native=False)
                document["thirdParty"] = [dict(third)]
                if found is None:
                    document["_id"] = users.insert_one(document).inserted_id
                else:
                    document.update(_id=found["_id"], login=found["login"])
                    users.replace_one({"_id": found["_id"]}, document)
                user, status = document, "created"
        user = self.login_user_core(user, params["deviceId"], app_id, params.get("deviceName"), params.get("options"))
        return user, status

    # -- tokens --------------------------------------------------------------------------------------
    def validate_user(self, token: str) -> dict[str, Any]:
        users = _users()
        user = users.find_one({"messaging.inspectTokens.validateToken.token": token}) if token else None
        if user is None:
            raise MiaError(401, code="InvalidValidationToken")
        entry = next(m for m in user["messaging"]
                     if ((m.get("inspectTokens") or {}).get("validateToken") or {}).get("token") == token)
        if self.expired(entry["inspectTokens"]["validateToken"].get("tokenIssueDate"), "validate"):
            raise MiaError(401, code="TokenExpired")
        users.update_one({"_id": user["_id"], "messaging.inspectTokens.validateToken.token": token},
                         {"$set": {"messaging.$.validated": True, "validated": True},
                          "$unset": {"messaging.$.inspectTokens.validateToken": ""}})
        return users.find_one({"_id": user["_id"]})

    def invalidate_user(self, token: str) -> dict[str, Any]:
        users = _users()
        user = users.find_one({"inspectTokens.invalidateToken.token": token}) if token else None
        if user is None:
            raise MiaError(401, code="InvalidInvalidationToken")
        if self.expired(user["inspectTokens"]["invalidateToken"].get("tokenIssueDate"), "invalidate"):
            raise MiaError(401, code="TokenExpired")
        users.update_one({"_id": user["_id"]}, {
            "$set": {"status": "deleted", "accessTokens": [], "deviceCounts": [], "profile": {}, "inspectTokens": {},
                     "messaging": [], "nativeLoginIsSet": False},
            "$unset": {"passHash": ""}})
        return users.find_one({"_id": user["_id"]})

    def get_password_reset_token(self, login: str, group: str) -> dict[str, Any] | None:
        """Store a new reset token on the account of ``login`` (any status); None when there is none."""
        from pymongo import ReturnDocument

        if not login:
            return None
        return _users().find_one_and_update(
            _login_filter(group, login),
            {"$set": {"inspectTokens.passwordResetToken": {"token": new_token(), "tokenIssueDate": now_utc()}}},
            return_document=ReturnDocument.AFTER)

    def reset_password(self, token: str, new_password: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        """Set a new password with a valid reset token; every device login of the account ends."""
        users = _users()
        user = users.find_one({"inspectTokens.passwordResetToken.token": token}) if token else None
        if user is None:
            raise MiaError(401, code="WrongOrMissingRequestParameter")
        if self.expired(user["inspectTokens"]["passwordResetToken"].get("tokenIssueDate"), "passwordReset"):
            users.update_one({"_id": user["_id"]}, {"$unset": {"inspectTokens.passwordResetToken": ""}})
            raise MiaError(401, code="TokenExpired")
        self.protection().check_password(new_password, user.get("login"),
                                         *[m.get("value") for m in user.get("messaging") or []])
        result = users.update_one(
            {"_id": user["_id"], "status": "active", "inspectTokens.passwordResetToken.token": token},
            {"$set": {"passHash": self.passwords().hash(new_password), "etag": new_etag(), "accessTokens": [],
                      "deviceCounts": []},
             "$unset": {"inspectTokens.passwordResetToken": ""}})
        if result.matched_count == 0:
            raise MiaError(401, code="InvalidPasswordResetToken")
        return users.find_one({"_id": user["_id"]})

    def delete_user(self, user_id: Any) -> bool:
        """Mark the account deleted and strip it (the removeUserAccounts cron deletes it for good)."""
        result = _users().update_one({"_id": _object_id(user_id)}, {
            "$set": {"status": "deleted", "nativeLoginIsSet": False, "accessTokens": [], "deviceCounts": [],
                     "thirdParty": [], "profile": {}, "inspectTokens": {}},
            "$unset": {"passHash": ""}})
        return result.matched_count == 1

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
        user = _users().find_one(_login_filter(group, login), {"_id": 1})
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
