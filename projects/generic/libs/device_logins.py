"""Logging devices in and out of user accounts (``generic-deviceLogins``; reached through generic-userAuthManager).

Why each step is one write: several workers and servers log devices in at once. A login takes a
device slot and stores the login in one conditional update (the per-app ``deviceCounts`` counter
below ``maxDeviceCount``, ``$inc`` and ``$push`` together), so ``maxDeviceCount`` is never exceeded.
A device belongs to one user per appId: the login also claims ``device|<appId>|<deviceId>`` in the
account's ``deviceKeys`` (unique multikey index). Logging a device in that another user holds logs
that user out first; if a third login took the device meanwhile, the claim fails with a duplicate
key and the step repeats, so no two accounts ever hold one device (MongoDB and embedded store
alike). A password login only lands on the hash it verified (``passHash`` in the condition), and
every login is stamped with the account's ``sessionEpoch``: a password change or reset that
happens meanwhile makes it worthless (generic-accountTokens).
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from core import Lib, MiaError, Shared
from core.validation.coercion import parse_date

log = logging.getLogger("mia.generic.logins")
ATTEMPTS = 32  # bounded retries when parallel logins of one account compete for its slots


def _m() -> Any:
    return Shared.libs("generic-userAuthManager")


class DeviceLogins(Lib):
    identity = "generic-deviceLogins"
    version = "1.0"

    def logout_user_from_device(self, user_id: Any, device_id: str, app_id: str) -> dict[str, Any] | None:
        """Remove the user's login on this device and count it down, in one write (never below 0)."""
        m = _m()
        users, oid = m.users(), m.object_id(user_id)
        result = users.update_one(
            {"_id": oid, **m.device_filter(device_id, app_id)},
            {"$pull": {"accessTokens": {"appId": app_id, "device.id": device_id},
                       "deviceKeys": m.device_key(device_id, app_id)},
             "$inc": {"deviceCounts.$[count].deviceCount": -1}},
            array_filters=[{"count.appId": app_id, "count.deviceCount": {"$gt": 0}}])
        if not result.modified_count:
            return None
        return users.find_one({"_id": oid})

    def logout_any_user_from_device(self, device_id: str, app_id: str) -> dict[str, Any] | None:
        """Log this device out of whichever user holds it for ``app_id``; returns that user, updated."""
        updated = None
        for user in _m().users().find(_m().device_filter(device_id, app_id), {"_id": 1}):
            updated = self.logout_user_from_device(user["_id"], device_id, app_id) or updated
        return updated

    @staticmethod
    def backfill_keys(user: dict[str, Any]) -> None:
        """Accounts written before the unique keys (or by mia.js) get them on their next login."""
        users, m = _m().users(), _m()
        changes: dict[str, Any] = {}
        if "nameKeys" not in user and user.get("status") == "active":
            changes["nameKeys"] = m.name_keys(user)
        if "deviceKeys" not in user and user.get("accessTokens"):
            changes["deviceKeys"] = list(dict.fromkeys(
                m.device_key((t.get("device") or {}).get("id"), t.get("appId")) for t in user["accessTokens"]))
        for name, value in changes.items():
            try:
                users.update_one({"_id": user["_id"], name: {"$exists": False}}, {"$set": {name: value}})
            except DuplicateKeyError:
                log.warning("account %s shares %s with another account (data written before unique keys)",
                            user["_id"], name)

    def login_user_core(self, user: dict[str, Any], device_id: str, app_id: str, device_name: str | None = None,
                        options: dict[str, Any] | None = None, pass_hash: str | None = None) -> dict[str, Any]:
        """Attach the device to ``user`` under the device limit; the oldest login makes room.

        ``pass_hash``: the hash the password was verified against; the login is refused (401
        InvalidCredentials) when the password changed meanwhile.
        """
        m = _m()
        opts = m.options(options)
        max_count = max(int(opts.get("maxDeviceCount") or 1), 1)
        users, uid, key = m.users(), user["_id"], m.device_key(device_id, app_id)
        self.backfill_keys(user)
        users.update_one({"_id": uid, "deviceCounts.appId": {"$ne": app_id}},
                         {"$push": {"deviceCounts": {"appId": app_id, "deviceCount": 0}}})
        for _attempt in range(max_count + ATTEMPTS):  # each miss means a parallel login got in
            self.logout_any_user_from_device(device_id, app_id)  # its previous user (or this one, logging in again)
            current = users.find_one({"_id": uid, "status": "active"})
            if current is None:
                break
            if pass_hash is not None and current.get("passHash") != pass_hash:
                raise MiaError(401, code="InvalidCredentials")
            issued = m.now()
            entry = {"token": m.new_token(), "appId": app_id, "device": {"id": device_id, "name": device_name},
                     "tokenIssueDate": issued, "lastUsed": issued, "epoch": current.get("sessionEpoch", 0)}
            condition = {"_id": uid, "status": "active", **m.epoch_filter(current), "deviceKeys": {"$ne": key},
                         "accessTokens": {"$not": {"$elemMatch": {"appId": app_id, "device.id": device_id}}},
                         "deviceCounts": {"$elemMatch": {"appId": app_id, "deviceCount": {"$lt": max_count}}}}
            if pass_hash is not None:
                condition["passHash"] = pass_hash
            try:
                done = users.update_one(condition, {"$inc": {"deviceCounts.$[count].deviceCount": 1},
                                                    "$push": {"accessTokens": entry, "deviceKeys": key}},
                                        array_filters=[{"count.appId": app_id}])
            except DuplicateKeyError:
                continue  # another account took this device meanwhile: log it out again
            if done.modified_count:
                return users.find_one({"_id": uid})
            tokens = [t for t in current.get("accessTokens") or [] if t.get("appId") == app_id]
            if any((t.get("device") or {}).get("id") == device_id for t in tokens):
                continue  # logged in on this device by a parallel request meanwhile: log it out, then in again
            counted = next((c.get("deviceCount") for c in current.get("deviceCounts") or []
                            if c.get("appId") == app_id), None)
            if len(tokens) < max_count:
                if counted is not None and counted != len(tokens):
                    # The counter drifted (data from an older version): repair it only if unchanged since read.
                    users.update_one({"_id": uid, "deviceCounts": {"$elemMatch": {"appId": app_id,
                                                                                  "deviceCount": counted}}},
                                     {"$set": {"deviceCounts.$[count].deviceCount": len(tokens)}},
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
        """Check login + password in the group; on success log the device in. None: bad credentials.

        Callers reserve the attempt with generic-loginProtection first (generic-users does).
        """
        m = _m()
        group, login, password = params.get("group"), params.get("login"), params.get("password")
        opts = m.options(params.get("options"))
        match, verified = None, None
        if isinstance(login, str) and login and isinstance(password, str):
            candidates = list(m.users().find({**m.login_filter(group, login), "status": "active",
                                              "nativeLoginIsSet": True}).limit(2))
            if not candidates:  # the same work as a known login: exactly one argon2 verification
                m.passwords().burn(password)
            for user in candidates:
                ok, rehash = m.passwords().verify(user.get("passHash"), password, str(group), str(opts.get("salt")))
                if ok:
                    match, verified = user, user.get("passHash")
                    if rehash:  # legacy md5 or outdated argon2 parameters: store a fresh hash now
                        fresh = m.passwords().hash(password)
                        if m.users().update_one({"_id": user["_id"], "passHash": verified},
                                                {"$set": {"passHash": fresh}}).modified_count:
                            verified = fresh
                    break
        else:
            m.passwords().burn(password)
        if match is None:
            self.logout_any_user_from_device(params.get("deviceId") or "", params.get("appId") or "")
            return None
        try:
            return self.login_user_core(match, params["deviceId"], params["appId"], params.get("deviceName"), opts,
                                        pass_hash=verified)
        except MiaError as err:
            if err.status == 401:
                return None  # the password changed while this login was checked
            raise
