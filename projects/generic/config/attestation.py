"""Device attestation settings (``generic-deviceAttestation``, README "Device attestation").

The environment key ``attestation`` (same shape) is merged over these per section, so the Play
Integrity keys and the real app ids live in ``config/env/<env>.py``, never here.
"""
from __future__ import annotations

from typing import Any

from core import Config


class AttestationConfig(Config):
    identity = "generic-attestation"
    version = "1.0"

    # Seconds a challenge from POST .../devices/attestation/challenge can be used (once).
    challengeLifetime = 300
    # Apple App Attest: "<TEAMID>.<bundle id>" of your apps; "development" or "production" aaguid;
    # roots: PEM texts (None = Apple's App Attestation Root CA, shipped in libs/attestation_apple.py).
    apple: dict[str, Any] = {"appIds": [], "environment": "production", "roots": None}
    # Android Play Integrity: your package names and the verdict levels a device must reach;
    # decryptionKey / verificationKey come from the environment (Play Console, response encryption).
    play: dict[str, Any] = {"packageNames": [], "maxAge": 300, "deviceRecognitionVerdict": "MEETS_DEVICE_INTEGRITY",
            "appRecognitionVerdicts": ["PLAY_RECOGNIZED"], "certificateSha256Digests": None,
            "decryptionKey": None, "verificationKey": None}
    # Registration without an attestation answers 403 AttestationRequired when True.
    requiredOnRegistration = False
    # Route groups whose every request needs an attested device (a fresh assertion for App Attest),
    # whatever the route's chain says: generic-validateAccessKey enforces it, static keys included.
    requiredForGroups: list[str] = []
