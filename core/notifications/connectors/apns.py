"""APNs connector: HTTP/2 to Apple with an ES256 provider token (token-based authentication).

One ``ApnsClient`` per endpoint and key per process, kept in ``client()``: it holds one httpx
HTTP/2 connection that every push reuses, and one provider token (``alg ES256``, ``kid`` = key id;
claims ``iss`` = team id, ``iat``) renewed after ``tokenRefresh`` seconds (default 45 min: Apple
wants a token younger than an hour and refuses renewals more often than every 20 min).

Settings (project config ``connectors.apns``, flat or keyed ``production``/``sandbox`` by the
device's ``notification.environment``): ``keyId``, ``teamId``, ``key`` (the .p8 PEM text) or
``keyFile``, ``topic`` (the app's bundle id), ``production`` (default true), ``endpoint`` (or
``endpoints: {production, sandbox}``; tests point it at loopback), ``timeout``, ``caFile``.
410 and ``BadDeviceToken``/``Unregistered`` reject the push and clear the device's token; an
expired or refused provider token is renewed and the push retried; 429 and 5xx are retried.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Any

import httpx
import jwt

from core.notifications.connectors import ClientCache, DeliveryError, verify_context
from core.notifications.settings import read_secret_file

HOSTS = {"production": "https://api.push.apple.com", "sandbox": "https://api.sandbox.push.apple.com"}
DEAD_TOKEN_REASONS = frozenset({"BadDeviceToken", "Unregistered", "ExpiredToken"})
RENEW_REASONS = frozenset({"ExpiredProviderToken", "InvalidProviderToken"})
_clients = ClientCache()


def endpoint_for(settings: dict[str, Any], environment: str | None) -> str:
    """The base URL for a device's environment (``production`` unless the device or connector says sandbox)."""
    env = environment if environment in HOSTS else ("production" if settings.get("production", True) else "sandbox")
    endpoints = settings.get("endpoints")
    if not isinstance(endpoints, dict):
        endpoints = {}
    return str(endpoints.get(env) or settings.get("endpoint") or HOSTS[env]).rstrip("/")


class ApnsClient:
    """One HTTP/2 connection and one cached provider token for one endpoint and signing key."""

    def __init__(self, endpoint: str, settings: dict[str, Any]) -> None:
        key = read_secret_file(settings.get("key") or settings.get("keyFile"))
        if not key or not settings.get("keyId") or not settings.get("teamId"):
            raise DeliveryError("ApnsNotConfigured", "apns needs key (or keyFile), keyId and teamId", permanent=True)
        self.endpoint, self.key = endpoint, key
        self.key_id, self.team_id = str(settings["keyId"]), str(settings["teamId"])
        self.refresh = float(settings.get("tokenRefresh") or 2700)
        self.pid = os.getpid()
        self.http = httpx.Client(http1=False, http2=True, verify=verify_context(settings),
                                 timeout=float(settings.get("timeout") or 10))
        self._token: tuple[str, float] | None = None
        self._token_lock = threading.Lock()

    def provider_token(self) -> str:
        """The cached ES256 JWT, made anew once it is ``tokenRefresh`` seconds old."""
        with self._token_lock:
            if self._token is None or time.time() - self._token[1] >= self.refresh:
                issued = time.time()
                token = jwt.encode({"iss": self.team_id, "iat": int(issued)}, self.key, algorithm="ES256",
                                   headers={"kid": self.key_id})
                self._token = (token, issued)
            return self._token[0]

    def forget_token(self) -> None:
        with self._token_lock:
            self._token = None

    def send(self, device_token: str, payload: dict[str, Any], topic: str, *, push_type: str = "alert",
             priority: int = 10, apns_id: str | None = None, collapse_id: str | None = None) -> str:
        """POST one notification; returns the ``apns-id`` Apple answered. Raises DeliveryError."""
        headers = {"authorization": f"bearer {self.provider_token()}", "apns-topic": topic,
                   "apns-push-type": push_type, "apns-priority": str(priority)}
        if apns_id:
            headers["apns-id"] = apns_id
        if collapse_id:
            headers["apns-collapse-id"] = collapse_id
        try:
            reply = self.http.post(f"{self.endpoint}/3/device/{device_token}", json=payload, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError("ApnsConnectionError", f"{type(exc).__name__}: {exc}") from exc
        if reply.status_code == 200:
            return reply.headers.get("apns-id", "")
        try:
            reason = str(reply.json().get("reason") or "")
        except ValueError:
            reason = ""
        reason = reason or f"HTTP{reply.status_code}"
        message = f"APNs answered {reply.status_code} {reason}"
        if reply.status_code == 410 or reason in DEAD_TOKEN_REASONS:
            raise DeliveryError(reason, message, permanent=True, clear_token=True)
        if reason in RENEW_REASONS:
            self.forget_token()
            raise DeliveryError(reason, message)
        if reply.status_code == 429 or reply.status_code >= 500:
            raise DeliveryError(reason, message)
        raise DeliveryError(reason, message, permanent=True)

    def close(self) -> None:
        self.http.close()


def client(settings: dict[str, Any], environment: str | None) -> ApnsClient:
    """The process's client for these settings (made after a fork anew: a connection is not fork-safe)."""
    endpoint = endpoint_for(settings, environment)
    key = (endpoint, settings.get("keyId"), settings.get("teamId"), str(settings.get("key") or settings.get("keyFile")),
           settings.get("caFile"), settings.get("tokenRefresh"))
    return _clients.get(key, lambda: ApnsClient(endpoint, settings))


def close_all() -> None:
    _clients.close_all()
