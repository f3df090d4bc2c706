"""Numbers and enumerations of the environment are checked at start-up, naming the file, with a suggestion.

Also: ``Shared.config`` of an unknown identity answers None (as mia.js) and logs one warning that
names the closest identities.
"""
from __future__ import annotations

import logging

import pytest

from core.errors import StartupError
from core.shared import Shared


@pytest.mark.parametrize("env, message", [
    ({"server": {"http": {"port": 70000}}},
     "environment key 'server.http.port' must be a number from 0 to 65535, got 70000 (use a value from 0 to 65535)"),
    ({"server": {"http": {"port": -1}}}, "'server.http.port' must be a number from 0 to 65535, got -1"),
    ({"server": {"https": {"port": 100000, "cert": "c", "key": "k"}}}, "'server.https.port' must be a number"),
    ({"server": {"workers": 0}}, "'server.workers' must be a number from 1 to 512, got 0"),
    ({"server": {"threads": 0}}, "'server.threads' must be a number from 1 to 1024, got 0"),
    ({"server": {"gracefulTimeout": -5}}, "'server.gracefulTimeout' must be a number from 0 to 3600"),
    ({"swaggerMode": "ja"}, "environment key 'swaggerMode' must be one of true, false, 0, 1, y, n, yes, no, on, off, "
                            "got 'ja'"),
    ({"swaggerMode": 2}, "'swaggerMode' must be one of true, false"),
    ({"skipDatabaseIndexingOnNewCollections": "yess"}, "(did you mean 'yes'?)"),
    ({"maxConcurrentRequests": 0}, "'maxConcurrentRequests' must be a number of at least 1, got 0"),
    ({"maxLag": -10}, "'maxLag' must be a number of at least 0.001"),
    ({"cronJobs": {"stopTimeout": -1}}, "'cronJobs.stopTimeout' must be a number from 0 to 3600"),
    ({"cronJobs": {"deadServerInterval": 5}}, "'cronJobs.deadServerInterval' must be a number of at least 100"),
    ({"embedded": {"lockWait": -1}}, "'embedded.lockWait' must be a number from 0 to 600"),
    ({"websocket": {"maxMessageSize": "64 kilobytes"}}, "'websocket.maxMessageSize' has the wrong form"),
    ({"websocket": {"pingInterval": 0}}, "'websocket.pingInterval' must be a number of at least 0.001"),
    ({"jwt": {"algorithms": ["HS256", "none"]}}, "'jwt.algorithms' has an entry that must be one of hs256"),
    ({"jwt": {"leeway": 86400}}, "'jwt.leeway' must be a number from 0 to 600"),
    ({"logLevels": {"todos": "verbose"}}, "'logLevels' entry 'todos' must be one of none, fatal"),
    ({"server": {"engine": "gunicron"}}, "(did you mean 'gunicorn'?)"),
])
def test_numbers_and_choices_are_checked_naming_the_file(tree, env, message):
    tree.env(env)
    with pytest.raises(StartupError) as info:
        tree.app()
    assert message in str(info.value)
    assert str(tree.root / "config" / "env" / "test.py") in str(info.value)


@pytest.mark.parametrize("env", [
    {"server": {"http": {"port": 0}, "workers": 1, "threads": 4}}, {"swaggerMode": "yes"}, {"swaggerMode": 0},
    {"swaggerMode": False}, {"websocket": {"maxMessageSize": "64kb"}}, {"websocket": {"maxMessageSize": 1024}},
    {"logLevels": {"todos": "debug"}}, {"rateLimit": {"maxRequests": 5, "interval": 2}},
])
def test_values_in_range_start(tree, env):
    tree.env(env)
    tree.app().config["mia.databases"].close_all()


def test_a_port_out_of_range_from_the_process_environment_is_refused(tree, monkeypatch):
    monkeypatch.setenv("PORT", "70000")
    with pytest.raises(StartupError, match=r"'server.http.port' must be a number from 0 to 65535, got 70000"):
        tree.app()
    monkeypatch.delenv("PORT")
    monkeypatch.setenv("MIA_CFG_SERVER__WORKERS", "0")
    with pytest.raises(StartupError, match=r"'server.workers' must be .* \(in process environment"):
        tree.app()


def test_unknown_config_identity_answers_none_and_warns_once_naming_the_closest(tree, caplog):
    tree.write("projects/base/config/shop.py", """
        from core import Config

        class Shop(Config):
            identity = "shop-config"
            title = "Gelato"
        """)
    app = tree.app()
    try:
        with caplog.at_level(logging.WARNING, logger="mia.shared"):
            assert Shared.config("shop-config.title") == "Gelato"
            assert Shared.config("shop-confg.title") is None
            assert Shared.config("shop-confg.other") is None
        warnings = [r.getMessage() for r in caplog.records if r.name == "mia.shared"]
        assert len(warnings) == 1, warnings
        assert "'shop-confg'" in warnings[0] and "'shop-config'" in warnings[0]
    finally:
        app.config["mia.databases"].close_all()
