"""Accounts: sign-up, third-party accounts and profile changes (``generic-userAccounts``).

Reached through generic-userAuthManager, whose names are the public API. Why the writes look like
this: two processes signing up one email, or logging in one Facebook id for the first time, must
not create two accounts. Every active account claims its names in ``nameKeys`` (``name|<group>|<login
or email>``, ``third|<group>|<provider>|<id>``) under a unique multikey index, so the insert (or
the profile change) that would share a name fails with a duplicate key: 401 LoginAlreadyExists, or
for a third-party login the account that won is logged in. The look-ups before a write only pick
the friendly answer; they never decide uniqueness.
"""
from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from core import Lib, MiaError, Shared
from core.data.models import flatten

DEFAULT_PROFILE_MODEL = "generic-userProfile-model"


def _m() -> Any:
    return Shared.libs("generic-userAuthManager")


def _model(value: Any) -> Any:
    """A profile model given as class or identity."""
    return Shared.models(value) if isinstance(value, str) else value


def _taken() -> MiaError:
    return MiaError(401, code="LoginAlreadyExists")


class UserAccounts(Lib):
    identity = "generic-userAccounts"
    version = "1.0"

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

    def update_user_profile_data(self, params: dict[str, Any]) -> dict[str, Any]:
        """Change login/email/password/profile if the etag still matches (else 412 PreconditionFailedETag).

        A new password ends every other session of the account in the same write (generic-userAuthManager
        ``revocation``); the device that changed it stays logged in.
        """
        m = _m()
        user = m.get_user_data_by_id(params.get("userId"))
        if user is None:
            raise MiaError(412, code="PreconditionFailedETag")
        group, app_id = user["group"], params.get("appId")
        login, email, password = params.get("login"), params.get("email"), params.get("password")
        for value in (login, email):
            if value and value != user.get("login") and m.users().find_one(
                    {**m.login_filter(group, value), "status": "active", "_id": {"$ne": user["_id"]}}, {"_id": 1}):
                raise _taken()
        if email and not m.EMAIL.search(email):
            raise MiaError(400, code="InvalidEmailAddress")
        update: dict[str, Any] = {"$set": {"etag": m.new_etag()}}
        changes = update["$set"]
        for key, value in flatten(self.process_profile_data(params, partial=True)).items():
            changes[f"profile.{app_id}.{key}"] = value
        if login:
            changes.update(login=login, nativeLoginIsSet=True)
        query: dict[str, Any] = {"_id": user["_id"], "status": "active"}
        if password:
            m.protection().check_password(password, login or user.get("login"), email)
            revocation = m.revocation(user, params.get("deviceId"), app_id)
            changes.update(revocation["$set"], passHash=m.passwords().hash(password))
            if "$unset" in revocation:
                update["$unset"] = revocation["$unset"]
            query.update(m.epoch_filter(user))
        messaging = user.get("messaging") or []
        if email and not any(mm.get("value") == email for mm in messaging):
            kept = [mm for mm in messaging if mm.get("type") != "email"]
            changes["messaging"] = kept + [{"type": "email", "value": email, "validated": False, "inspectTokens": {
                "validateToken": {"token": m.new_token(), "tokenIssueDate": m.now()}}}]
            # The account's only email is unvalidated now: a stale ``validated`` would let a third-party
            # login with that address be merged into this account (signup_with_third_party_provider).
            changes["validated"] = False
        if login or "messaging" in changes or "nameKeys" not in user:
            changes["nameKeys"] = m.name_keys({**user, **changes})
            query["nameKeys"] = user["nameKeys"] if "nameKeys" in user else {"$exists": False}
        if not params.get("ignoreEtag"):
            query["$or"] = [{"etag": params.get("etag")}, {"etag": {"$exists": False}}]
        try:
            matched = m.users().update_one(query, update).matched_count
        except DuplicateKeyError:
            raise _taken() from None
        if matched == 0:
            raise MiaError(412, code="PreconditionFailedETag")
        if password:
            m.revoke_jwt_sessions(user["_id"])
        return m.users().find_one({"_id": user["_id"]})

    # -- sign-up ---------------------------------------------------------------------------------------
    def prepare_data_for_signup(self, params: dict[str, Any]) -> dict[str, Any]:
        """Checks before an account is written: required values, email format, profile data."""
        out = dict(params)
        out["profile"] = self.process_profile_data(params)
        if not (params.get("group") and params.get("login") and params.get("password") and params.get("email")):
            raise MiaError(500, code="InternalServerError", msg="Error chaining controllers")
        if not _m().EMAIL.search(str(params["email"])):
            raise MiaError(400, code="InvalidEmailAddress")
        _m().protection().check_password(params["password"], params["login"], params["email"])
        return out

    @staticmethod
    def fresh_account(params: dict[str, Any], native: bool, replaces: dict[str, Any] | None = None) -> dict[str, Any]:
        """A new account document; ``replaces``: the deleted account re-used in place (its login stays)."""
        m = _m()
        now = m.now()
        document: dict[str, Any] = {
            "group": params["group"], "login": params["login"], "status": "active", "nativeLoginIsSet": native,
            "etag": m.new_etag(), "validated": False, "accessTokens": [], "deviceCounts": [], "thirdParty": [],
            "inspectTokens": {"invalidateToken": {"token": m.new_token(), "tokenIssueDate": now}},
            "messaging": [{"type": "email", "value": params["email"], "validated": False,
                           "inspectTokens": {"validateToken": {"token": m.new_token(), "tokenIssueDate": now}}}],
        }
        if params.get("passHash"):
            document["passHash"] = params["passHash"]
        document = Shared.models("generic-user-model").validate(document)
        document["profile"] = {params.get("appId"): params.get("profile") or {}}
        if replaces is not None:  # tokens of the old account stay revoked: its epoch only goes up
            document.update(_id=replaces["_id"], login=replaces["login"])
            document["sessionEpoch"] = int(replaces.get("sessionEpoch") or 0) + 1
        document["thirdParty"] = [dict(t) for t in params.get("thirdParty") or []]
        document["nameKeys"] = m.name_keys(document)
        return document

    @staticmethod
    def _store(document: dict[str, Any], replaces: dict[str, Any] | None) -> None:
        """Insert, or re-initialise a non-active account in place; DuplicateKeyError when a name is taken."""
        users = _m().users()
        if replaces is None:
            document["_id"] = users.insert_one(document).inserted_id
        elif users.replace_one({"_id": replaces["_id"], "status": {"$ne": "active"}}, document).matched_count == 0:
            raise _taken()

    def sign_up_user(self, params: dict[str, Any]) -> dict[str, Any]:
        """Create the account (or re-create a deleted one); 401 LoginAlreadyExists if a name is taken."""
        m = _m()
        data = self.prepare_data_for_signup(params)
        data["passHash"] = m.passwords().hash(data["password"])
        existing = m.find_account(data["group"], list({data["login"], data["email"]}))
        if existing is not None and existing.get("status") == "active":
            raise _taken()
        document = self.fresh_account(data, data.get("nativeLoginIsSet", True) is not False, existing)
        try:
            self._store(document, existing)
        except DuplicateKeyError:
            raise _taken() from None
        if m.options(data.get("options")).get("loginOnSignUp") is True and data.get("deviceId"):
            return m.login_user_core(document, data["deviceId"], data["appId"], data.get("deviceName"),
                                     data.get("options"))
        return document

    def signup_with_third_party_provider(self, params: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """Find, create or merge the account of a third-party login; returns (user, loginStatus)."""
        m = _m()
        third, group, app_id = dict(params.get("thirdPartyLogin") or {}), params.get("group"), params.get("appId")
        match = {"group": group, "status": "active", "thirdParty": {
            "$elemMatch": {"provider": third.get("provider"), "id": third.get("id")}}}
        user, status = m.users().find_one(match), "exists"
        if user is None:
            try:
                user, status = self._first_third_party_login(params, third)
            except DuplicateKeyError:  # another process created or merged it first: that account is the one
                user = m.users().find_one(match)
                if user is None:
                    raise _taken() from None
        user = m.login_user_core(user, params["deviceId"], app_id, params.get("deviceName"), params.get("options"))
        return user, status

    def _first_third_party_login(self, params: dict[str, Any], third: dict[str, Any]) -> tuple[dict[str, Any], str]:
        m = _m()
        group, app_id, email = params.get("group"), params.get("appId"), params.get("email")
        if not email:
            raise MiaError(500, code="InternalServerError", msg="Error chaining controllers")
        key = f"third|{group}|{third.get('provider')}|{third.get('id')}"
        found = m.find_account(group, [email])
        if found is not None and found.get("status") == "active" and any(
                t.get("provider") == third.get("provider") and t.get("id") == third.get("id")
                for t in found.get("thirdParty") or []):
            return found, "exists"  # a concurrent first login of this id created it since the lookup above
        if found is not None and found.get("status") == "active":
            # Only a validated *email* proves the address: a login that merely equals it does not.
            entries = [mm for mm in found.get("messaging") or [] if mm.get("value") == email]
            if not (any(mm.get("validated") for mm in entries) or (bool(entries) and found.get("validated"))):
                raise MiaError(401, code="EmailAddressIsNotValidated")
            merge = (params.get("onMerge") or {}).get("userProfileData")
            changes = {f"profile.{app_id}.{k}": v for k, v in flatten(self.process_profile_data(
                {**params, "userProfileData": merge}, partial=True)).items()}
            update: dict[str, Any] = {"$set": {**changes, "etag": m.new_etag()}, "$push": {"thirdParty": third}}
            if "nameKeys" in found:
                update["$push"]["nameKeys"] = key
            else:
                changes_keys = m.name_keys({**found, "thirdParty": [*(found.get("thirdParty") or []), third]})
                update["$set"]["nameKeys"] = changes_keys
            m.users().update_one({"_id": found["_id"], "status": "active",
                                  "thirdParty": {"$not": {"$elemMatch": {"provider": third.get("provider"),
                                                                         "id": third.get("id")}}}}, update)
            return m.users().find_one({"_id": found["_id"]}), "merged"
        create = (params.get("onCreate") or {}).get("userProfileData")
        profile = self.process_profile_data({**params, "userProfileData": create})
        document = self.fresh_account({"group": group, "login": m.new_token()[:32], "email": email, "appId": app_id,
                                       "profile": profile, "thirdParty": [third]}, native=False, replaces=found)
        self._store(document, found)
        return document, "created"
