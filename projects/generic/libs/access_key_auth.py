"""Verifies the ``key`` of generic-validateAccessKey: v1 and v2 signatures and static keys.

Order of checks (spec §1.4 with the fixes of §10.2): layout -> timestamp window -> signature
(against a dummy secret when the secretId is unknown, so timing and answer do not reveal it) ->
secret enabled -> route group -> (v2) nonce -> device. Keys, secrets and expected signatures are
never logged. Static 32-character keys follow mia.js's order (§1.7).
"""
from __future__ import annotations

import hmac
import logging
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn, cast
from urllib.parse import quote, urlsplit

from client import V2_METHOD, is_json_content_type, v1_signature, v2_canonical, v2_signature
from core import Lib, MiaError, Shared
from core.http.clientip import in_networks
from core.validation.coercion import parse_date

log = logging.getLogger("mia.generic.accesskey")
DUMMY_SECRET = "0" * 32
STALE_AFTER = timedelta(hours=24)
_NONCE = re.compile(r"^[\x21-\x7e]+$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
MAX_UNPARSED_BODY = 512 * 1024
T = "generic-translations"


def now_utc() -> datetime:
    return datetime.now(UTC)


def request_target_bytes(req: Any) -> bytes:
    """The request-target exactly as received (path and raw query), as mia.js's ``req.url``."""
    environ = req.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        data = str(raw).encode("latin-1", errors="replace")
        if str(environ.get("SERVER_SOFTWARE", "")).startswith("Werkzeug/"):
            # werkzeug's development server UTF-8-encodes the (latin-1) request line once more;
            # undo that so raw non-ASCII bytes are signed as sent, as under gunicorn.
            try:
                data = data.decode("utf-8").encode("latin-1")
            except (UnicodeDecodeError, UnicodeEncodeError):
                pass
        if data.startswith((b"http://", b"https://")):  # absolute-form request target
            parts = urlsplit(data)
            data = (parts.path or b"/") + (b"?" + parts.query if b"?" in data else b"")
        return data
    path = quote((environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1"),
                 safe="/:@!$&'()*+,;=-._~")
    query = environ.get("QUERY_STRING", "")
    return (path + ("?" + query if query else "")).encode("latin-1", errors="replace")


def request_target(req: Any) -> str:
    """The request-target as text for v1: raw UTF-8 bytes (sent unencoded) read as the client typed them."""
    data = request_target_bytes(req)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")



def _older_than(value: Any, age: timedelta) -> bool:
    moment = parse_date(value)
    return moment is None or now_utc() - moment > age


class AccessKeyAuth(Lib):
    identity = "generic-accessKeyAuth"
    version = "1.0"

    # -- entry point ---------------------------------------------------------------------------
    def validate(self, req: Any, res: Any, params: dict[str, Any]) -> dict[str, Any]:
        """The device the key belongs to (also set on ``req.mia.device``); raises MiaError otherwise."""
        res.headers["timestamp"] = str(int(time.time() * 1000))
        key = params.get("key")
        if not isinstance(key, str) or not key:
            self.fail(req, 401, "KeyInvalid")
        method = (params.get("signaturemethod") or "sha256").lower()
        req.mia.access_key_parameters = {"signaturemethod": method, "requestdate": params.get("requestdate"),
                                         "static": len(key) == 32}
        if len(key) == 32:
            device = self.static_key(req, res, key)
        elif method == V2_METHOD:
            device = self.signed_key(req, key, params.get("nonce"), v2=True)
        elif method == "sha256":
            device = self.signed_key(req, key, None, v2=False)
        else:
            self.fail(req, 403, "SignatureMethodInvalid")
        device["timeOffset"] = self.time_offset(params.get("requestdate"))
        req.mia.device = device
        Shared.libs("generic-deviceAttestation").enforce_group(req, device)  # attestation.requiredForGroups
        return device

    # -- helpers -------------------------------------------------------------------------------
    @staticmethod
    def fail(req: Any, status: int, code: str) -> NoReturn:
        """Raise the translated error; a 401 carries ``WWW-Authenticate: Token realm=...``."""
        headers: dict[str, str] = {}
        if status == 401:
            route = req.mia.route
            prefix = route.prefix if route is not None else ""
            headers["WWW-Authenticate"] = f'Token realm="{req.mia.scheme or req.scheme}://{req.host}{prefix}"'
        raise MiaError(status, code=code, msg=req.mia.translator(T, code), headers=headers)

    @staticmethod
    def window() -> int:
        return int(Shared.config("generic-identity.accessKey.window") or 300)

    @staticmethod
    def time_offset(value: Any) -> int:
        """Client clock minus server clock in ms, from the optional ``requestdate`` header (else 0)."""
        moment = parse_date(value) if value else None
        if moment is None:
            return 0
        return int((moment - now_utc()).total_seconds() * 1000)

    # -- signed keys (v1 and v2) -----------------------------------------------------------------
    def signed_key(self, req: Any, key: str, nonce: Any, v2: bool) -> dict[str, Any]:
        device_id, secret_id, timestamp, signature = key[0:32], key[32:64], key[64:74], key[74:]
        if len(device_id) < 32 or len(secret_id) < 32:
            self.fail(req, 401, "KeyInvalid")
        if v2:
            well_formed = timestamp.isascii() and timestamp.isdigit() and len(timestamp) == 10
            if not well_formed or not _HEX64.match(signature):
                self.fail(req, 401, "KeyInvalid")
            low, high = (Shared.config("generic-identity.accessKey.nonceMinLength") or 16,
                         Shared.config("generic-identity.accessKey.nonceMaxLength") or 64)
            if not isinstance(nonce, str) or not low <= len(nonce) <= high or not _NONCE.match(nonce):
                self.fail(req, 401, "NonceInvalid")
        elif timestamp and not (timestamp.isascii() and timestamp.isdigit()):
            self.fail(req, 401, "KeyInvalid")  # mia.js: not a number -> invalid; too short -> expired below
        window = self.window()
        # Whole seconds on both sides: a key exactly ``window`` seconds old or ahead is still inside.
        if abs(int(timestamp or 0) - int(time.time())) > window:
            self.fail(req, 401, "KeyExpired")
        secret_doc = Shared.models("generic-secret-model").collection().find_one({"id": secret_id})
        secret = secret_doc.get("secret") if secret_doc else None
        usable = isinstance(secret, str) and len(secret) > 0 and isinstance(secret_doc.get("groups"), list)
        expected = self._expected(req, device_id, secret_id, str(secret) if usable else DUMMY_SECRET, timestamp,
                                  nonce, v2)
        matches = hmac.compare_digest(signature.lower().encode("utf-8"), expected.encode("ascii"))
        if not (matches and usable and secret_doc.get("enabled") is not False):
            self.fail(req, 401, "KeyInvalid")
        group = str((req.mia.route.group if req.mia.route else "") or "").lower()
        if group not in (secret_doc.get("groups") or []):
            self.fail(req, 403, "KeyInvalidForGroup")
        if v2 and not Shared.libs("generic-nonceStore").remember(device_id, nonce, 2 * window + 60):
            self.fail(req, 401, "NonceReused")
        device = self.load_device(req, device_id)
        Shared.libs("generic-auditTrail").note_address("secret", secret_id, req, deviceId=device_id)
        return device

    def _expected(self, req: Any, device_id: str, secret_id: str, secret: str, timestamp: str, nonce: Any,
                  v2: bool) -> str:
        host = req.headers.get("Host") or req.host
        scheme = req.mia.scheme or req.scheme
        if not v2:
            body = req.mia.raw_body_text if (req.mia.raw_body and is_json_content_type(req.mimetype)) else ""
            return v1_signature(device_id, secret, timestamp, req.method, f"{scheme}://{host}", request_target(req),
                                body)
        canonical = v2_canonical(device_id, secret_id, timestamp, nonce,
                                 req.environ.get("REQUEST_METHOD", req.method).encode("latin-1"),
                                 f"{scheme}://".encode("latin-1") + host.encode("latin-1"),
                                 request_target_bytes(req), self.raw_body(req),
                                 req.environ.get("CONTENT_TYPE", "").encode("latin-1"))
        return v2_signature(secret, canonical)

    @staticmethod
    def raw_body(req: Any) -> bytes:
        """The exact body bytes: what the body parser read, else the unparsed stream (bounded)."""
        if req.mia.raw_body:
            return bytes(req.mia.raw_body)
        length = req.content_length or 0
        if not length:
            return b""
        if length > MAX_UNPARSED_BODY:
            raise MiaError(413)
        return req.get_data(cache=True)

    def load_device(self, req: Any, device_id: str) -> dict[str, Any]:
        devices = Shared.models("generic-device-model").collection()
        device = devices.find_one({"id": device_id})
        if device is None:
            self.fail(req, 401, "DeviceIdInvalid")
        if device.get("status") == "disabled":
            self.fail(req, 403, "TemporaryDisabled")
        if device.get("status") == "inactive" or _older_than(device.get("lastModified"), STALE_AFTER):
            moment = now_utc()
            devices.update_one({"id": device_id}, {"$set": {"status": "active", "lastModified": moment}})
            device.update(status="active", lastModified=moment)
        return device

    # -- static keys -------------------------------------------------------------------------------
    def static_key(self, req: Any, res: Any, key: str) -> dict[str, Any]:
        devices = Shared.models("generic-device-model").collection()
        device = devices.find_one({"access.key": key})
        if device is None:
            self.fail(req, 401, "KeyInvalid")
        if device.get("status") != "active":
            self.fail(req, 403, "TemporaryDisabled")
        access = device.get("access") or {}
        # A key opens only the groups it lists ("*": every group). mia.js opened every group when
        # ``groups`` was missing; a shared key without groups opens nothing here.
        groups = access.get("groups")
        group = req.mia.route.group if req.mia.route else None
        if not isinstance(groups, list) or ("*" not in groups and group not in groups):
            self.fail(req, 403, "KeyInvalidForGroup")
        ip = req.mia.client_ip
        try:
            blocked = in_networks(ip, access.get("blockcidr") or [])
            allowed = in_networks(ip, access.get("cidr") or [])
        except ValueError as exc:  # a broken CIDR stored on the device: fail closed, details only in the log
            log.error("device %s has an invalid access list: %s", device.get("id"), exc)
            raise MiaError(500) from None
        if blocked or not allowed:
            self.fail(req, 403, "IPNotAllowed")
        if _older_than(device.get("lastModified"), STALE_AFTER):
            moment = now_utc()
            devices.update_one({"id": device["id"]}, {"$set": {"lastModified": moment}})
            device["lastModified"] = moment
        self.device_rate_limit(req, res, device)
        Shared.libs("generic-auditTrail").note_address("static", device["id"], req, deviceId=device["id"])
        return device

    def device_rate_limit(self, req: Any, res: Any, device: dict[str, Any]) -> None:
        """``device.rateLimit {interval, maxRequests}`` (both positive) per device id; fails open."""
        limit = device.get("rateLimit") or {}
        interval, max_requests = limit.get("interval"), limit.get("maxRequests")
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
                      for v in (interval, max_requests))
        if not numbers:
            return
        try:
            from core.http import ratelimit
        except ImportError:  # rate limiting not installed: nothing to enforce
            return
        result = ratelimit.check(f"device|{device['id']}", {"interval": int(cast(float, interval)),
                                                            "maxRequests": int(cast(float, max_requests))})
        if getattr(result, "degraded", False):
            return
        ratelimit.apply_headers(res.headers, result)
        if not result.allowed:
            self.fail(req, 429, "RateLimitExceededForKey")
