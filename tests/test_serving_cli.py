"""The command line and the environment check, run as an operator runs them (subprocesses)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from serving_fixtures import ServerProcess, serving_tree

from conftest import ROOT
from core.errors import StartupError
from core.startup import env_check

pytestmark = pytest.mark.timeout(120)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "server.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_the_usage_and_exits_0(flag):
    result = run("local", flag)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: python server.py") and "routes" in result.stdout
    assert "listening" not in result.stdout


@pytest.mark.parametrize("argv, message", [
    (["local", "routs"], "unknown argument 'routs'"), (["local", "--verbose"], "unknown argument '--verbose'"),
    (["local", "hot", "nocrn"], "unknown argument 'nocrn'"), (["routs"], "unknown environment 'routs'"),
])
def test_unknown_token_exits_2_with_the_usage(argv, message):
    result = run(*argv)
    assert result.returncode == 2
    assert message in result.stderr and "usage: python server.py" in result.stderr
    assert "listening" not in result.stdout


def test_config_prints_the_effective_configuration_with_secrets_masked():
    env = {"MIA_MONGO_URL": "mongodb://admin:hunter2@db.example.test:27017/mia",
           "MIA_CFG_SERVER__HTTPS__PASSPHRASE": "s3cret", "MIA_CFG_SERVER__WORKERS": "2"}
    result = run("production", "config", env=env)
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["mongoDatabases"]["mia"]["url"] == "mongodb://admin:***@db.example.test:27017/mia"
    assert config["server"]["https"]["passphrase"] == "***" and config["server"]["workers"] == 2
    assert "hunter2" not in result.stdout and "s3cret" not in result.stdout


def test_an_env_typo_fails_start_up_naming_file_and_key(tmp_path):
    tree = serving_tree(tmp_path / "app", {"rateLimt": {"maxRequests": 5, "interval": 1}})
    with ServerProcess(tree.root) as proc:
        code = proc.proc.wait(60)
        out = proc.output()
    assert code == 2
    assert "unknown environment key 'rateLimt' (did you mean 'rateLimit'?)" in out
    assert str(tree.root / "config" / "env" / "test.py") in out
    assert "listening" not in out


@pytest.mark.parametrize("env, message", [
    ({"swagerMode": True}, "unknown environment key 'swagerMode' (did you mean 'swaggerMode'?)"),
    ({"server": {"http": {"prot": 3000}}}, "unknown environment key 'server.http.prot' (did you mean 'port'?)"),
    ({"server": {"workers": "4"}}, "environment key 'server.workers' must be an integer, got str"),
    ({"logLevel": "verbose"}, "environment key 'logLevel' must be one of none, fatal"),
    ({"memcached": {"servers": "a:1", "flushOnStrat": True}},
     "'memcached.flushOnStrat' (did you mean 'flushOnStart'?)"),
])
def test_environment_keys_and_types_are_checked(tree, env, message):
    tree.env(env)
    with pytest.raises(StartupError) as info:
        tree.app()
    assert message in str(info.value) and "test.py" in str(info.value)


def test_process_environment_overrides_use_one_prefix(tree, monkeypatch):
    monkeypatch.setenv("MIA_CFG_SERVER__HTTP__PORT", "4567")
    monkeypatch.setenv("MIA_CFG_MONGODATABASES__T__URL", "null")
    monkeypatch.setenv("MIA_CFG_TRUSTEDPROXIES", '["10.0.0.0/8"]')
    monkeypatch.setenv("MIA_CFG_DEBUG", "false")
    app = tree.app()
    from core.shared import Shared

    assert Shared.environment["server"]["http"]["port"] == 4567
    assert Shared.environment["trustedProxies"] == ["10.0.0.0/8"] and Shared.environment["debug"] is False
    app.config["mia.databases"].close_all()
    monkeypatch.setenv("MIA_CFG_SERVER__HTTP__PROT", "1")
    with pytest.raises(StartupError, match="MIA_CFG_SERVER__HTTP__PROT: 'PROT'"):
        tree.app()


def test_masking_covers_nested_passwords():
    out = env_check.masked({"mongoDatabases": {"a": {"url": "mongodb://u:p@h/db", "options": {"password": "x"}}},
                            "memcached": {"servers": "h:1"}})
    assert out["mongoDatabases"]["a"] == {"url": "mongodb://u:***@h/db", "options": {"password": "***"}}
    assert out["memcached"]["servers"] == "h:1"


def test_several_workers_without_memcached_refuse_rate_limits(tree):
    from core.app.serving.serve import check_shared_counters

    tree.env({"rateLimit": {"maxRequests": 10, "interval": 1}})
    app = tree.app()
    from core.shared import Shared

    with pytest.raises(StartupError, match="allow 4x the limit"):
        check_shared_counters(app, Shared.environment, 4)
    check_shared_counters(app, {**Shared.environment, "memcached": {"servers": "127.0.0.1:11211"}}, 4)
    check_shared_counters(app, Shared.environment, 1)
    app.config["mia.databases"].close_all()


def test_a_traditional_key_is_refused_by_name_for_granian(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from core.app.serving.listeners import Listener
    from core.app.serving.serve import granian_spec

    key = tmp_path / "ssl.key"
    key.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    listener = Listener("app", "https", port=4000, cert=str(key), key=str(key))
    with pytest.raises(StartupError, match=f"server.https.key {key}: granian reads PKCS#8 keys only"):
        granian_spec(listener, "test", None, {}, False, None)
