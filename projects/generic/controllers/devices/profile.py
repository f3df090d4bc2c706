"""generic-deviceProfile: register a device (create) and update its profile (update), spec §2.

``create`` needs no key: it is how an app gets its device id. ``update`` runs behind
generic-validateAccessKey and may only change the device that signed the request.
"""
from __future__ import annotations

import time
from typing import Any

from core import Controller, MiaError, Shared

VERSION_PATTERN = r"^([\d]{1,3}\.)?([\d]{1,3}\.)?([\d]{1,3}\.)?[\d]{1,3}$"
ID_5_50 = {"type": str, "minLength": 5, "maxLength": 50}
# What a client may send; rateLimit, access, status and session can only be set in the database.
PROFILE_BODY = {
    "culture": {"code": {"type": str, "minLength": 5, "maxLength": 5, "match": r"/[a-zA-Z]{2}-[a-zA-Z]{2}/i"}},
    "app": {
        "id": ID_5_50,
        "version": {"type": str, "minLength": 1, "maxLength": 7, "match": VERSION_PATTERN},
        "vendor": {"id": ID_5_50},
        "advertiser": {"id": ID_5_50},
    },
    "device": {
        "model": {"type": str, "minLength": 1, "maxLength": 50},
        "group": {"type": str, "allow": ["phone", "tablet", "tv", "desktop"]},
        "os": {
            "type": {"type": str, "minLength": 2, "maxLength": 50},
            "version": {"type": str, "minLength": 1, "maxLength": 7, "match": VERSION_PATTERN},
        },
        "carrier": {"type": {"type": str, "minLength": 1, "maxLength": 50}},
        "screen": {"resolution": {"type": str, "match": r"/(\d+)x(\d+)/i"}},
        "notification": {"token": {"type": str},
                         "environment": {"type": str, "allow": ["sandbox", "production"]}},
    },
}


def _profile(req: Any) -> dict[str, Any]:
    body = dict(req.mia.validated_parameters.get("body") or {})
    agent = req.headers.get("User-Agent")
    if agent:
        body.setdefault("device", {})
        body["device"] = {**body["device"], "userAgent": agent}
    return body


class DeviceProfile(Controller):
    identity = "generic-deviceProfile"
    version = "1.0"
    group = "generic"
    preconditions = {
        "create": {
            "parameters": {"body": PROFILE_BODY},
            "responses": {200: "Success", 400: ["UnexpectedType", "PatternMismatch"], 429: "DeviceRegistrationLimit"},
        },
        "update": {
            "parameters": {"path": {"id": {"type": str, "minLength": 32, "maxLength": 32, "required": True}},
                           "body": PROFILE_BODY},
            "responses": {200: "Success", 400: "DeviceIdDoesNotExist", 403: "Forbidden"},
        },
    }

    def create(self, req: Any, res: Any) -> None:
        """Register a device; answers 200 ``{"id": <32 hex>}`` (mia.js answered 200, not 201)."""
        res.headers["timestamp"] = str(int(time.time() * 1000))
        self.registration_limit(req, res)
        device = Shared.libs("generic-deviceAndSessionAuth").create_device(_profile(req))
        Shared.libs("generic-auditTrail").record("device.register", req, deviceId=device["id"])
        res.response = {"id": device["id"]}

    @staticmethod
    def registration_limit(req: Any, res: Any) -> None:
        """``generic-identity.deviceRegistration`` per client IP: 429 DeviceRegistrationLimit past it."""
        from core.http import ratelimit

        limit = Shared.config("generic-identity.deviceRegistration") or {}
        if not (limit.get("interval") and limit.get("maxRequests")):
            return
        result = ratelimit.check(f"device-registration|{req.mia.client_ip}",
                                 {"interval": int(limit["interval"]), "maxRequests": int(limit["maxRequests"])})
        if getattr(result, "degraded", False):
            return
        ratelimit.apply_headers(res.headers, result)
        if not result.allowed:
            raise Shared.libs("generic-identityErrors").error(req, 429, "DeviceRegistrationLimit",
                                                              headers={"Retry-After": str(max(result.reset, 1))})

    def update(self, req: Any, res: Any) -> None:
        """Update the calling device's profile; 403 for another device's id."""
        res.headers["timestamp"] = str(int(time.time() * 1000))
        device_id = req.mia.validated_parameters["path"]["id"]
        if not req.mia.device or device_id != req.mia.device.get("id"):
            raise MiaError(403)
        updated = Shared.libs("generic-deviceAndSessionAuth").update_device(device_id, _profile(req))
        if updated is None:
            raise MiaError(400, code="DeviceIdDoesNotExist", msg=req.mia.translator("generic-translations",
                                                                                   "DeviceIdDoesNotExist"))
        req.mia.device = {**updated, "timeOffset": req.mia.device.get("timeOffset", 0)}
        res.response = {"id": device_id}
