"""Android Play Integrity verdicts, decrypted and verified here with the app's own keys (no network call).

A Play Integrity token is a JWE (``A256KW`` key wrap, ``A256GCM`` content) around a JWS (``ES256``)
whose payload is the verdict. The Play Console's "manage response encryption" gives the two keys:
``decryptionKey`` (base64 of 32 bytes) and ``verificationKey`` (base64 of the DER public key); put them
in the environment (``attestation.play``), never in the repository.

Checked: the algorithms (nothing else is accepted), decryption, the signature, ``requestDetails.nonce``
equals the server's challenge, ``requestDetails.requestPackageName`` and ``appIntegrity.packageName``
are a configured package, ``timestampMillis`` is at most ``maxAge`` seconds old (and not in the future
beyond a minute), ``appIntegrity.appRecognitionVerdict`` and ``deviceIntegrity.deviceRecognitionVerdict``
meet the configured levels, and, when configured, the signing certificate digest. Not checked: the
licensing verdict and environment details unless a project reads them from the stored verdict;
Google's own server-side decryption is never called.
"""
from __future__ import annotations

import base64
import json
import time
from typing import Any

from core import Lib

KEY_WRAP, CONTENT, SIGNATURE = "A256KW", "A256GCM", "ES256"


class IntegrityError(Exception):
    """A failed check; ``reason`` is a short word for the answer and the audit trail."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def _b64(value: str) -> bytes:
    text = value.strip()
    return base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4))


def decode_token(token: str, decryption_key: str, verification_key: str) -> dict[str, Any]:
    """The verdict payload of ``token``; raises IntegrityError for anything not decrypted and verified."""
    # Loaded on first use: a worker that never sees an Android registration does not import them.
    from cryptography.hazmat.primitives import serialization
    from jwcrypto import jwe, jwk, jws  # type: ignore[import-untyped]  # jwcrypto publishes no type information
    from jwcrypto.common import JWException  # type: ignore[import-untyped]  # (the same package)

    if not decryption_key or not verification_key:
        raise IntegrityError("notConfigured", "attestation.play needs decryptionKey and verificationKey")
    try:
        wrap_key = jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(_b64(decryption_key)).rstrip(b"=").decode())
        public = serialization.load_der_public_key(_b64(verification_key))
        verify_key = jwk.JWK.from_pyca(public)
    except (ValueError, TypeError) as exc:
        raise IntegrityError("notConfigured", "the configured Play Integrity keys cannot be read") from exc
    try:
        outer = jwe.JWE(algs=[KEY_WRAP, CONTENT])
        outer.deserialize(token.strip(), key=wrap_key)
        header = outer.jose_header
        if header.get("alg") != KEY_WRAP or header.get("enc") != CONTENT:
            raise IntegrityError("format", "the token is not A256KW/A256GCM")
        inner = jws.JWS()
        inner.allowed_algs = [SIGNATURE]
        inner.deserialize(outer.payload.decode())
        inner.verify(verify_key, alg=SIGNATURE)
        payload = json.loads(inner.payload)
    except IntegrityError:
        raise
    except jws.InvalidJWSSignature as exc:
        raise IntegrityError("signature", "the verdict is not signed with the verification key") from exc
    except (JWException, ValueError, TypeError, UnicodeDecodeError, KeyError) as exc:
        raise IntegrityError("format", "the token cannot be decrypted or read") from exc
    if not isinstance(payload, dict):
        raise IntegrityError("format", "the verdict is not a JSON object")
    return payload


def check_verdict(payload: dict[str, Any], challenge: str, settings: dict[str, Any],
                  now_ms: int | None = None) -> dict[str, Any]:
    """The parts of the verdict a device record keeps; raises IntegrityError naming the failed check."""
    details = payload.get("requestDetails") or {}
    app = payload.get("appIntegrity") or {}
    device = payload.get("deviceIntegrity") or {}
    if details.get("nonce") != challenge:
        raise IntegrityError("nonce", "the verdict is not for this challenge")
    packages = list(settings.get("packageNames") or [])
    package = details.get("requestPackageName")
    if package not in packages or app.get("packageName") not in (None, package):
        raise IntegrityError("appId", "the verdict is for another app")
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    try:
        stamp = int(str(details.get("timestampMillis")))
    except (TypeError, ValueError) as exc:
        raise IntegrityError("format", "timestampMillis is missing") from exc
    if now_ms - stamp > int(settings.get("maxAge") or 300) * 1000 or stamp - now_ms > 60_000:
        raise IntegrityError("expired", "the verdict is too old")
    allowed_apps = settings.get("appRecognitionVerdicts") or ["PLAY_RECOGNIZED"]
    if app.get("appRecognitionVerdict") not in allowed_apps:
        raise IntegrityError("verdict", "the app is not recognized")
    needed = settings.get("deviceRecognitionVerdict") or "MEETS_DEVICE_INTEGRITY"
    if needed not in (device.get("deviceRecognitionVerdict") or []):
        raise IntegrityError("verdict", f"the device does not meet {needed}")
    digests = settings.get("certificateSha256Digests")
    if digests and not set(app.get("certificateSha256Digest") or []) & set(digests):
        raise IntegrityError("verdict", "the app is signed with another certificate")
    return {"packageName": package, "appRecognitionVerdict": app.get("appRecognitionVerdict"),
            "deviceRecognitionVerdict": list(device.get("deviceRecognitionVerdict") or []),
            "versionCode": str(app.get("versionCode")) if app.get("versionCode") is not None else None,
            "appLicensingVerdict": (payload.get("accountDetails") or {}).get("appLicensingVerdict")}


class PlayIntegrity(Lib):
    """``Shared.libs("generic-playIntegrity")``: the functions above for other project modules."""

    identity = "generic-playIntegrity"
    version = "1.0"
    Error = IntegrityError
    decode_token = staticmethod(decode_token)
    check_verdict = staticmethod(check_verdict)
