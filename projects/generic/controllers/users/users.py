"""generic-users: sign-up, login, logout, password reset, profile, account deletion (spec §3.2).

Each function is chosen in a route with ``"function": ...`` and usually follows
generic-validateAccessKey (the device is the login's anchor). Settings come from
``req.mia.user_service`` (mia.js's ``req.miajs.userService``), a dict a project controller may
fill before: ``group``, ``appId``, ``options`` (maxDeviceCount, loginOnSignUp, salt),
``userProfileModel``, ``userProfileData``, ``data`` (sign-up overrides), and for third-party
logins ``thirdPartyLogin``, ``email``, ``onCreate``/``onMerge``. Responses never contain a password
hash or a token: reset, validate and invalidate tokens reach later controllers only through
``req.mia.user_data`` (for example to send them by mail).
"""
from __future__ import annotations

from typing import Any

from core import Controller, MiaError, Shared

LOGIN = {"type": str, "required": True, "convert": "lower"}
PASSWORD = {"type": str, "required": True}
TOKEN = {"token": {"type": str, "required": True}}


def _manager() -> Any:
    return Shared.libs("generic-userAuthManager")


def _errors() -> Any:
    return Shared.libs("generic-identityErrors")


def _protection() -> Any:
    return Shared.libs("generic-loginProtection")


def user_service(req: Any) -> dict[str, Any]:
    """``req.mia.user_service``, created on first use."""
    service = getattr(req.mia, "user_service", None)
    if not isinstance(service, dict):
        service = req.mia.user_service = {}
    return service


def group_and_app(req: Any) -> tuple[Any, Any]:
    service, route = user_service(req), req.mia.route
    group = service.get("group") or (route.group if route else None)
    return group, service.get("appId") or (route.group if route else None)


def _body(req: Any) -> dict[str, Any]:
    return req.mia.validated_parameters.get("body") or {}


def _own_device(req: Any) -> dict[str, Any]:
    """The verified device, which must have signed with the app secret: 403 for a shared static key.

    A static key is one value that many clients may hold (it is seeded, shipped in apps, shared):
    a user login on it would be shared by all of them, so sign-up and login need a signed request.
    """
    device = _need(req.mia.device)
    if (getattr(req.mia, "access_key_parameters", None) or {}).get("static"):
        raise _errors().error(req, 403, "StaticKeyCannotLogin")
    return device


def _need(value: Any) -> Any:
    if not value:
        raise MiaError(500)
    return value


def _etag_value(header: Any) -> str | None:
    """An ETag as sent back by clients: quoted or not, weak or not (we send it raw, as mia.js)."""
    if not isinstance(header, str) or not header.strip():
        return None
    value = header.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


