"""Prepares generic-users for the demo: custom profile fields, options, profile model (mia's custom-userProfile).

These functions run before generic-users in a chain (routes/users.py) and fill
``req.mia.user_service``, the dict generic-users reads its settings from.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core import Controller

OPTIONS = {"maxDeviceCount": 5, "loginOnSignUp": True}  # sign-up logs the device in at once
PROFILE_FIELDS = {
    "name": {"type": str, "minLength": 1, "maxLength": 100, "desc": "Display name"},
    "phone": {"type": str, "maxLength": 20, "desc": "Phone number, e.g. +49 30 1234567"},
}


def _service(req: Any) -> dict[str, Any]:
    service = getattr(req.mia, "user_service", None)
    if not isinstance(service, dict):
        service = req.mia.user_service = {}
    group = req.mia.route.group
    service.update(group=group, appId=group, options=dict(OPTIONS), userProfileModel="demo-userProfile-model")
    return service


class DemoUserProfile(Controller):
    identity = "demo-userProfile"
    version = "1.0"
    group = "demo"
    preconditions = {
        "prepareParametersForSignup": {
            "parameters": {"body": {**PROFILE_FIELDS, "name": {**PROFILE_FIELDS["name"], "required": True}}},
            "responses": {200: "Success"},
        },
        "updateProfile": {
            "parameters": {"body": PROFILE_FIELDS},
            "responses": {200: "Success"},
        },
    }

    def prepareParametersForSignup(self, req: Any, res: Any) -> None:
        body = req.mia.validated_parameters.get("body") or {}
        now = datetime.now(UTC)
        _service(req)["userProfileData"] = {**body, "createdAt": now, "updatedAt": now}

    def prepareOptions(self, req: Any, res: Any) -> None:
        """For login and logout: the demo's group, app id and options."""
        _service(req)

    def updateProfile(self, req: Any, res: Any) -> None:
        body = req.mia.validated_parameters.get("body") or {}
        _service(req)["userProfileData"] = {**body, "updatedAt": datetime.now(UTC)}
