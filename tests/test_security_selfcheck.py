"""The security self-check (issue 22 N7, N10 and the ``check`` command).

N7: production start-up refuses a missing or weak ``MIA_JWT_SECRET`` (the published demo value,
``a`` * 32, ``changeme...``), demo keys written into the environment, and CORS ``*`` with
credentials, each in one line naming the variable or key. N10: ``server.py ENV config`` masks
inline private keys, secret URL options and AWS session tokens. ``server.py ENV check`` prints every
finding without starting, exit 1 when any is high.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

import pytest

from conftest import ROOT
from core.app.check import report
from core.app.factory import create_app
from core.errors import StartupError
from core.startup.env_check import masked

pytestmark = pytest.mark.timeout(120)
DEMO_JWT_SECRET = "demo-only-jwt-secret-0f5b2c7e9a4d4e1f8c3b"  # config/env/local.py: public
ONE_WORKER = {"server": {"http": {"host": "127.0.0.1", "port": 0}, "workers": 1}, "embedded": {"path": None},
              "logLevel": "none"}


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "server.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=90, env={**os.environ, **(env or {})})


def production_app(**extra):
    app = create_app("production", overrides={**ONE_WORKER, **extra})
    app.config["mia.databases"].close_all()
    return app


def test_production_refuses_to_start_without_the_jwt_secret(monkeypatch):
    monkeypatch.delenv("MIA_JWT_SECRET")
    with pytest.raises(StartupError) as info:
        production_app()
    assert "\n  MIA_JWT_SECRET: is not set: jwt.keys.main (HS256) has no secret" in str(info.value)
    assert "config/env/production.py" in str(info.value)


@pytest.mark.parametrize("value, reason", [
    (DEMO_JWT_SECRET, "is a published demo value"),
    ("a" * 32, "is one short pattern repeated"),
    ("changeme-changeme-please-1234567890", "looks like a placeholder"),
    ("0123456789abcdef", "is shorter than 32 characters"),
    ("ab" * 24, "is one short pattern repeated"),
    ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab1", "has too little randomness"),
])
def test_production_refuses_a_weak_jwt_secret_naming_the_variable(monkeypatch, value, reason):
    monkeypatch.setenv("MIA_JWT_SECRET", value)
    with pytest.raises(StartupError) as info:
        production_app()
    line = next(line for line in str(info.value).splitlines() if "MIA_JWT_SECRET" in line)
    assert line.startswith(f"  MIA_JWT_SECRET: {reason}") and "forged" in line
    assert value not in str(info.value)  # the refusal never prints the secret


def test_production_starts_with_a_strong_secret_and_tokens_sign_with_it(monkeypatch):
    monkeypatch.setenv("MIA_JWT_SECRET", secrets.token_urlsafe(48))
    production_app()


def test_a_demo_key_written_into_a_production_environment_is_refused():
    keys = {"algorithms": ["HS256"], "signingKey": "demo-1",
            "keys": {"demo-1": {"alg": "HS256", "secret": DEMO_JWT_SECRET}}}
    with pytest.raises(StartupError, match=r"jwt.keys.demo-1.secret: is a published demo value"):
        production_app(jwt=keys)


def test_a_weak_admin_key_for_job_control_is_refused():
    with pytest.raises(StartupError, match=r"control.adminKey: is shorter than 32 characters: it opens /_mia/crons"):
        production_app(control={"adminKey": "letmein"})


def test_development_environments_may_use_the_demo_values(monkeypatch):
    monkeypatch.delenv("MIA_JWT_SECRET")
    create_app("test", ROOT).config["mia.databases"].close_all()  # the demo key: allowDemo opts in


CORS_ROUTES = '''
routes = {"group": "g", "prefix": "/g", "corsHeaders": {"Access-Control-Allow-Origin": "*",
                                                         "Access-Control-Allow-Credentials": True},
          "routes": {"./x": {"list": {"identity": "x", "controller": [{"name": "out"}]}}}}
'''


def test_cors_star_with_credentials_refuses_production_naming_the_route_file(tree):
    tree.env({"allowDemo": False})
    path = tree.write("projects/base/routes/open.py", CORS_ROUTES)
    with pytest.raises(StartupError) as info:
        tree.app()
    assert f"corsHeaders ({path}): Access-Control-Allow-Origin '*' with Access-Control-Allow-Credentials" \
        in str(info.value)
    tree.env({"allowDemo": True})  # development: allowed, reported as low by check
    tree.app().config["mia.databases"].close_all()


def test_server_refuses_production_in_one_line_per_reason():
    result = run("production", env={"MIA_JWT_SECRET": "a" * 40, "MIA_CFG_SERVER__WORKERS": "1",
                                    "MIA_CFG_EMBEDDED__PATH": "null", "PORT": "0"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "MIA_JWT_SECRET: is one short pattern repeated" in result.stderr
    assert "Traceback" not in result.stderr and "listening" not in result.stdout


def test_check_lists_every_finding_and_exits_1_on_a_high_one():
    result = run("production", "check", env={"MIA_JWT_SECRET": "changeme", "MIA_CFG_SERVER__WORKERS": "2",
                                             "MIA_CFG_SERVER__HTTP__PORT": "70000", "MIA_CFG_DEBUG": "true"})
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "mia: security self-check of environment 'production' (production)"
    assert any(line.startswith("high   server.http.port: environment key 'server.http.port' must be a number "
                               "from 0 to 65535, got 70000") for line in lines)
    assert any(line.startswith("high   MIA_JWT_SECRET: is shorter than 32 characters") for line in lines)
    assert any(line.startswith("medium memcached.servers: not set with 2 worker processes") for line in lines)
    assert any(line.startswith("medium server.https: no HTTPS listener") for line in lines)
    assert any(line.startswith("medium debug: debug blocks") for line in lines)
    assert lines[-1] == "2 high, 3 medium, 0 low"
    assert "changeme" not in result.stdout


def test_check_of_a_sound_environment_exits_0(monkeypatch):
    monkeypatch.setenv("MIA_JWT_SECRET", secrets.token_urlsafe(48))
    monkeypatch.setenv("MIA_CFG_SERVER__WORKERS", "1")
    monkeypatch.setenv("MIA_CFG_TRUSTEDPROXIES", '["10.0.0.0/8"]')
    code, lines = report("production")
    assert code == 0, lines
    assert lines[-1] == "0 high, 0 medium, 0 low" and lines[1] == "no findings"


def test_check_of_the_local_environment_reports_the_demo_values_as_low():
    code, lines = report("local")
    assert code == 0
    assert any(line.startswith("low    jwt.keys.demo-1.secret: is a published demo value") for line in lines)


PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcPRIVATEPEM\n-----END PRIVATE KEY-----"


def test_config_masks_private_keys_url_options_and_aws_session_tokens():
    url = ("mongodb://AKIAEXAMPLE:awsSecretValue1@db.example.test/mia?tls=true&tlsCertificateKeyFilePassword=hunter3"
           "&authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:FQoGZXIvYXdzSESSION1,SERVICE_NAME:x")
    options = {"tlsCertificateKeyFilePassword": "hunter4",
               "authMechanismProperties": {"AWS_SESSION_TOKEN": "FQoGZXIvYXdzSESSION2"}}
    jwt = {"algorithms": ["RS256"], "signingKey": "rsa", "keys": {"rsa": {"alg": "RS256", "privateKey": PEM}}}
    result = run("production", "config", env={"MIA_MONGO_URL": url, "MIA_CFG_JWT": json.dumps(jwt),
                                              "MIA_CFG_MONGODATABASES__MIA__OPTIONS": json.dumps(options)})
    assert result.returncode == 0, result.stderr
    for secret in ("awsSecretValue1", "hunter3", "hunter4", "SESSION1", "SESSION2", "PRIVATEPEM", "BEGIN PRIVATE"):
        assert secret not in result.stdout, secret
    config = json.loads(result.stdout)
    assert config["jwt"]["keys"]["rsa"] == {"alg": "RS256", "privateKey": "***"}
    assert config["mongoDatabases"]["mia"]["url"] == (
        "mongodb://AKIAEXAMPLE:***@db.example.test/mia?tls=true&tlsCertificateKeyFilePassword=***"
        "&authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:***,SERVICE_NAME:x")
    assert config["mongoDatabases"]["mia"]["options"] == {
        "tlsCertificateKeyFilePassword": "***", "authMechanismProperties": {"AWS_SESSION_TOKEN": "***"}}
    assert config["jwt"]["signingKey"] == "rsa"  # names of keys stay readable


def test_masking_keeps_references_and_numbers():
    out = masked({"jwt": {"accessTokenLifetime": 900, "keys": {"k": {"alg": "HS256", "secretEnv": "MIA_JWT_SECRET"}}},
                  "server": {"https": {"key": "/etc/tls/key.pem", "passphrase": "pw"}},
                  "memcached": {"servers": "token-cache:11211"}})
    assert out["jwt"] == {"accessTokenLifetime": 900, "keys": {"k": {"alg": "HS256", "secretEnv": "MIA_JWT_SECRET"}}}
    assert out["server"]["https"] == {"key": "/etc/tls/key.pem", "passphrase": "***"}
    assert out["memcached"]["servers"] == "token-cache:11211"