class Users(Controller):
    identity = "generic-users"
    version = "1.0"
    group = "generic"
    preconditions = {
        "setParametersForSignup": {
            "parameters": {"body": {"login": LOGIN, "email": {"type": str, "convert": "lower"}, "password": PASSWORD,
                                    "deviceName": {"type": str}}},
            "responses": {200: "Success"},
        },
        "signUp": {"responses": {400: ["InvalidEmailAddress", "PasswordPolicy"], 401: "LoginAlreadyExists",
                                 403: "StaticKeyCannotLogin"}},
        "login": {
            "parameters": {"body": {"login": LOGIN, "password": PASSWORD, "deviceName": {"type": str}}},
            "responses": {401: "InvalidCredentials", 403: "StaticKeyCannotLogin", 429: "TooManyFailedLogins"},
        },
        "logoutEverywhere": {"responses": {200: "Success"}},
        "removeDevice": {"parameters": {"path": {"deviceId": {"type": str, "required": True, "maxLength": 64}}},
                         "responses": {200: "Success"}},
        "requestPasswordReset": {"parameters": {"body": {"login": LOGIN}}, "responses": {200: "Success"}},
        "resetPassword": {
            "parameters": {"body": {**TOKEN, "password": PASSWORD}},
            "responses": {400: "PasswordPolicy",
                          401: ["WrongOrMissingRequestParameter", "InvalidPasswordResetToken", "TokenExpired"],
                          429: "TooManyFailedLogins"},
        },
        "getProfile": {"parameters": {"header": {"if-none-match": {"type": str}}}, "responses": {304: "NotModified"}},
        "updateProfile": {
            "parameters": {"header": {"if-match": {"type": str, "required": True}},
                           "body": {"login": {"type": str, "convert": "lower"},
                                    "email": {"type": str, "convert": "lower"}, "password": {"type": str}}},
            "responses": {400: "PasswordPolicy", 401: "LoginAlreadyExists", 412: "PreconditionFailedETag"},
        },
        "updateProfileInternal": {
            "parameters": {"body": {"login": {"type": str, "convert": "lower"},
                                    "email": {"type": str, "convert": "lower"}, "password": {"type": str}}},
            "responses": {400: "PasswordPolicy", 401: "LoginAlreadyExists", 412: "PreconditionFailedETag"},
        },
        "validateUser": {"parameters": {"body": TOKEN}, "responses": {401: ["InvalidValidationToken", "TokenExpired"]}},
        "invalidateUser": {"parameters": {"body": TOKEN},
                           "responses": {401: ["InvalidInvalidationToken", "TokenExpired"]}},
        "loginUserWithFacebook": {"responses": {401: "EmailAddressIsNotValidated"}},
    }

    # -- helpers ----------------------------------------------------------------------------------
    @staticmethod
    def respond(req: Any, res: Any, user: dict[str, Any]) -> None:
        """The account response (``getUserAccountResponse``) and its raw ``ETag`` header."""
        req.mia.user_data = user
        res.response = _manager().get_user_account_response(user, group_and_app(req)[1])
        if user.get("etag"):
            res.headers["ETag"] = user["etag"]

    @staticmethod
    def options(req: Any) -> dict[str, Any]:
        return _manager().options(user_service(req).get("options"))

    # -- sign-up and login ---------------------------------------------------------------------------
    def setParametersForSignup(self, req: Any, res: Any) -> None:
        device = _own_device(req)
        service = user_service(req)
        data = {**_body(req), **(service.get("data") or {})}
        group, app_id = group_and_app(req)
        service["signupParams"] = {
            "group": group, "appId": app_id, "login": data.get("login"),
            "email": data.get("email") or data.get("login"),
            "password": data.get("password"), "nativeLoginIsSet": True, "deviceName": data.get("deviceName"),
            "deviceId": device["id"], "userProfileData": service.get("userProfileData"),
            "userProfileModel": service.get("userProfileModel"), "options": self.options(req)}

    def signUp(self, req: Any, res: Any) -> None:
        _own_device(req)
        params = _need(user_service(req).get("signupParams"))
        with _errors().localised(req):
            user = _manager().sign_up_user(params)
        Shared.libs("generic-auditTrail").record("user.signup", req, userId=user.get("_id"), login=user.get("login"))
        self.respond(req, res, user)

    def login(self, req: Any, res: Any) -> None:
        """401 InvalidCredentials; 429 TooManyFailedLogins while the login or the client IP is locked."""
        device = _own_device(req)
        body = _body(req)
        group, app_id = group_and_app(req)
        with _errors().localised(req), _protection().guard(group, body.get("login"), req.mia.client_ip):
            user = _manager().login_user({"group": group, "appId": app_id, "login": body.get("login"),
                                          "password": body.get("password"), "deviceName": body.get("deviceName"),
                                          "deviceId": device["id"], "options": self.options(req)})
            if user is None:
                Shared.libs("generic-auditTrail").record("login.failure", req, login=body.get("login"))
                raise MiaError(401, code="InvalidCredentials")
        Shared.libs("generic-auditTrail").record("login.success", req, userId=user.get("_id"), login=user.get("login"))
        user_service(req)["loginStatus"] = "created"
        self.respond(req, res, user)

    def logout(self, req: Any, res: Any) -> None:
        """Always 200: afterwards no user is logged in on this device for the appId."""
        device = _need(req.mia.device)
        _manager().logout_any_user_from_device(device["id"], group_and_app(req)[1])
        Shared.libs("generic-auditTrail").record("session.revoke", req, reason="logout")

    def logoutEverywhere(self, req: Any, res: Any) -> None:
        """Every session of the logged-in user ends: device logins (this one too), JWTs, refresh tokens."""
        _manager().logout_everywhere(_need(req.mia.user_data)["_id"])
        Shared.libs("generic-auditTrail").record("session.revoke", req, reason="logout everywhere")

    def removeDevice(self, req: Any, res: Any) -> None:
        """Take a device off the account: its login and every JWT and refresh token of the account end;
        the calling device stays logged in (unless it removed itself)."""
        user_data = _need(req.mia.user_data)
        device_id = req.mia.validated_parameters["path"]["deviceId"]
        _manager().remove_device(user_data["_id"], device_id, group_and_app(req)[1], (req.mia.device or {}).get("id"))
        Shared.libs("generic-auditTrail").record("device.remove", req, deviceId=device_id, reason="removed by its user")

    def setParametersForFbLogin(self, req: Any, res: Any) -> None:
        service = user_service(req)
        group, app_id = group_and_app(req)
        device = req.mia.device or {}
        service["fbLoginParams"] = {
            "group": group, "appId": app_id, "deviceId": device.get("id"), "deviceName": service.get("deviceName"),
            "userProfileModel": service.get("userProfileModel"), "options": self.options(req),
            "thirdPartyLogin": service.get("thirdPartyLogin"), "email": service.get("email"),
            "onCreate": service.get("onCreate") or {}, "onMerge": service.get("onMerge") or {}}

    def loginUserWithFacebook(self, req: Any, res: Any) -> None:
        _own_device(req)
        params = _need(user_service(req).get("fbLoginParams"))
        _need(params.get("thirdPartyLogin"))
        with _errors().localised(req):
            user, status = _manager().signup_with_third_party_provider(params)
        user_service(req)["loginStatus"] = status
        self.respond(req, res, user)

    # -- tokens ------------------------------------------------------------------------------------------
    def requestPasswordReset(self, req: Any, res: Any) -> None:
        """Always 200, so nobody learns whether a login exists; the token goes to req.mia.user_data."""
        group = group_and_app(req)[0]
        user = _manager().get_password_reset_token(_body(req).get("login"), group)
        Shared.libs("generic-auditTrail").record("password.resetRequested", req, login=_body(req).get("login"))
        if user is not None:
            req.mia.user_data = user

    def resetPassword(self, req: Any, res: Any) -> None:
        """Guarded like a login (a token is a guess too): per client IP, 429 TooManyFailedLogins."""
        body = _body(req)
        with _errors().localised(req):
            try:
                with _protection().guard(group_and_app(req)[0], None, req.mia.client_ip, "password reset"):
                    _manager().reset_password(body.get("token"), body.get("password"), self.options(req))
                Shared.libs("generic-auditTrail").record("password.reset", req)
            except MiaError as err:
                if err.status == 401:
                    err.headers.update(_errors().credentials_realm(req))
                raise

    def validateUser(self, req: Any, res: Any) -> None:
        with _errors().localised(req):
            try:
                req.mia.user_data = _manager().validate_user(_body(req).get("token"))
            except MiaError as err:
                err.headers.update(_errors().credentials_realm(req))
                raise

    def invalidateUser(self, req: Any, res: Any) -> None:
        with _errors().localised(req):
            try:
                req.mia.user_data = _manager().invalidate_user(_body(req).get("token"))
            except MiaError as err:
                err.headers.update(_errors().credentials_realm(req))
                raise

    # -- profile -----------------------------------------------------------------------------------------
    def getProfile(self, req: Any, res: Any) -> None:
        """The account; 304 without a body when ``If-None-Match`` names the current ETag."""
        user_data = _need(req.mia.user_data)
        user = _need(_manager().get_user_data_ensuring_etag(user_data["_id"]))
        wanted = _etag_value((req.mia.validated_parameters.get("header") or {}).get("if-none-match"))
        if wanted is not None and wanted == user.get("etag"):
            req.mia.user_data = user
            res.send(None, 304, headers={"ETag": user["etag"]})
            return
        self.respond(req, res, user)

    def updateProfile(self, req: Any, res: Any) -> None:
        """Change login, email, password or profile data; 412 PreconditionFailedETag on a stale If-Match."""
        etag = _etag_value((req.mia.validated_parameters.get("header") or {}).get("if-match"))
        self._update(req, res, etag)

    def updateProfileInternal(self, req: Any, res: Any) -> None:
        """updateProfile for chained server-side use: the etag comes from ``If-Match`` if sent."""
        self._update(req, res, _etag_value(req.headers.get("If-Match")))

    def _update(self, req: Any, res: Any, etag: str | None) -> None:
        user_data = _need(req.mia.user_data)
        service, body = user_service(req), _body(req)
        params = {"userId": user_data["_id"], "appId": group_and_app(req)[1], "etag": etag,
                  "deviceId": (req.mia.device or {}).get("id"),
                  "ignoreEtag": self.options(req).get("ignoreEtag") is True, "login": body.get("login"),
                  "email": body.get("email"), "password": body.get("password"),
                  "userProfileData": service.get("userProfileData"),
                  "userProfileModel": service.get("userProfileModel")}
        with _errors().localised(req):
            user = _manager().update_user_profile_data(params)
        if body.get("password"):
            Shared.libs("generic-auditTrail").record("password.change", req)
        self.respond(req, res, user)

    def deleteAccount(self, req: Any, res: Any) -> None:
        user_data = _need(req.mia.user_data)
        _need(user_data.get("login") and user_data.get("group"))
        _manager().delete_user(user_data["_id"])
        Shared.libs("generic-auditTrail").record("user.delete", req)

    def getUserAccountResponse(self, req: Any, res: Any) -> None:
        """Writes the account response of ``req.mia.user_data`` (nothing when no user is known)."""
        if req.mia.user_data:
            self.respond(req, res, req.mia.user_data)
