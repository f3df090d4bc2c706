"""Which user is logged in on the calling device (spec §3.4); put after generic-validateAccessKey.

Both look up the active user holding a login for ``(appId, device id)`` and put the account on
``req.mia.user_data``. The appId is ``req.mia.user_service["appId"]`` or the route group, the same
rule login uses (mia.js looked up the *group* here, so logins under a different appId were never
found).
"""
from __future__ import annotations

from typing import Any

from core import Controller, MiaError, Shared


def _logged_in_user(req: Any) -> dict[str, Any] | None:
    device = req.mia.device
    if not device:
        raise MiaError(500)
    if (getattr(req.mia, "access_key_parameters", None) or {}).get("static"):
        return None  # a shared static key never carries a user login (generic-users refuses to create one)
    service = getattr(req.mia, "user_service", None) or {}
    app_id = service.get("appId") or (req.mia.route.group if req.mia.route else None)
    return Shared.libs("generic-userAuthManager").get_user_logged_in_on_device(device["id"], app_id)


class EvaluateOptionalUserLogin(Controller):
    """Sets ``req.mia.user_data`` when a user is logged in; continues either way."""

    identity = "generic-evaluateOptionalUserLogin"
    authenticates = True  # an idempotent route claims its key after this (core/http/idempotency.py)
    version = "1.0"
    group = "generic"

    def all(self, req: Any, res: Any) -> None:
        user = _logged_in_user(req)
        if user is not None:
            req.mia.user_data = user


class ValidateUserLogin(Controller):
    """Sets ``req.mia.user_data``; 401 NoUserIsLoggedIn when nobody is logged in on this device."""

    identity = "generic-validateUserLogin"
    authenticates = True  # an idempotent route claims its key after this (core/http/idempotency.py)
    version = "1.0"
    group = "generic"
    preconditions = {"all": {"responses": {401: "NoUserIsLoggedIn"}}}

    def all(self, req: Any, res: Any) -> None:
        user = _logged_in_user(req)
        if user is None:
            raise Shared.libs("generic-identityErrors").error(req, 401, "NoUserIsLoggedIn")
        req.mia.user_data = user
