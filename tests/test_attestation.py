"""Device attestation (issue 27): App Attest and Play Integrity, with chains and tokens built here.

The tests make their own App Attest roots, intermediates and credential certificates and their own
Play Integrity keys with ``cryptography``/``jwcrypto``, and configure the app to trust them (the
``generic-attestation`` config, as an environment would). They go through the demo's routes:
``POST /demo-auth/v1/devices/attestation/challenge``, ``POST /demo-auth/v1/devices`` with an
``attestation`` and ``GET /demo-auth/v1/attested/ping`` (generic-validateAttestedDevice).
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from datetime import UTC, datetime, timedelta

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from jwcrypto import jwe, jwk, jws

from client import v1_key
from core import Shared

APP_ID = "ABCDE12345.com.example.todo"
PACKAGE = "com.example.todo"
SECRET_ID, SECRET = "91205b43c5144068ee9979b093925f77", "74168c7a1868ddeee3355fab9489914b"  # the public demo secret
NONCE_OID = x509.ObjectIdentifier("1.2.840.113635.100.8.2")
PROD_AAGUID = b"appattest" + b"\x00" * 7


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def certificate(subject: str, key, issuer=None, issuer_key=None, ca=True, days=(-1, 365), extension=None):
    now = datetime.now(UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(issuer.subject if issuer is not None else name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now + timedelta(days=days[0])).not_valid_after(now + timedelta(days=days[1]))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if extension is not None:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(issuer_key or key, hashes.SHA384() if ca else hashes.SHA256())


class AppAttestDevice:
    """An iPhone's Secure Enclave key, attested by an App Attest CA the test controls."""

    def __init__(self, root, root_key, intermediate_days=(-1, 365), app_id=APP_ID, aaguid=PROD_AAGUID):
        self.key = ec.generate_private_key(ec.SECP256R1())
        public = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                    serialization.PublicFormat.UncompressedPoint)
        self.key_id = sha256(public)
        self.root, self.root_key = root, root_key
        self.inter_key = ec.generate_private_key(ec.SECP384R1())
        self.inter = certificate("Test App Attest CA 1", self.inter_key, root, root_key, days=intermediate_days)
        self.app_id, self.aaguid = app_id, aaguid
        self.counter = 0

    def attestation(self, challenge: str, nonce_challenge: str | None = None) -> dict[str, str]:
        auth_data = (sha256(self.app_id.encode()) + b"\x40" + (0).to_bytes(4, "big") + self.aaguid
                     + len(self.key_id).to_bytes(2, "big") + self.key_id + cbor2.dumps({1: 2, 3: -7}))
        nonce = sha256(auth_data + sha256((nonce_challenge or challenge).encode()))
        octets = b"\x04\x20" + nonce
        tagged = b"\xa1" + bytes([len(octets)]) + octets
        value = b"\x30" + bytes([len(tagged)]) + tagged
        credential = certificate(self.key_id.hex(), self.key, self.inter, self.inter_key, ca=False,
                                 extension=x509.UnrecognizedExtension(NONCE_OID, value))
        statement = {"x5c": [credential.public_bytes(serialization.Encoding.DER),
                             self.inter.public_bytes(serialization.Encoding.DER)], "receipt": b"test receipt"}
        attestation = cbor2.dumps({"fmt": "apple-appattest", "attStmt": statement, "authData": auth_data})
        return {"type": "apple-appattest", "challenge": challenge, "keyId": b64(self.key_id),
                "attestationObject": b64(attestation)}

    def assertion(self, method: str, target: str, body: bytes = b"", counter: int | None = None, key=None) -> str:
        self.counter = self.counter + 1 if counter is None else counter
        auth_data = sha256(self.app_id.encode()) + b"\x00" + self.counter.to_bytes(4, "big")
        client_data = b"\n".join([method.encode(), target.encode(), hashlib.sha256(body).hexdigest().encode()])
        signature = (key or self.key).sign(sha256(auth_data + sha256(client_data)), ec.ECDSA(hashes.SHA256()))
        return b64(cbor2.dumps({"signature": signature, "authenticatorData": auth_data}))


@pytest.fixture
def apple(app, monkeypatch):
    """A test App Attest root the app trusts for APP_ID; yields (root, root key)."""
    root_key = ec.generate_private_key(ec.SECP384R1())
    root = certificate("Test App Attestation Root CA", root_key, days=(-1, 3650))
    config = Shared.configs.get("generic-attestation")
    monkeypatch.setattr(config, "apple", {"appIds": ["OTHER12345.com.example.other", APP_ID],
                                          "environment": "production",
                                          "roots": [root.public_bytes(serialization.Encoding.PEM).decode()]})
    return root, root_key


def challenge(client) -> str:
    return client.post("/demo-auth/v1/devices/attestation/challenge").json["response"]["challenge"]


def register(client, attestation):
    return client.post("/demo-auth/v1/devices", json={"culture": {"code": "en-gb"}, "attestation": attestation})


