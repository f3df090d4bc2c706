"""Apple App Attest: the attestation of a new key and the assertions signed with it later.

Pure functions over bytes (no Flask, no database), so the tests feed them chains they build.
What is checked, in Apple's order ("Validating apps that connect to your server"):

attestation (CBOR ``{fmt: "apple-appattest", attStmt: {x5c, receipt}, authData}``)
  1. ``fmt``; the ``x5c`` chain (credential certificate, intermediate) up to one of the configured
     roots: each certificate signed by the next, each valid now, issuers are CAs;
  2. nonce = SHA256(authData || SHA256(challenge)) equals the credential certificate's extension
     1.2.840.113635.100.8.2 (SEQUENCE { [1] { OCTET STRING nonce } });
  3. SHA256(the certificate's public key, uncompressed X9.62 point) equals the key id;
  4. authData: rpIdHash = SHA256(app id) for a configured app id, counter 0, aaguid
     ``appattestdevelop`` (development) or ``appattest`` + 7 zero bytes (production), credentialId =
     the key id.
assertion (CBOR ``{signature, authenticatorData}``)
  signature (ECDSA P-256, SHA-256) over SHA256(authenticatorData || SHA256(clientData)) with the
  stored key; rpIdHash = SHA256(app id); the counter must be above the stored one (the caller
  stores it atomically).

Not checked: the receipt (it is kept, base64, for Apple's fraud-metric service, which needs a
network call), revocation of Apple's certificates (no OCSP), the risk metric.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from core import Lib

if TYPE_CHECKING:  # cryptography and cbor2 load on first use: a worker without attested devices never pays
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

NONCE_OID = "1.2.840.113635.100.8.2"
AAGUIDS = {"development": b"appattestdevelop", "production": b"appattest" + b"\x00" * 7}
# Apple App Attestation Root CA (public; valid until 2045-03-15), from Apple's Private PKI page.
APPLE_ROOT_PEM = """-----BEGIN CERTIFICATE-----
MIICITCCAaegAwIBAgIQC/O+DvHN0uD7jG5yH2IXmDAKBggqhkjOPQQDAzBSMSYw
JAYDVQQDDB1BcHBsZSBBcHAgQXR0ZXN0YXRpb24gUm9vdCBDQTETMBEGA1UECgwK
QXBwbGUgSW5jLjETMBEGA1UECAwKQ2FsaWZvcm5pYTAeFw0yMDAzMTgxODMyNTNa
Fw00NTAzMTUwMDAwMDBaMFIxJjAkBgNVBAMMHUFwcGxlIEFwcCBBdHRlc3RhdGlv
biBSb290IENBMRMwEQYDVQQKDApBcHBsZSBJbmMuMRMwEQYDVQQIDApDYWxpZm9y
bmlhMHYwEAYHKoZIzj0CAQYFK4EEACIDYgAERTHhmLW07ATaFQIEVwTtT4dyctdh
NbJhFs/Ii2FdCgAHGbpphY3+d8qjuDngIN3WVhQUBHAoMeQ/cLiP1sOUtgjqK9au
Yen1mMEvRq9Sk3Jm5X8U62H+xTD3FE9TgS41o0IwQDAPBgNVHRMBAf8EBTADAQH/
MB0GA1UdDgQWBBSskRBTM72+aEH/pwyp5frq5eWKoTAOBgNVHQ8BAf8EBAMCAQYw
CgYIKoZIzj0EAwMDaAAwZQIwQgFGnByvsiVbpTKwSga0kP0e8EeDS4+sQmTvb7vn
53O5+FRXgeLhpJ06ysC5PrOyAjEAp5U4xDgEgllF7En3VcE3iexZZtKeYnpqtijV
oyFraWVIyd/dganmrduC1bmTBGwD
-----END CERTIFICATE-----
"""


class AttestationError(Exception):
    """A failed check; ``reason`` is a short word for the answer and the audit trail (never a secret)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class AttestedKey:
    key_id: bytes
    public_key_pem: str
    app_id: str
    environment: str
    receipt: bytes


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def load_roots(pems: list[str]) -> list[x509.Certificate]:
    from cryptography import x509

    return [x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem) for pem in pems]


def _decode(data: bytes, what: str) -> dict[Any, Any]:
    import cbor2

    try:
        value = cbor2.loads(data)
    except Exception as exc:  # noqa: BLE001 - any decoding failure is a malformed object
        raise AttestationError("format", f"{what} is not CBOR") from exc
    if not isinstance(value, dict):
        raise AttestationError("format", f"{what} is not a CBOR map")
    return value


def _valid_now(cert: x509.Certificate, now: datetime) -> None:
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise AttestationError("expired", f"certificate {cert.subject.rfc4514_string()} is not valid now")


def _is_ca(cert: x509.Certificate) -> bool:
    from cryptography import x509

    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def verify_chain(chain: list[x509.Certificate], roots: list[x509.Certificate], now: datetime) -> None:
    """Each certificate signed by the next, the last by a root; all valid now; issuers are CAs."""
    for cert in chain:
        _valid_now(cert, now)
    for cert, issuer in zip(chain, chain[1:], strict=False):
        _signed_by(cert, issuer)
    for root in roots:
        if chain[-1].issuer == root.subject:
            try:
                _signed_by(chain[-1], root)
            except AttestationError:
                continue
            _valid_now(root, now)
            return
    raise AttestationError("chain", "the chain does not end at a configured App Attest root")


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    from cryptography.exceptions import InvalidSignature

    if not _is_ca(issuer):
        raise AttestationError("chain", "an issuer is not a CA")
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise AttestationError("chain", "a certificate is not signed by its issuer") from exc


