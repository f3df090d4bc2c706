"""MiaClient: registers a device and sends signed requests with urllib (no third-party dependency).

Usage::

    client = MiaClient("http://localhost:3000", secret_id, secret, method="v2")
    client.register_device("/demo-auth/v1/devices", {"culture": {"code": "en-gb"}})
    reply = client.request("POST", "/demo-auth/v1/todo", json={"name": "Buy milk"})
    reply.status, reply.json()

``client.signed_headers(method, path, body)`` gives the headers for any other HTTP library; send
the body bytes, path and ``Host`` exactly as signed.
"""
from __future__ import annotations

import json as _json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from client.signing import as_bytes, is_json_content_type, request_target, timestamp_now, v1_key, v2_headers


@dataclass
class Reply:
    """What came back: status, headers (lower-case names) and the raw body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        return _json.loads(self.body.decode("utf-8")) if self.body else None


class MiaClient:
    """Registers a device and sends signed requests with urllib (no third-party dependency)."""

    def __init__(self, base_url: str, secret_id: str, secret: str, device_id: str | None = None,
                 method: str = "v1", timeout: float = 10.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url must look like http://host[:port], got {base_url!r}")
        if method not in ("v1", "v2"):
            raise ValueError("method must be 'v1' or 'v2'")
        self.scheme, self.host = parts.scheme, parts.netloc
        self.base_path = parts.path.rstrip("/")
        self.secret_id, self.secret, self.device_id = secret_id, secret, device_id
        self.method, self.timeout = method, timeout
        self.clock_offset = 0.0  # server time - local time, learnt from the `timestamp` header

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def signed_headers(self, method: str, path: str, body: bytes | str | None = None,
                       content_type: str | None = "application/json") -> dict[str, str]:
        """Headers that authenticate ``method path`` with ``body`` (send exactly these bytes).

        Non-ASCII characters and spaces in ``path`` are signed percent-encoded as UTF-8
        (:func:`request_target`), which is how HTTP libraries put them on the request line.
        """
        if not self.device_id:
            raise RuntimeError("no device id: call register_device() first or pass device_id")
        target = request_target(self.base_path + path)
        ts = timestamp_now(self.clock_offset)
        headers = {"Host": self.host}
        sent_type = content_type if body is not None and content_type else None
        if self.method == "v2":
            headers.update(v2_headers(self.device_id, self.secret_id, self.secret, method, self.base_url, target,
                                      body, timestamp=ts, content_type=sent_type))
        else:
            json_body = body if is_json_content_type(content_type) else None
            headers["key"] = v1_key(self.device_id, self.secret_id, self.secret, method.upper(), self.base_url,
                                    target, json_body, timestamp=ts)
        if sent_type:
            headers["Content-Type"] = sent_type
        return headers

    def send(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
        """One HTTP exchange; error statuses are returned, not raised."""
        url = self.base_url + request_target(self.base_path + path)
        request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - http(s) only
                return Reply(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())

    def register_device(self, path: str, profile: dict[str, Any] | None = None) -> str:
        """POST the device profile to a ``generic-deviceProfile`` create route; keep and return the id."""
        body = _json.dumps(profile or {}).encode("utf-8")
        reply = self.send("POST", path, body, {"Content-Type": "application/json", "Host": self.host})
        if reply.status != 200:
            raise RuntimeError(f"device registration failed with HTTP {reply.status}: {reply.body[:200]!r}")
        self.device_id = reply.json()["response"]["id"]
        return self.device_id

    def request(self, method: str, path: str, json: Any = None, data: bytes | str | None = None,
                headers: dict[str, str] | None = None, content_type: str | None = None) -> Reply:
        """A signed request; on 401 ``KeyExpired`` the clock offset is learnt and the request re-signed once."""
        if json is not None:
            body: bytes | None = _json.dumps(json).encode("utf-8")
            content_type = content_type or "application/json"
        else:
            body = as_bytes(data) if data is not None else None
        if content_type is None:  # a Content-Type passed in ``headers`` is what the server will see
            content_type = next((v for k, v in (headers or {}).items() if k.lower() == "content-type"), None)
        if content_type is None and body is not None:  # else urllib sends (unsigned) form-urlencoded
            content_type = "application/octet-stream"
        reply = Reply(0)
        for _attempt in range(2):
            signed = self.signed_headers(method, path, body, content_type if body is not None else None)
            reply = self.send(method, path, body, {**(headers or {}), **signed})
            if reply.status != 401 or not self._learn_clock(reply):
                break
        return reply

    def _learn_clock(self, reply: Reply) -> bool:
        """True when the server said KeyExpired and told us its time (so a retry can succeed)."""
        try:
            codes = [e.get("code") for e in (reply.json() or {}).get("errors", [])]
            server_ms = int(reply.headers["timestamp"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return False
        if "KeyExpired" not in codes:
            return False
        self.clock_offset = server_ms / 1000 - time.time()
        return True