def ping(client, device_id, assertion=None, path="/demo-auth/v1/attested/ping"):
    headers = {"key": v1_key(device_id, SECRET_ID, SECRET, "GET", "http://localhost", path, None)}
    if assertion is not None:
        headers["X-App-Attest-Assertion"] = assertion
    return client.get(path, headers=headers)


def error(reply):
    return reply.status_code, reply.json["errors"][0]["code"], reply.json["errors"][0].get("reason")


def devices():
    return Shared.models("generic-device-model").collection()


def test_a_valid_app_attest_registration_then_assertions_with_a_rising_counter(client, apple):
    phone = AppAttestDevice(*apple)
    registered = register(client, phone.attestation(challenge(client)))
    assert registered.status_code == 200 and registered.json["response"]["attested"] == "apple-appattest"
    device_id = registered.json["response"]["id"]
    stored = devices().find_one({"id": device_id})["attestation"]
    assert stored["keyId"] == b64(phone.key_id) and stored["appId"] == APP_ID and stored["counter"] == 0
    assert "BEGIN PUBLIC KEY" in stored["publicKey"]

    target = "/demo-auth/v1/attested/ping"
    assert ping(client, device_id, phone.assertion("GET", target)).status_code == 200
    assert ping(client, device_id, phone.assertion("GET", target)).status_code == 200
    assert devices().find_one({"id": device_id})["attestation"]["counter"] == 2
    assert error(ping(client, device_id, phone.assertion("GET", target, counter=2))) == (
        401, "AssertionInvalid", "counter")  # the same counter again: a replayed assertion
    assert error(ping(client, device_id, phone.assertion("GET", target, counter=1))) == (
        401, "AssertionInvalid", "counter")  # the counter went back
    assert error(ping(client, device_id)) == (401, "AssertionRequired", None)
    other_key = ec.generate_private_key(ec.SECP256R1())
    assert error(ping(client, device_id, phone.assertion("GET", target, counter=10, key=other_key))) == (
        401, "AssertionInvalid", "signature")
    assert error(ping(client, device_id, phone.assertion("GET", "/demo-auth/v1/todo", counter=11))) == (
        401, "AssertionInvalid", "signature")  # an assertion over another request
    assert ping(client, device_id, phone.assertion("GET", target, counter=12)).status_code == 200


def test_an_unattested_device_and_a_static_key_are_refused(client, apple):
    plain = client.post("/demo-auth/v1/devices", json={"culture": {"code": "en-gb"}}).json["response"]["id"]
    assert error(ping(client, plain)) == (403, "DeviceNotAttested", None)
    static = client.get("/demo-auth/v1/attested/ping", headers={"key": "9cd43d5622a2fa78b67b3412a2d8c614"})
    assert error(static) == (403, "DeviceNotAttested", None)


@pytest.mark.parametrize("case, reason", [
    ("wrong app id", "appId"), ("expired chain", "expired"), ("unknown root", "chain"),
    ("development aaguid", "environment"), ("nonce of another challenge", "nonce"), ("other key id", "keyId"),
])
def test_app_attest_failures_create_no_device(client, apple, case, reason):
    root, root_key = apple
    phone = AppAttestDevice(root, root_key)
    if case == "wrong app id":
        phone = AppAttestDevice(root, root_key, app_id="ABCDE12345.com.example.evil")
    elif case == "expired chain":
        phone = AppAttestDevice(root, root_key, intermediate_days=(-400, -1))
    elif case == "unknown root":
        other_key = ec.generate_private_key(ec.SECP384R1())
        phone = AppAttestDevice(certificate("Someone Else's Root", other_key), other_key)
    elif case == "development aaguid":
        phone = AppAttestDevice(root, root_key, aaguid=b"appattestdevelop")
    fresh = challenge(client)
    attestation = phone.attestation(fresh, nonce_challenge=challenge(client) if reason == "nonce" else None)
    if case == "other key id":
        attestation["keyId"] = b64(secrets.token_bytes(32))
    before = devices().count_documents({})
    assert error(register(client, attestation)) == (403, "AttestationInvalid", reason)
    assert devices().count_documents({}) == before


def test_a_challenge_works_once(client, apple):
    phone = AppAttestDevice(*apple)
    used = challenge(client)
    assert register(client, phone.attestation(used)).status_code == 200
    assert error(register(client, phone.attestation(used))) == (403, "AttestationInvalid", "challenge")
    assert error(register(client, phone.attestation("never-issued"))) == (403, "AttestationInvalid", "challenge")


# -- Play Integrity -----------------------------------------------------------------------------------------
@pytest.fixture
def play(app, monkeypatch):
    """Play Console keys of a test app: (decryption key bytes, signing key); the app is configured with them."""
    decryption = secrets.token_bytes(32)
    signing = ec.generate_private_key(ec.SECP256R1())
    public_der = signing.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    config = Shared.configs.get("generic-attestation")
    monkeypatch.setattr(config, "play", {**config.play, "packageNames": [PACKAGE],
                                         "decryptionKey": b64(decryption), "verificationKey": b64(public_der)})
    return decryption, signing


