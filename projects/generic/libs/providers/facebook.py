"""Third-party login providers: the interface and Facebook (``generic-fbLoginProvider``, spec §0.7, §3.2).

A provider turns a client's provider token into ``{"thirdPartyLogin": {"provider", "id"},
"email", "me"}`` for ``generic-users.setParametersForFbLogin``. Other providers implement the
same two methods in a lib of their own. The Graph API address comes from
``generic-identity.facebook.graphUrl`` (tests serve a fake one on loopback). A token check is a
login attempt: it is guarded per client IP by generic-loginProtection (429 TooManyFailedLogins; a
rejected token writes the failed-login line), as every login path is.
"""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from typing import Any
from urllib.parse import quote, urlencode

from core import Lib, MiaError, Shared

log = logging.getLogger("mia.generic.providers")


class LoginProvider(Lib, ABC):
    """The interface generic-users relies on (no identity: not registered itself)."""

    provider = ""

    @abstractmethod
    def checkCredentialsAndLoadProfile(self, token: str, version: str | None = None,
                                       fields: str | None = None) -> dict[str, Any]:
        """The provider's profile for ``token``; raises MiaError when the token is not valid."""

    @abstractmethod
    def getUserPicture(self, token: str, user_id: str, version: str | None = None,
                       query: dict[str, Any] | None = None) -> Any:
        """The provider's picture data for ``user_id``."""


class FacebookLoginProvider(LoginProvider):
    identity = "generic-fbLoginProvider"
    version = "1.0"
    provider = "fb"

    @staticmethod
    def settings() -> dict[str, Any]:
        return dict(Shared.config("generic-identity.facebook") or {})

    def graph(self, path: str, token: str, version: str | None, query: dict[str, Any] | None = None) -> Any:
        """GET ``<graphUrl>/<version>/<path>``; 401 for a rejected token, 503 when Graph is unreachable."""
        settings = self.settings()
        params = {**(query or {}), "access_token": token}
        base = str(settings.get("graphUrl", "")).rstrip("/")
        url = f"{base}/{version or settings.get('version')}/{path}?{urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=float(settings.get("timeout") or 5)) as reply:  # noqa: S310
                return json.loads(reply.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            if 400 <= err.code < 500:
                raise MiaError(401, code="ThirdPartyTokenInvalid") from None
            raise MiaError(503, code="ExternalDataRequestError") from None
        except (urllib.error.URLError, OSError, ValueError) as err:
            log.warning("facebook graph request failed: %s", type(err).__name__)
            raise MiaError(503, code="ExternalDataRequestError") from None

    def checkCredentialsAndLoadProfile(self, token: str, version: str | None = None,
                                       fields: str | None = None) -> dict[str, Any]:
        protection = Shared.libs("generic-loginProtection")
        with protection.guard(self.provider, None, protection.request_ip(), "third-party login"):
            if not token:
                raise MiaError(401, code="ThirdPartyTokenInvalid")
            me = self.graph("me", token, version, {"fields": fields or self.settings().get("fields", "name,id,email")})
            if not isinstance(me, dict) or not me.get("id"):
                raise MiaError(401, code="ThirdPartyTokenInvalid")
        return {"thirdPartyLogin": {"provider": self.provider, "id": str(me["id"])}, "email": me.get("email"),
                "me": me}

    def getUserPicture(self, token: str, user_id: str, version: str | None = "v2.9",
                       query: dict[str, Any] | None = None) -> Any:
        reply = self.graph(f"{quote(str(user_id), safe='')}/picture", token, version, {**(query or {}),
                                                                                       "redirect": "false"})
        return reply.get("data") if isinstance(reply, dict) else None

    check_credentials_and_load_profile = checkCredentialsAndLoadProfile
    get_user_picture = getUserPicture
