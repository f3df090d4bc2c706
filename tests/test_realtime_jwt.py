"""JWT sessions: generic-validateJWT's exact 401/403 answers, key rotation by ``kid``, group policies, and
refresh-token rotation with reuse detection (a reused refresh token revokes its family).

The app is the repository's (environment ``test``: HS256 key ``demo-1``) with two more keys added
through overrides: an RS256 and an ES256 key, generated per run. ``GET /demo/v1/me`` is the route
under test: generic-validateJWT, then the policy ``{"groups": ["users"]}``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from realtime_kit import PASSWORD, add_demo_user

from conftest import ROOT
from core.app.factory import create_app
from core.errors import StartupError
from core.shared import Shared

ME = "/demo/v1/me"
HS_SECRET = "demo-only-jwt-secret-0f5b2c7e9a4d4e1f8c3b"  # config/env/test.py (demo value)


def pem(private) -> tuple[str, str]:
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private_pem, public_pem


RSA_PRIVATE, RSA_PUBLIC = pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
EC_PRIVATE, EC_PUBLIC = pem(ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture
def app():
    application = create_app("test", ROOT, overrides={"jwt": {
        "algorithms": ["HS256", "RS256", "ES256"],
        "keys": {"rsa-1": {"alg": "RS256", "publicKey": RSA_PUBLIC},  # verify only: issued elsewhere
                 "ec-1": {"alg": "ES256", "publicKey": EC_PUBLIC}}}})
    add_demo_user()
    yield application
    application.config["mia.databases"].close_all()


def claims(**extra):
    now = int(time.time())
    base = {"sub": "grace", "account": "demo", "groups": ["users"], "iat": now, "nbf": now, "exp": now + 300,
            "iss": "mia.py", "aud": "mia.py-demo"}
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def hs(payload, kid="demo-1", key=HS_SECRET):
    return jwt.encode(payload, key, algorithm="HS256", headers={"kid": kid})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def me(client, token):
    return client.get(ME, headers={"Authorization": f"Bearer {token}"})


def code(reply):
    return reply.json["errors"][0]["code"]


# ------------------------------------------------------------------------------------------ accepted
def test_valid_tokens_of_every_configured_key_are_accepted(client):
    for token in (hs(claims()),
                  jwt.encode(claims(), RSA_PRIVATE, algorithm="RS256", headers={"kid": "rsa-1"}),
                  jwt.encode(claims(), EC_PRIVATE, algorithm="ES256", headers={"kid": "ec-1"})):
        reply = me(client, token)
        assert reply.status_code == 200, reply.json
        assert reply.json["response"] == {"account": "demo", "username": "grace", "groups": ["users"]}


def test_login_issues_a_working_pair(client):
    reply = client.post("/demo/v1/token", json={"login": "grace", "password": PASSWORD})
    assert reply.status_code == 200
    pair = reply.json["response"]
    assert pair["tokenType"] == "Bearer" and pair["expiresIn"] == 900
    header = jwt.get_unverified_header(pair["accessToken"])
    assert header == {"alg": "HS256", "kid": "demo-1", "typ": "JWT"}
    assert me(client, pair["accessToken"]).json["response"]["username"] == "grace"
    wrong = client.post("/demo/v1/token", json={"login": "grace", "password": "nope"})
    assert wrong.status_code == 401 and code(wrong) == "InvalidCredentials"
    unknown = client.post("/demo/v1/token", json={"login": "nobody", "password": PASSWORD})
    assert unknown.status_code == 401 and code(unknown) == "InvalidCredentials"


def test_leeway_accepts_small_clock_skew(client):
    now = int(time.time())
    assert me(client, hs(claims(exp=now - 10))).status_code == 200  # leeway 30 s
    assert me(client, hs(claims(nbf=now + 10, iat=now + 10))).status_code == 200


# ------------------------------------------------------------------------------------------ refused
@pytest.mark.parametrize(("name", "token_of", "expected"), [
    ("expired", lambda: hs(claims(exp=int(time.time()) - 120)), "TokenExpired"),
    ("not yet valid", lambda: hs(claims(nbf=int(time.time()) + 120)), "TokenNotYetValid"),
    ("issued in the future", lambda: hs(claims(iat=int(time.time()) + 120)), "TokenNotYetValid"),
    ("wrong audience", lambda: hs(claims(aud="someone-else")), "TokenAudienceInvalid"),
    ("wrong issuer", lambda: hs(claims(iss="evil.example")), "TokenIssuerInvalid"),
    ("no exp", lambda: hs(claims(exp=None)), "TokenInvalid"),
    ("wrong secret", lambda: hs(claims(), key="x" * 40), "TokenInvalid"),
    ("unknown kid", lambda: hs(claims(), kid="retired-0"), "TokenKeyUnknown"),
    ("garbage", lambda: "not-a-jwt", "TokenInvalid"),
])
def test_bad_tokens_answer_401_with_their_code(client, name, token_of, expected):
    reply = me(client, token_of())
    assert reply.status_code == 401, (name, reply.json)
    assert code(reply) == expected, name
    assert reply.headers["WWW-Authenticate"].endswith('error="invalid_token"')


def test_alg_none_is_refused(client):
    unsigned = jwt.encode(claims(), None, algorithm="none", headers={"kid": "demo-1"})
    reply = me(client, unsigned)
    assert reply.status_code == 401 and code(reply) == "TokenAlgorithmInvalid"
    no_kid = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims()).encode()) + "."
    reply = me(client, no_kid)
    assert reply.status_code == 401 and code(reply) in ("TokenKeyUnknown", "TokenAlgorithmInvalid")


def test_hs_rs_confusion_is_refused(client):
    """HS256 'signed' with the RSA public key (which an attacker knows) under the RSA key's kid."""
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    body = b64(json.dumps(claims(groups=["users", "admin"])).encode())
    signature = hmac.new(RSA_PUBLIC.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    reply = me(client, f"{header}.{body}.{b64(signature)}")
    assert reply.status_code == 401 and code(reply) == "TokenAlgorithmInvalid"
    # and RS256 under the HS key's kid is refused the same way
    reply = me(client, jwt.encode(claims(), RSA_PRIVATE, algorithm="RS256", headers={"kid": "demo-1"}))
    assert reply.status_code == 401 and code(reply) == "TokenAlgorithmInvalid"


def test_missing_token_is_401_with_a_bare_challenge(client):
    reply = client.get(ME)
    assert reply.status_code == 401 and code(reply) == "TokenMissing"
    assert reply.headers["WWW-Authenticate"] == 'Bearer realm="http://localhost/demo/v1"'
    assert client.get(ME, headers={"Authorization": "Basic Z3JhY2U6cHc="}).status_code == 401


def test_missing_groups_is_403(client):
    reply = me(client, hs(claims(groups=["guests"])))
    assert reply.status_code == 403
    assert reply.json == {"status": 403, "errors": [{
        "code": "GroupPolicyViolation", "msg": "Your groups do not satisfy the group policy of this service: users"}]}
    assert me(client, hs(claims(groups=None))).status_code == 403


# ------------------------------------------------------------------------------------------ refresh tokens
def refresh(client, token):
    return client.post("/demo/v1/token/refresh", json={"refreshToken": token})


def test_refresh_rotates_and_a_reused_token_revokes_the_family(client):
    first = client.post("/demo/v1/token", json={"login": "grace", "password": PASSWORD}).json["response"]
    second = refresh(client, first["refreshToken"])
    assert second.status_code == 200
    second = second.json["response"]
    assert second["refreshToken"] != first["refreshToken"]
    assert me(client, second["accessToken"]).status_code == 200
    third = refresh(client, second["refreshToken"]).json["response"]  # the owner keeps rotating

    reused = refresh(client, first["refreshToken"])  # a copy of an old token shows up
    assert reused.status_code == 401 and code(reused) == "RefreshTokenReused"
    after = refresh(client, third["refreshToken"])  # the newest token of the family is dead too
    assert after.status_code == 401 and code(after) == "RefreshTokenReused"
    tokens = Shared.models("generic-refreshToken-model").collection()
    family = {doc["status"] for doc in tokens.find({"username": "grace"})}
    assert family == {"revoked"}
    assert all(len(doc["_id"]) == 64 for doc in tokens.find({}))  # only digests are stored


def test_refresh_of_unknown_expired_and_revoked_tokens(client):
    unknown = refresh(client, "x" * 43)
    assert unknown.status_code == 401 and code(unknown) == "RefreshTokenInvalid"
    pair = client.post("/demo/v1/token", json={"login": "grace", "password": PASSWORD}).json["response"]
    revoked = client.post("/demo/v1/token/revoke", json={"refreshToken": pair["refreshToken"]})
    assert revoked.status_code == 200
    again = refresh(client, pair["refreshToken"])
    assert again.status_code == 401 and code(again) == "RefreshTokenReused"
    pair = client.post("/demo/v1/token", json={"login": "grace", "password": PASSWORD}).json["response"]
    tokens = Shared.models("generic-refreshToken-model").collection()
    tokens.update_many({"status": "active"}, {"$set": {"expires": tokens.find_one({})["created"]}})
    expired = refresh(client, pair["refreshToken"])
    # the TTL index may already have removed it (the embedded store expires on read; MongoDB within 60 s)
    assert expired.status_code == 401 and code(expired) in ("RefreshTokenExpired", "RefreshTokenInvalid")


# ------------------------------------------------------------------------------------------ start-up
def write_policy_project(tree, chain, policy):
    tree.write("projects/base/routes/p.py", f"routes = {{'group': 'p', 'prefix': '/p', 'routes': {{'./x': {{"
                                            f"'get': {{'controller': {chain!r}, 'policy': {policy!r}}}}}}}}}")


def test_policy_without_a_session_controller_stops_start_up(tree):
    write_policy_project(tree, [{"name": "out"}], {"groups": ["admin"]})
    with pytest.raises(StartupError) as failed:
        tree.app()
    assert "sets req.mia.session" in str(failed.value) and str(Path("routes/p.py")) in str(failed.value)


@pytest.mark.parametrize("policy", [{"groups": []}, {"groups": ["a"], "groupPolicy": "some"}, {"group": ["a"]}])
def test_bad_policies_stop_start_up(tree, policy):
    write_policy_project(tree, [{"name": "out"}], policy)
    with pytest.raises(StartupError, match="policy"):
        tree.app()


def test_group_policy_all_needs_every_group(tree):
    tree.write("projects/base/controllers/session.py", '''
from core import Controller

class FakeSession(Controller):
    identity = "fake-session"
    sets_session = True
    def all(self, req, res):
        req.mia.session = {"groups": req.headers.get("groups", "").split(",")}
''')
    write_policy_project(tree, [{"name": "fake-session"}, {"name": "out"}],
                         {"groups": ["a", "b"], "groupPolicy": "all"})
    client = tree.app().test_client()
    assert client.get("/p/x", headers={"groups": "a,b,c"}).status_code == 200
    reply = client.get("/p/x", headers={"groups": "a"})
    assert reply.status_code == 403 and reply.json["errors"][0]["code"] == "GroupPolicyViolation"