def integrity_token(keys, nonce, package=PACKAGE, age_ms=1000, device=("MEETS_DEVICE_INTEGRITY",),
                    wrap_key=None, sign_key=None):
    decryption, signing = keys
    verdict = {"requestDetails": {"requestPackageName": package, "nonce": nonce,
                                  "timestampMillis": str(int(time.time() * 1000) - age_ms)},
               "appIntegrity": {"appRecognitionVerdict": "PLAY_RECOGNIZED", "packageName": package,
                                "certificateSha256Digest": ["abc"], "versionCode": "42"},
               "deviceIntegrity": {"deviceRecognitionVerdict": list(device)},
               "accountDetails": {"appLicensingVerdict": "LICENSED"}}
    signer = jwk.JWK.from_pyca(sign_key or signing)
    inner = jws.JWS(json.dumps(verdict).encode())
    inner.add_signature(signer, alg="ES256", protected=json.dumps({"alg": "ES256"}))
    outer = jwe.JWE(inner.serialize(compact=True).encode(), protected=json.dumps({"alg": "A256KW", "enc": "A256GCM"}))
    raw = wrap_key or decryption
    outer.add_recipient(jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(raw).rstrip(b"=").decode()))
    return outer.serialize(compact=True)


def test_a_valid_play_integrity_verdict_attests_the_device(client, play):
    fresh = challenge(client)
    registered = register(client, {"type": "play-integrity", "challenge": fresh,
                                   "token": integrity_token(play, fresh)})
    assert registered.status_code == 200 and registered.json["response"]["attested"] == "play-integrity"
    device_id = registered.json["response"]["id"]
    stored = devices().find_one({"id": device_id})["attestation"]
    assert stored["packageName"] == PACKAGE and stored["deviceRecognitionVerdict"] == ["MEETS_DEVICE_INTEGRITY"]
    assert ping(client, device_id).status_code == 200  # Play devices pass on their stored verdict


@pytest.mark.parametrize("case, reason", [
    ("wrong package", "appId"), ("old verdict", "expired"), ("replayed nonce", "challenge"),
    ("nonce of another challenge", "nonce"), ("weak device", "verdict"), ("other encryption key", "format"),
    ("other signing key", "signature"),
])
def test_play_integrity_failures(client, play, case, reason):
    fresh = challenge(client)
    options: dict = {}
    nonce = fresh
    if case == "wrong package":
        options["package"] = "com.example.evil"
    elif case == "old verdict":
        options["age_ms"] = 3600 * 1000
    elif case == "nonce of another challenge":
        nonce = challenge(client)
    elif case == "weak device":
        options["device"] = ("MEETS_BASIC_INTEGRITY",)
    elif case == "other encryption key":
        options["wrap_key"] = secrets.token_bytes(32)
    elif case == "other signing key":
        options["sign_key"] = ec.generate_private_key(ec.SECP256R1())
    attestation = {"type": "play-integrity", "challenge": fresh, "token": integrity_token(play, nonce, **options)}
    if case == "replayed nonce":
        assert register(client, attestation).status_code == 200
    assert error(register(client, attestation)) == (403, "AttestationInvalid", reason)


def test_a_group_can_require_attested_devices_and_the_trail_names_the_outcomes(client, apple, monkeypatch):
    config = Shared.configs.get("generic-attestation")
    monkeypatch.setattr(config, "requiredForGroups", ["demo"])
    static = client.get("/demo-auth/v1/todo", headers={"key": "9cd43d5622a2fa78b67b3412a2d8c614"})
    assert error(static) == (403, "DeviceNotAttested", None)
    phone = AppAttestDevice(*apple)
    device_id = register(client, phone.attestation(challenge(client))).json["response"]["id"]
    target = "/demo-auth/v1/todo?limit=1"
    reply = ping(client, device_id, phone.assertion("GET", target), path=target)
    assert reply.status_code == 200
    evil = AppAttestDevice(*apple, app_id="ABCDE12345.com.example.evil")
    register(client, evil.attestation(challenge(client)))
    trail = Shared.db().auditTrail
    assert trail.count_documents({"event": "device.attested", "details.appId": APP_ID}) >= 1
    failed = trail.find_one({"event": "device.attestationFailed", "details.reason": "appId"})
    assert failed is not None and "attestationObject" not in json.dumps(failed, default=str)


def test_the_environment_key_is_checked_and_merged_over_the_config(tmp_path):
    from conftest import ROOT
    from core.app.factory import create_app
    from core.errors import StartupError

    application = create_app("test", ROOT, overrides={"attestation": {
        "play": {"packageNames": ["com.example.env"], "decryptionKey": "a2V5"}, "requiredForGroups": ["payments"]}})
    try:
        lib = Shared.libs("generic-deviceAttestation")
        play = lib.settings("play")
        assert play["packageNames"] == ["com.example.env"] and play["maxAge"] == 300  # the config's default stays
        assert lib.settings()["requiredForGroups"] == ["payments"]
    finally:
        application.config["mia.databases"].close_all()
    with pytest.raises(StartupError, match="did you mean 'apple'"):
        create_app("test", ROOT, overrides={"attestation": {"aple": {}}})
