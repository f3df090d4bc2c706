"""A small client for APIs protected by ``generic-validateAccessKey``: register, sign, send.

Why it lives in core: the server verifies with the very functions defined here
(:func:`v1_signature`, :func:`v2_canonical`), so the signer and the verifier cannot drift apart.

Two signature methods (README "Signed requests"):

* **v1** (mia.js SDKs, byte-compatible): ``key = deviceId + secretId + timestamp + sha256_hex(lower(
  deviceId + secret + timestamp + METHOD + scheme://host + path?query + sha256_hex(lower(json body)))))``.
* **v2** (header ``signaturemethod: hmac-sha256``): the same key layout, but the signature is
  ``hmac_sha256_hex(secret, canonical)`` over exact bytes plus a one-time ``nonce`` header.

Usage::

    client = MiaClient("http://localhost:3000", secret_id, secret, method="v2")
    client.register_device("/demo-auth/v1/devices", {"culture": {"code": "en-gb"}})
    reply = client.request("POST", "/demo-auth/v1/todo", json={"name": "Buy milk"})
    reply.status, reply.json()

``client.signed_headers(method, path, body)`` gives the headers for any other HTTP library; send
the body bytes, path and ``Host`` exactly as signed.
"""
from __future__ import annotations

import hashlib
import hmac
import json as _json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

V2_METHOD = "hmac-sha256"
V2_TAG = b"MIA-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8") if isinstance(value, (bytes, bytearray)) else value


def _bytes(value: bytes | str | None) -> bytes:
    if value is None:
        return b""
    return bytes(value) if isinstance(value, (bytes, bytearray)) else value.encode("utf-8")


def is_json_content_type(value: str | None) -> bool:
    """Whether v1 covers a body of this Content-Type: ``application/json`` or ``*/*+json``, any parameters.

    The server decides with this same function, so ``application/json; charset=utf-8`` is signed
    with its body hash on both sides.
    """
    mimetype = (value or "").split(";", 1)[0].strip().lower()
    return mimetype == "application/json" or mimetype.endswith("+json")


# Everything printable in ASCII stays as written (so existing %XX escapes and the query syntax are
# signed byte for byte); only spaces, control characters and non-ASCII text are percent-encoded.
_TARGET_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "%") + "%"


def request_target(path: str) -> str:
    """``path`` as it goes on the request line: non-ASCII as UTF-8 ``%XX``, spaces as ``%20``."""
    return quote(path, safe=_TARGET_SAFE)


def timestamp_now(offset_s: float = 0.0) -> str:
    """Seconds since the epoch as the 10-digit string both methods put into the key."""
    return str(int(time.time() + offset_s))


def v1_signature(device_id: str, secret: str, timestamp: str, method: str, base_url: str,
                 path_and_query: str, json_body: bytes | str | None) -> str:
    """mia.js's signature: sha256 hex of the lower-cased material (generic spec §1.3).

    ``json_body`` is the exact JSON text sent with ``Content-Type: application/json`` (None or
    empty for no body); any other body is not covered by v1.
    """
    body = _text(json_body)
    body_hash = hashlib.sha256(body.lower().encode("utf-8")).hexdigest() if body else ""
    material = (device_id + secret + timestamp + method + base_url + path_and_query + body_hash).lower()
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def v2_canonical(device_id: str, secret_id: str, timestamp: str, nonce: str, method: bytes | str,
                 base_url: bytes | str, path_and_query: bytes | str, body: bytes | str | None) -> bytes:
    """The exact bytes v2 signs: nine lines joined by ``\\n`` (no trailing newline).

    ``MIA-HMAC-SHA256``, deviceId, secretId, timestamp, nonce, HTTP method as sent (case kept),
    ``scheme://Host`` (scheme lower-case, Host header byte for byte), the request target
    (path ``?`` query) byte for byte, and the lower-case sha256 hex of the raw body bytes (of the
    empty string when there is no body).
    """
    lines = [V2_TAG, _bytes(device_id), _bytes(secret_id), _bytes(timestamp), _bytes(nonce), _bytes(method),
             _bytes(base_url), _bytes(path_and_query), hashlib.sha256(_bytes(body)).hexdigest().encode("ascii")]
    return b"\n".join(lines)


def v2_signature(secret: str, canonical: bytes) -> str:
    """HMAC-SHA256 keyed by the secret's UTF-8 bytes, lower-case hex."""
    return hmac.new(secret.encode("utf-8"), canonical, hashlib.sha256).hexdigest()


def new_nonce() -> str:
    """32 hex characters from the OS CSPRNG (16-64 visible ASCII characters are accepted)."""
    return secrets.token_hex(16)


def v1_key(device_id: str, secret_id: str, secret: str, method: str, base_url: str, path_and_query: str,
           json_body: bytes | str | None = None, timestamp: str | None = None) -> str:
    """The ``key`` header value of a v1 request."""
    ts = timestamp or timestamp_now()
    return device_id + secret_id + ts + v1_signature(device_id, secret, ts, method, base_url, path_and_query,
                                                     json_body)


def v2_headers(device_id: str, secret_id: str, secret: str, method: str, base_url: str, path_and_query: str,
               body: bytes | str | None = None, timestamp: str | None = None,
               nonce: str | None = None) -> dict[str, str]:
    """``key``, ``signaturemethod`` and ``nonce`` headers of a v2 request."""
    ts = timestamp or timestamp_now()
    once = nonce or new_nonce()
    canonical = v2_canonical(device_id, secret_id, ts, once, method, base_url, path_and_query, body)
    return {"key": device_id + secret_id + ts + v2_signature(secret, canonical),
            "signaturemethod": V2_METHOD, "nonce": once}


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
        if self.method == "v2":
            headers.update(v2_headers(self.device_id, self.secret_id, self.secret, method, self.base_url, target,
                                      body, timestamp=ts))
        else:
            json_body = body if is_json_content_type(content_type) else None
            headers["key"] = v1_key(self.device_id, self.secret_id, self.secret, method.upper(), self.base_url,
                                    target, json_body, timestamp=ts)
        if body is not None and content_type:
            headers["Content-Type"] = content_type
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
            body = _bytes(data) if data is not None else None
        if content_type is None:  # a Content-Type passed in ``headers`` is what the server will see
            content_type = next((v for k, v in (headers or {}).items() if k.lower() == "content-type"), None)
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
