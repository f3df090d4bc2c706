"""Deprecated session flow kept for old clients (spec §5): static access key -> session -> session header.

New projects use generic-validateAccessKey instead: these keys never change and a session only
binds a device to an IP. ``generic-accessKeyService`` checks ``md5(secret + deviceId) + secretId``,
``generic-generateSession`` issues a 64-hex session for that device, ``generic-validateSession``
accepts the ``session`` header (sessions expire after ``generic-identity.tokenLifetimes.session``
seconds unless the device's session is not ``expireable``).
"""
from __future__ import annotations

from typing import Any

from core import Controller, MiaError, Shared

DEVICE_ID = {"id": {"type": str, "minLength": 32, "maxLength": 32, "required": True}}


def _auth() -> Any:
    return Shared.libs("generic-deviceAndSessionAuth")


def _errors() -> Any:
    return Shared.libs("generic-identityErrors")


class AccessKeyService(Controller):
    """Deprecated: validates the static ``md5(secret + deviceId) + secretId`` key of a device."""

    identity = "generic-accessKeyService"
    version = "1.0"
    group = "generic"
    deprecated = True
    preconditions = {"all": {
        "parameters": {"header": {"key": {"type": str, "minLength": 64, "maxLength": 64, "required": True}},
                       "path": DEVICE_ID},
        "responses": {400: "DeviceIdInvalid", 403: ["AccessKeyInvalid", "AccessKeyInvalidGroup"]},
    }}

    def all(self, req: Any, res: Any) -> None:
        params = req.mia.validated_parameters
        route = req.mia.route
        with _errors().localised(req):
            req.mia.allowed_access_groups = _auth().check_access_key(params["path"]["id"], params["header"]["key"],
                                                                     route.group if route else None)


class GenerateSession(Controller):
    """Deprecated: creates a session id for the device (after generic-accessKeyService)."""

    identity = "generic-generateSession"
    version = "1.0"
    group = "generic"
    deprecated = True
    preconditions = {"all": {"parameters": {"path": DEVICE_ID}, "responses": {403: "DeviceIdInvalid"}}}

    def all(self, req: Any, res: Any) -> None:
        route = req.mia.route
        groups = getattr(req.mia, "allowed_access_groups", None) or ([route.group] if route and route.group else [])
        session_id = _auth().generate_session_id(req.mia.validated_parameters["path"]["id"], req.mia.client_ip,
                                                 groups)
        if session_id is None:
            raise MiaError(403, code="DeviceIdInvalid",
                           msg=req.mia.translator("generic-translations", "DeviceIdExpired"))
        res.response = {"sessionId": session_id}


class ValidateSession(Controller):
    """Deprecated: accepts the ``session`` header issued by generic-generateSession."""

    identity = "generic-validateSession"
    authenticates = True  # an idempotent route claims its key after this (core/http/idempotency.py)
    version = "1.0"
    group = "generic"
    deprecated = True
    preconditions = {"all": {
        "parameters": {"header": {"session": {"type": str, "minLength": 64, "maxLength": 64, "required": True},
                                  "date": {"type": "Date"}}},
        "responses": {403: ["NoIPDetermined", "SessionTokenNotValid", "TemporaryDisabled", "SessionInvalidGroup",
                            "IPNotAllowed"]},
    }}

    def all(self, req: Any, res: Any) -> None:
        header = req.mia.validated_parameters.get("header") or {}
        route = req.mia.route
        group = str(route.group or "").lower() if route else None
        with _errors().localised(req):
            device = _auth().validate_session_token(header.get("session"), req.mia.client_ip, group)
        device["timeOffset"] = Shared.libs("generic-accessKeyAuth").time_offset(header.get("date"))
        req.mia.device = device
        req.mia.session = device.get("session")
