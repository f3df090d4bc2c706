"""Device profiles and the deprecated session flow (``generic-deviceAndSessionAuth``, spec §2, §5).

Function names follow PEP 8; the manual's names (``createDevice``, ``updateDevice``,
``checkAccessKey``, ``generateSessionId``, ``validateSessionToken``) call them with the manual's
inputs (``createDevice(options, deviceData, retryCount)``, ``updateDevice(options, id, deviceData)``).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from core import Lib, MiaError, Shared
from core.data.models import flatten
from core.http.clientip import host_network, in_networks
from core.validation.coercion import parse_date

log = logging.getLogger("mia.generic.devices")
CREATE_ATTEMPTS = 5


def _devices() -> Any:
    return Shared.models("generic-device-model")


class DeviceAndSessionAuth(Lib):
    identity = "generic-deviceAndSessionAuth"
    version = "1.0"

    # -- device profiles -----------------------------------------------------------------------
    def create_device(self, device_data: dict[str, Any], retries: int = CREATE_ATTEMPTS) -> dict[str, Any]:
        """Validate and insert a new device with a fresh CSPRNG id; retry on an id collision."""
        from pymongo.errors import DuplicateKeyError

        model = _devices()
        now = datetime.now(UTC)
        for _attempt in range(max(int(retries), 1)):
            values = {**device_data, "created": now, "lastModified": now}
            values.pop("id", None)  # always generated here (model default: secrets.token_hex)
            document = model.validate(values)
            try:
                model.collection().insert_one(document)
            except DuplicateKeyError:
                log.warning("device id collision, generating another id")
                continue
            return document
        raise MiaError(500, code="InternalServerError", msg="Could not create a unique device id")

    def update_device(self, device_id: str, device_data: dict[str, Any]) -> dict[str, Any] | None:
        """Partial update of the given fields (dotted $set); None when no such device exists."""
        model = _devices()
        values = {**device_data, "lastModified": datetime.now(UTC)}
        values.pop("id", None)
        changes = flatten(model.validate(values, partial=True))
        result = model.collection().update_one({"id": device_id}, {"$set": changes})
        if result.matched_count == 0:
            return None
        return model.collection().find_one({"id": device_id})

    def get_device(self, device_id: str) -> dict[str, Any] | None:
        return _devices().collection().find_one({"id": device_id})

    # -- deprecated: static access key + server sessions ----------------------------------------
    def check_access_key(self, device_id: str, key: str, group: str | None) -> list[str]:
        """mia.js's ``md5(secret + deviceId) + secretId`` key; returns the groups it grants.

        Raises 400 DeviceIdInvalid, 403 AccessKeyInvalid or 403 AccessKeyInvalidGroup. The group is
        checked only after the key verified (mia.js revealed unknown secrets and groups first), and a
        secret with ``enabled: False`` is refused as in generic-validateAccessKey (mia.js ignored it here).
        """
        if not isinstance(device_id, str) or len(device_id) < 32:
            raise MiaError(400, code="DeviceIdInvalid")
        if not isinstance(key, str) or len(key) != 64:
            raise MiaError(403, code="AccessKeyInvalid")
        digest, secret_id = key[:32], key[32:]
        secret_doc = Shared.models("generic-secret-model").collection().find_one({"id": secret_id})
        secret = secret_doc.get("secret") if secret_doc else None
        usable = isinstance(secret, str) and bool(secret)
        material = secret if isinstance(secret, str) and secret else "0" * 32
        expected = hashlib.md5((material + device_id).encode("utf-8")).hexdigest()
        matches = hmac.compare_digest(digest.lower().encode("utf-8"), expected.encode("ascii"))
        if not (matches and usable and secret_doc.get("enabled") is not False):  # a disabled secret is off here too
            raise MiaError(403, code="AccessKeyInvalid")
        groups = list(secret_doc.get("groups") or [])
        if group is not None and groups and group.lower() not in groups:
            raise MiaError(403, code="AccessKeyInvalidGroup")
        return groups or ([group] if group else [])

    def generate_session_id(self, device_id: str, ip: str | None, groups: list[str]) -> str | None:
        """A new 64-hex session bound to the caller's IP; None if the device does not exist."""
        session_id = secrets.token_hex(32)
        now = datetime.now(UTC)
        cidr = [c for c in [host_network(ip)] if c]
        result = _devices().collection().update_one({"id": device_id}, {"$set": {
            "session.id": session_id, "session.created": now, "session.cidr": cidr,
            "session.groups": [str(g).lower() for g in groups], "status": "active", "lastModified": now}})
        return session_id if result.matched_count else None

    def validate_session_token(self, session_id: str, ip: str | None, group: str | None) -> dict[str, Any]:
        """The device owning an unexpired session that covers ``group`` and ``ip``; raises 403 otherwise."""
        if not ip:
            raise MiaError(403, code="NoIPDetermined")
        device = _devices().collection().find_one({"session.id": session_id}) if session_id else None
        if device is None:
            raise MiaError(403, code="SessionTokenNotValid")
        session = device.get("session") or {}
        lifetime = int(Shared.config("generic-identity.tokenLifetimes.session") or 600)
        created = parse_date(session.get("created"))
        if session.get("expireable", True) is not False and (
                created is None or datetime.now(UTC) - created > timedelta(seconds=lifetime)):
            raise MiaError(403, code="SessionTokenNotValid")
        if device.get("status") != "active":
            raise MiaError(403, code="TemporaryDisabled")
        if group not in (session.get("groups") or []):
            raise MiaError(403, code="SessionInvalidGroup")
        try:
            allowed = in_networks(ip, session.get("cidr") or [])
        except ValueError:
            allowed = False
        if not allowed:
            raise MiaError(403, code="IPNotAllowed")
        return device

    # mia.js names (Generic Libs in the manual)
    def createDevice(self, options: Any, device_data: dict[str, Any] | None = None,  # noqa: N802
                     retry_count: int = CREATE_ATTEMPTS) -> dict[str, Any]:
        """The manual's form ``createDevice(options, deviceData, retryCount)``; ``createDevice(deviceData)`` too."""
        return self.create_device(options if device_data is None else device_data, retry_count)

    def updateDevice(self, options: Any, device_id: Any = None,  # noqa: N802 - the manual's name
                     device_data: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """The manual's form ``updateDevice(options, id, deviceData)``; ``updateDevice(id, deviceData)`` too."""
        if device_data is None:
            return self.update_device(options, device_id)
        return self.update_device(device_id, device_data)
    checkAccessKey = check_access_key
    generateSessionId = generate_session_id
    validateSessionToken = validate_session_token
