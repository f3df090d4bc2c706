"""generic-deviceAttestation and generic-validateAttestedDevice (README "Device attestation").

A registration route wraps generic-deviceProfile's ``create``::

    [{"name": "generic-deviceAttestation", "function": "verifyRegistration"}, {"name": "generic-deviceProfile"},
     {"name": "generic-deviceAttestation", "function": "attach"}, {"name": "generic-defaultResponse"}]

``challenge`` issues the one-time challenge the app attests over. A route that only attested devices
may call puts generic-validateAttestedDevice after generic-validateAccessKey.
"""
from __future__ import annotations

from typing import Any

from core import Controller, MiaError, Shared

ATTESTATION = {
    "type": {"type": str, "allow": ["apple-appattest", "play-integrity"],
             "desc": "apple-appattest (App Attest) or play-integrity (Play Integrity verdict)"},
    "challenge": {"type": str, "maxLength": 200, "desc": "From .../attestation/challenge"},
    "keyId": {"type": str, "maxLength": 100, "desc": "App Attest: the key id (base64)"},
    "attestationObject": {"type": str, "maxLength": 20000, "desc": "App Attest: the attestation object (base64)"},
    "token": {"type": str, "maxLength": 20000, "desc": "Play Integrity: the integrity token (JWE)"},
}
FAILURES = {401: ["AssertionRequired", "AssertionInvalid"], 403: ["DeviceNotAttested"]}


def _lib() -> Any:
    return Shared.libs("generic-deviceAttestation")


class DeviceAttestation(Controller):
    identity = "generic-deviceAttestation"
    version = "1.0"
    group = "generic"
    preconditions = {
        "challenge": {"responses": {200: "Success"}},
        "verifyRegistration": {"parameters": {"body": {"attestation": ATTESTATION}},
                               "responses": {403: ["AttestationInvalid", "AttestationRequired"]}},
    }

    def challenge(self, req: Any, res: Any) -> None:
        """``{"challenge", "expiresIn"}``: attest over it within ``expiresIn`` seconds, once."""
        res.response = _lib().issue_challenge()

    def verifyRegistration(self, req: Any, res: Any) -> None:
        """Verify ``attestation`` of the registration body before the device exists."""
        payload = (req.mia.validated_parameters.get("body") or {}).get("attestation")
        if payload:
            if payload.get("type") not in ("apple-appattest", "play-integrity"):
                raise MiaError(403, code="AttestationInvalid", reason="format")
            req.mia.attestation = _lib().verify_registration(req, payload)
        elif _lib().settings().get("requiredOnRegistration"):
            raise MiaError(403, code="AttestationRequired")

    def attach(self, req: Any, res: Any) -> None:
        """Store the verified attestation on the device generic-deviceProfile just created."""
        record = getattr(req.mia, "attestation", None)
        device_id = (res.response or {}).get("id") if isinstance(res.response, dict) else None
        if record and device_id:
            _lib().attach(device_id, record)
            res.response = {**res.response, "attested": record["type"]}


class ValidateAttestedDevice(Controller):
    """Only attested devices pass; App Attest devices also prove each request with an assertion."""

    identity = "generic-validateAttestedDevice"
    version = "1.0"
    group = "generic"
    authenticates = True  # an idempotent route claims its key after this (core/http/idempotency.py)
    preconditions = {"all": {"parameters": {"header": {"x-app-attest-assertion": {
        "type": str, "maxLength": 4000, "desc": "App Attest assertion over METHOD, path and body hash (base64)"}}},
        "responses": FAILURES}}

    def all(self, req: Any, res: Any) -> None:
        if not req.mia.device:
            raise MiaError(500)
        req.mia.attestation = _lib().check_request(req, req.mia.device)
