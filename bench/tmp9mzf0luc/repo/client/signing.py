"""Request signing for APIs protected by ``generic-validateAccessKey`` (standard library only).

The server verifies with these very functions (projects/generic's access-key lib imports them),
so the signer and the verifier cannot drift apart.

Two signature methods (README "Signed requests"):

* **v1** (mia.js SDKs, byte-compatible): ``key = deviceId + secretId + timestamp + sha256_hex(lower(
  deviceId + secret + timestamp + METHOD + scheme://host + path?query + sha256_hex(lower(json body)))))``.
* **v2** (header ``signaturemethod: hmac-sha256``): the same key layout, but the signature is
  ``hmac_sha256_hex(secret, canonical)`` over exact bytes (Content-Type included) plus a one-time
  ``nonce`` header.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from urllib.parse import quote

V2_METHOD = "hmac-sha256"
V2_TAG = b"MIA-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8") if isinstance(value, (bytes, bytearray)) else value


def as_bytes(value: bytes | str | None) -> bytes:
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
                 base_url: bytes | str, path_and_query: bytes | str, body: bytes | str | None,
                 content_type: bytes | str | None = None) -> bytes:
    """The exact bytes v2 signs: ten lines joined by ``\\n`` (no trailing newline).

    ``MIA-HMAC-SHA256``, deviceId, secretId, timestamp, nonce, HTTP method as sent (case kept),
    ``scheme://Host`` (scheme lower-case, Host header byte for byte), the request target
    (path ``?`` query) byte for byte, the Content-Type header byte for byte (empty when none is
    sent: a switched ``charset`` would change what the body means), and the lower-case sha256 hex
    of the raw body bytes (of the empty string when there is no body).
    """
    lines = [V2_TAG, as_bytes(device_id), as_bytes(secret_id), as_bytes(timestamp), as_bytes(nonce), as_bytes(method),
             as_bytes(base_url), as_bytes(path_and_query), as_bytes(content_type),
             hashlib.sha256(as_bytes(body)).hexdigest().encode("ascii")]
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
               nonce: str | None = None, content_type: str | None = None) -> dict[str, str]:
    """``key``, ``signaturemethod`` and ``nonce`` headers of a v2 request.

    ``content_type`` is the Content-Type header the request will carry, byte for byte (None: none).
    """
    ts = timestamp or timestamp_now()
    once = nonce or new_nonce()
    canonical = v2_canonical(device_id, secret_id, ts, once, method, base_url, path_and_query, body, content_type)
    return {"key": device_id + secret_id + ts + v2_signature(secret, canonical),
            "signaturemethod": V2_METHOD, "nonce": once}
