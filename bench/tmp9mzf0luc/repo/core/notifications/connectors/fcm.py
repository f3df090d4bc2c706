"""FCM connector: Firebase Cloud Messaging HTTP v1 with an OAuth2 service-account token.

A signed assertion (RS256 with the service account's private key; ``iss`` = client email, ``scope``
= firebase.messaging, ``aud`` = token URI, one hour) is exchanged at the token URI for an access
token, which is cached until a minute before it expires and used as ``Authorization: Bearer`` on
``POST {endpoint}/v1/projects/{project_id}/messages:send``. One ``FcmClient`` (connection pool and
token) per service account and endpoint per process.

Settings (project config ``connectors.fcm``): ``serviceAccount`` (the JSON as a dict, JSON text or
a file path; env ``MIA_FCM_SERVICE_ACCOUNT``), ``endpoint`` (default fcm.googleapis.com),
``tokenUri`` (default the account's ``token_uri``), ``timeout``, ``caFile``. ``UNREGISTERED``
rejects the push and clears the device's token; 401 renews the access token and retries; 429 and
5xx are retried; other errors reject.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Any

import httpx
import jwt

from core.notifications.connectors import ClientCache, DeliveryError, verify_context
from core.notifications.settings import service_account

ENDPOINT = "https://fcm.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DEAD_TOKEN_CODES = frozenset({"UNREGISTERED"})
_clients = ClientCache()


def _error(reply: httpx.Response) -> tuple[str, str]:
    """``(errorCode or status, message)`` from FCM's google.rpc error body."""
    try:
        error = reply.json().get("error") or {}
    except ValueError:
        return f"HTTP{reply.status_code}", reply.text[:200]
    code = ""
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("errorCode"):
            code = str(detail["errorCode"])
    return code or str(error.get("status") or f"HTTP{reply.status_code}"), str(error.get("message") or "")


class FcmClient:
    def __init__(self, settings: dict[str, Any]) -> None:
        try:
            account = service_account(settings)
            self.email, self.private_key = account["client_email"], account["private_key"]
            self.key_id, self.project = account.get("private_key_id"), account["project_id"]
        except (ValueError, KeyError, OSError) as exc:
            raise DeliveryError("FcmNotConfigured", f"bad service account: {exc}", permanent=True) from exc
        self.token_uri = str(settings.get("tokenUri") or account.get("token_uri") or "https://oauth2.googleapis.com/token")
        self.endpoint = str(settings.get("endpoint") or ENDPOINT).rstrip("/")
        self.pid = os.getpid()
        self.http = httpx.Client(verify=verify_context(settings), timeout=float(settings.get("timeout") or 10))
        self._token: tuple[str, float] | None = None
        self._token_lock = threading.Lock()

    def assertion(self) -> str:
        issued = int(time.time())
        claims = {"iss": self.email, "scope": SCOPE, "aud": self.token_uri, "iat": issued, "exp": issued + 3600}
        headers = {"kid": self.key_id} if self.key_id else None
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers=headers)

    def access_token(self) -> str:
        """The cached access token, exchanged anew a minute before it expires."""
        with self._token_lock:
            if self._token is not None and time.time() < self._token[1]:
                return self._token[0]
            try:
                reply = self.http.post(self.token_uri, data={"grant_type": GRANT_TYPE, "assertion": self.assertion()})
            except httpx.HTTPError as exc:
                raise DeliveryError("FcmTokenConnectionError", f"{type(exc).__name__}: {exc}") from exc
            if reply.status_code != 200:
                raise DeliveryError("FcmTokenRefused", f"token exchange answered {reply.status_code}: "
                                    f"{reply.text[:200]}", permanent=400 <= reply.status_code < 500)
            body = reply.json()
            lifetime = float(body.get("expires_in") or 3600)
            self._token = (str(body["access_token"]), time.time() + max(lifetime - 60, lifetime / 2))
            return self._token[0]

    def forget_token(self) -> None:
        with self._token_lock:
            self._token = None

    def send(self, message: dict[str, Any]) -> str:
        """Send one ``message`` (with its ``token``); returns FCM's message name. Raises DeliveryError."""
        url = f"{self.endpoint}/v1/projects/{self.project}/messages:send"
        headers = {"authorization": f"Bearer {self.access_token()}"}
        try:
            reply = self.http.post(url, json={"message": message}, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError("FcmConnectionError", f"{type(exc).__name__}: {exc}") from exc
        if reply.status_code == 200:
            return str(reply.json().get("name") or "")
        code, text = _error(reply)
        message_text = f"FCM answered {reply.status_code} {code} {text}".strip()
        if code in DEAD_TOKEN_CODES:
            raise DeliveryError(code, message_text, permanent=True, clear_token=True)
        if reply.status_code == 401:
            self.forget_token()
            raise DeliveryError(code, message_text)
        if reply.status_code == 429 or reply.status_code >= 500:
            raise DeliveryError(code, message_text)
        raise DeliveryError(code, message_text, permanent=True)

    def close(self) -> None:
        self.http.close()


def client(settings: dict[str, Any]) -> FcmClient:
    """The process's client for these settings (made anew after a fork)."""
    account = settings.get("serviceAccount") or settings.get("serviceAccountFile")
    key = (str(account), settings.get("endpoint"), settings.get("tokenUri"), settings.get("caFile"))
    return _clients.get(key, lambda: FcmClient(settings))


def close_all() -> None:
    _clients.close_all()