def _der_length(data: bytes, at: int) -> tuple[int, int]:
    first = data[at]
    if first < 0x80:
        return first, at + 1
    count = first & 0x7F
    return int.from_bytes(data[at + 1:at + 1 + count], "big"), at + 1 + count


def extension_nonce(cert: x509.Certificate) -> bytes:
    """The OCTET STRING inside SEQUENCE { [1] EXPLICIT { OCTET STRING } } of Apple's nonce extension."""
    from cryptography import x509

    try:
        raw = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(NONCE_OID)).value.value  # type: ignore[attr-defined]
    except (x509.ExtensionNotFound, AttributeError) as exc:
        raise AttestationError("nonce", "no nonce extension in the credential certificate") from exc
    try:
        at = 0
        for tag in (0x30, 0xA1, 0x04):
            if raw[at] != tag:
                raise ValueError(tag)
            length, at = _der_length(raw, at + 1)
        return bytes(raw[at:at + length])
    except (IndexError, ValueError) as exc:
        raise AttestationError("nonce", "the nonce extension is malformed") from exc


def public_key_bytes(key: ec.EllipticCurvePublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def parse_auth_data(data: bytes) -> dict[str, Any]:
    if len(data) < 37:
        raise AttestationError("format", "authenticator data is too short")
    parsed: dict[str, Any] = {"rpIdHash": data[:32], "flags": data[32], "counter": int.from_bytes(data[33:37], "big")}
    if len(data) >= 55:
        length = int.from_bytes(data[53:55], "big")
        parsed.update(aaguid=data[37:53], credentialId=data[55:55 + length])
    return parsed


def verify_attestation(attestation_object: bytes, key_id: bytes, challenge: bytes, app_ids: list[str],
                       roots: list[x509.Certificate], environment: str = "production",
                       now: datetime | None = None) -> AttestedKey:
    """Every check of an attestation; raises :class:`AttestationError` naming the first that failed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    now = now or datetime.now(UTC)
    decoded = _decode(attestation_object, "attestation")
    if decoded.get("fmt") != "apple-appattest":
        raise AttestationError("format", "fmt is not apple-appattest")
    statement, auth_data = decoded.get("attStmt") or {}, decoded.get("authData")
    x5c = statement.get("x5c") if isinstance(statement, dict) else None
    if not isinstance(auth_data, bytes) or not isinstance(x5c, list) or not x5c:
        raise AttestationError("format", "attStmt.x5c and authData are required")
    try:
        chain = [x509.load_der_x509_certificate(bytes(der)) for der in x5c]
    except (ValueError, TypeError) as exc:
        raise AttestationError("format", "x5c holds something that is not a certificate") from exc
    verify_chain(chain, roots, now)
    credential = chain[0]
    if extension_nonce(credential) != sha256(auth_data + sha256(challenge)):
        raise AttestationError("nonce", "the nonce does not match the challenge")
    public_key = credential.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise AttestationError("keyId", "the credential key is not an EC key")
    if sha256(public_key_bytes(public_key)) != key_id:
        raise AttestationError("keyId", "the key id is not the hash of the credential's public key")
    parsed = parse_auth_data(auth_data)
    app_id = next((a for a in app_ids if sha256(a.encode()) == parsed["rpIdHash"]), None)
    if app_id is None:
        raise AttestationError("appId", "the attestation is for another app")
    if parsed["counter"] != 0:
        raise AttestationError("counter", "a new key's counter must be 0")
    if parsed.get("aaguid") != AAGUIDS.get(environment):
        raise AttestationError("environment", f"the aaguid is not App Attest's {environment} value")
    if parsed.get("credentialId") != key_id:
        raise AttestationError("keyId", "the credential id is not the key id")
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    receipt = statement.get("receipt")
    return AttestedKey(key_id=key_id, public_key_pem=pem.decode(), app_id=app_id, environment=environment,
                       receipt=bytes(receipt) if isinstance(receipt, bytes) else b"")


def verify_assertion(assertion: bytes, client_data: bytes, public_key_pem: str, app_id: str,
                     stored_counter: int) -> int:
    """The assertion's counter when signature, app id and counter hold; raises AttestationError."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    decoded = _decode(assertion, "assertion")
    signature, auth_data = decoded.get("signature"), decoded.get("authenticatorData")
    if not isinstance(signature, bytes) or not isinstance(auth_data, bytes):
        raise AttestationError("format", "signature and authenticatorData are required")
    key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise AttestationError("signature", "the stored key is not an EC key")
    try:
        key.verify(signature, sha256(auth_data + sha256(client_data)), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise AttestationError("signature", "the assertion is not signed by the attested key") from exc
    parsed = parse_auth_data(auth_data)
    if parsed["rpIdHash"] != sha256(app_id.encode()):
        raise AttestationError("appId", "the assertion is for another app")
    if parsed["counter"] <= stored_counter:
        raise AttestationError("counter", "the counter did not rise")
    return int(parsed["counter"])


class AppAttest(Lib):
    """``Shared.libs("generic-appAttest")``: the functions above for other project modules."""

    identity = "generic-appAttest"
    version = "1.0"
    Error = AttestationError
    root_pem = APPLE_ROOT_PEM
    load_roots = staticmethod(load_roots)
    verify_attestation = staticmethod(verify_attestation)
    verify_assertion = staticmethod(verify_assertion)
