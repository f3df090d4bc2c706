"""JWT login for the demo's users (``demo-jwtLogin``), and ``demo-me``, a route only a session reaches.

The users are generic-users accounts of the group ``demo`` (sign up through ``/demo-auth/v1/users/me``).
``account`` (the tenant id) is the user's group; the session's groups come from ``demo-config.jwtGroups``
(default ``["users"]``). The login is guarded like every login path (generic-loginProtection: lockout,
the failed-login log line), and its sessions end with the account's (password change, reset,
deletion, device removal, logout everywhere: generic-jwtSessions).
"""
from __future__ import annotations

from typing import Any

from core import Controller, MiaError, Shared

T = "generic-translations"


class JwtLogin(Controller):
    identity = "demo-jwtLogin"
    version = "1.0"
    group = "demo"
    preconditions = {
        "login": {
            "parameters": {"body": {
                "login": {"type": str, "required": True, "minLength": 1, "maxLength": 200, "desc": "Login name"},
                "password": {"type": str, "required": True, "minLength": 1, "maxLength": 200, "desc": "Password"},
            }},
            "responses": {200: "Success", 401: "InvalidCredentials", 429: "TooManyFailedLogins",
                          503: "ServerBusy"},
        },
        "me": {"responses": {200: "Success"}},
    }

    def login(self, req: Any, res: Any) -> None:
        body = req.mia.validated_parameters["body"]
        group = req.mia.route.group
        passwords = Shared.libs("generic-passwords")
        guard = Shared.libs("generic-loginProtection").guard(group, body["login"], req.mia.client_ip)
        with Shared.libs("generic-identityErrors").localised(req), guard:
            user = Shared.models("generic-user-model").find_one({"login": body["login"], "group": group,
                                                                 "status": "active"})
            if user is None:
                passwords.burn(body["password"])  # as slow as a wrong password: logins cannot be probed
                ok = False
            else:
                salt = str(Shared.config("generic-identity.userService.salt") or "")
                ok, _ = passwords.verify(user.get("passHash"), body["password"], group, salt)
            if not ok:
                Shared.libs("generic-auditTrail").record("login.failure", req, login=body["login"], via="jwt")
                raise MiaError(401, code="InvalidCredentials", msg=req.mia.translator(T, "InvalidCredentials"))
        table = Shared.config("demo-config.jwtGroups") or {}
        groups = table.get(user["login"], table.get("*", ["users"]))
        res.response = Shared.libs("generic-jwtSessions").issue(group, user["login"], groups, user_id=user["_id"],
                                                                epoch=int(user.get("sessionEpoch") or 0))
        Shared.libs("generic-auditTrail").record("login.success", req, userId=user["_id"], login=user["login"])

    def me(self, req: Any, res: Any) -> None:
        session = dict(req.mia.session or {})
        session.pop("token", None)
        res.response = session
