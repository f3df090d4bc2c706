"""Device attestation (``generic-deviceAttestation``): bind a device to a genuine app on a genuine phone.

Why: an app's secret ships inside the app, so a script can sign requests as well as the app can.
Attestation ties a device id to a key that Apple's Secure Enclave holds (App Attest) or to Google
Play's verdict about the app and the phone (Play Integrity), checked against a one-time challenge.

Flow: ``POST .../devices/attestation/challenge`` -> ``{"challenge"}`` (stored hashed in
``attestationChallenges`` until ``challengeLifetime``; one ``find_one_and_delete`` uses it up, so it
works once across every worker) -> the registration carries ``attestation`` (verified before the
device is created, attached to it after: ``device.attestation``) -> later requests of routes with
``generic-validateAttestedDevice`` (or of a group in ``requiredForGroups``) carry an App Attest
assertion in ``X-App-Attest-Assertion`` over the request (:func:`client_data`), whose counter must
rise: one conditional update (``attestation.counter < new``) accepts each counter once.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from core import Lib, MiaError, Shared

CHALLENGES = "attestationChallenges"
ASSERTION_HEADER = "X-App-Attest-Assertion"
APPLE, PLAY = "apple-appattest", "play-integrity"


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise _invalid("format", f"{what} is missing")
    try:
        text = value.strip().replace("-", "+").replace("_", "/")
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("format", f"{what} is not base64") from None


def _invalid(reason: str, detail: str = "", status: int = 403, code: str = "AttestationInvalid") -> MiaError:
    error = MiaError(status, code=code, reason=reason)
    error.detail = detail  # type: ignore[attr-defined]  # for the audit trail and logs, never secret
    return error


def client_data(req: Any) -> bytes:
    """What an App Attest assertion signs: ``METHOD\\npath?query\\nsha256_hex(body)`` (the request target
    exactly as sent, the body bytes exactly as sent)."""
    environ = req.environ
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not target:
        query = environ.get("QUERY_STRING", "")
        target = environ.get("PATH_INFO", "") + ("?" + query if query else "")
    body = bytes(getattr(req.mia, "raw_body", b"") or b"") or req.get_data(cache=True)
    return b"\n".join([req.method.encode(), str(target).encode("latin-1", errors="replace"),
                       hashlib.sha256(body).hexdigest().encode()])


class DeviceAttestation(Lib):
    identity = "generic-deviceAttestation"
    version = "1.0"

    # -- settings ----------------------------------------------------------------------------------
    @staticmethod
    def settings(section: str | None = None) -> Any:
        """``generic-attestation`` with the environment's ``attestation`` merged over it."""
        env = Shared.environment.get("attestation") or {}
        if section is None:
            return {**{k: Shared.config(f"generic-attestation.{k}") for k in
                       ("challengeLifetime", "requiredOnRegistration", "requiredForGroups")},
                    **{k: v for k, v in env.items() if k not in ("apple", "play")}}
        return {**(Shared.config(f"generic-attestation.{section}") or {}), **(env.get(section) or {})}

    @staticmethod
    def setting(name: str) -> Any:
        """One top-level value of :meth:`settings` (the environment's over the config's), without
        building the others: the key check asks for ``requiredForGroups`` on every request."""
        env = Shared.environment.get("attestation") or {}
        return env[name] if name in env else Shared.config(f"generic-attestation.{name}")

    # -- challenges --------------------------------------------------------------------------------
    def issue_challenge(self) -> dict[str, Any]:
        challenge = secrets.token_urlsafe(32)
        lifetime = int(self.settings()["challengeLifetime"] or 300)
        now = datetime.now(UTC)
        store = Shared.db()[CHALLENGES]
        store.create_index("expires", expireAfterSeconds=0)
        store.insert_one({"_id": hashlib.sha256(challenge.encode()).hexdigest(), "created": now,
                          "expires": now + timedelta(seconds=lifetime)})
        return {"challenge": challenge, "expiresIn": lifetime}

    @staticmethod
    def consume_challenge(challenge: Any) -> bool:
        """True once per issued, unexpired challenge (atomic across workers)."""
        if not isinstance(challenge, str) or not challenge:
            return False
        found = Shared.db()[CHALLENGES].find_one_and_delete(
            {"_id": hashlib.sha256(challenge.encode()).hexdigest(), "expires": {"$gt": datetime.now(UTC)}})
        return found is not None

    # -- registration ------------------------------------------------------------------------------
    def verify_registration(self, req: Any, payload: dict[str, Any]) -> dict[str, Any]:
        """The record to store on the device; raises 403 AttestationInvalid with a ``reason``."""
        kind = payload.get("type")
        try:
            if not self.consume_challenge(payload.get("challenge")):
                raise _invalid("challenge", "unknown, expired or already used challenge")
            record = self._apple(payload) if kind == APPLE else self._play(payload)
        except MiaError as err:
            reason = (err.errors[0].get("reason") if err.errors else None) or "invalid"
            Shared.libs("generic-auditTrail").record("device.attestationFailed", req, type=kind, reason=reason)
            raise
        Shared.libs("generic-auditTrail").record("device.attested", req, type=kind, appId=record.get("appId")
                                                 or record.get("packageName"))
        return record

    def _apple(self, payload: dict[str, Any]) -> dict[str, Any]:
        apple = Shared.libs("generic-appAttest")
        conf = self.settings("apple")
        key_id = _b64(payload.get("keyId"), "keyId")
        attestation = _b64(payload.get("attestationObject"), "attestationObject")
        roots = apple.load_roots(conf.get("roots") or [apple.root_pem])
        try:
            attested = apple.verify_attestation(attestation, key_id, str(payload["challenge"]).encode(),
                                                list(conf.get("appIds") or []), roots,
                                                str(conf.get("environment") or "production"))
        except apple.Error as exc:
            raise _invalid(exc.reason, str(exc)) from None
        return {"type": APPLE, "keyId": base64.b64encode(attested.key_id).decode(),
                "publicKey": attested.public_key_pem, "appId": attested.app_id,
                "environment": attested.environment, "counter": 0,
                "receipt": base64.b64encode(attested.receipt).decode(), "attestedAt": datetime.now(UTC)}

    def _play(self, payload: dict[str, Any]) -> dict[str, Any]:
        play = Shared.libs("generic-playIntegrity")
        conf = self.settings("play")
        token = payload.get("token")
        if not isinstance(token, str) or not token:
            raise _invalid("format", "token is missing")
        try:
            verdict = play.decode_token(token, conf.get("decryptionKey") or "", conf.get("verificationKey") or "")
            kept = play.check_verdict(verdict, str(payload["challenge"]), conf)
        except play.Error as exc:
            raise _invalid(exc.reason, str(exc)) from None
        return {"type": PLAY, **kept, "attestedAt": datetime.now(UTC)}

    @staticmethod
    def attach(device_id: str, record: dict[str, Any]) -> None:
        Shared.models("generic-device-model").collection().update_one({"id": device_id},
                                                                       {"$set": {"attestation": record}})

    # -- later requests ----------------------------------------------------------------------------
    def check_request(self, req: Any, device: dict[str, Any] | None) -> dict[str, Any]:
        """403 DeviceNotAttested for a device without attestation; for App Attest devices a valid
        assertion with a rising counter (401 AssertionRequired / AssertionInvalid)."""
        record = (device or {}).get("attestation")
        if not isinstance(record, dict) or record.get("type") not in (APPLE, PLAY):
            raise MiaError(403, code="DeviceNotAttested")
        if record["type"] == PLAY:
            return record
        header = req.headers.get(ASSERTION_HEADER)
        if not header:
            raise MiaError(401, code="AssertionRequired")
        apple = Shared.libs("generic-appAttest")
        try:
            assertion = _b64(header, ASSERTION_HEADER)
            counter = apple.verify_assertion(assertion, client_data(req), record["publicKey"], record["appId"],
                                             int(record.get("counter") or 0))
        except MiaError as err:
            raise _invalid("format", "", 401, "AssertionInvalid") from err
        except apple.Error as exc:
            raise _invalid(exc.reason, str(exc), 401, "AssertionInvalid") from None
        moved = Shared.models("generic-device-model").collection().update_one(
            {"id": device["id"], "attestation.keyId": record["keyId"],  # type: ignore[index]
             "attestation.counter": {"$lt": counter}}, {"$set": {"attestation.counter": counter}})
        if moved.modified_count != 1:  # another request with this counter (or a higher one) came first
            raise _invalid("counter", "the counter was already used", 401, "AssertionInvalid")
        record["counter"] = counter
        return record

    def enforce_group(self, req: Any, device: dict[str, Any]) -> None:
        """``requiredForGroups``: the route's group needs an attested device (called by the key check)."""
        groups = self.setting("requiredForGroups") or []
        route = getattr(req.mia, "route", None)
        if groups and route is not None and route.group in groups:
            self.check_request(req, device)
