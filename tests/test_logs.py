"""Logging as an operator sees it: per-identifier levels, the access line with X-Request-Id, JSON
lines, a transport that never blocks a request."""
from __future__ import annotations

import io
import json
import logging
import sys
import threading
import time

import pytest
from serving_fixtures import ServerProcess, free_ports, get, serving_tree

pytestmark = pytest.mark.timeout(120)


def test_per_identifier_levels_and_request_ids_in_a_running_server(tmp_path):
    (port,) = free_ports(1)
    tree = serving_tree(tmp_path / "app", {"server": {"http": {"host": "127.0.0.1", "port": port}},
                                           "logLevel": "warn", "logLevels": {"slow-route": "info"}})
    base = f"http://127.0.0.1:{port}"
    env = {"LOG_LEVEL_HELLO_ROUTE": "debug"}  # the process environment names one more route
    with ServerProcess(tree.root, env=env) as proc:
        proc.wait_ready(f"{base}/t/hello")
        status, headers, _ = get(f"{base}/t/hello?key=0123456789", headers={"X-Request-Id": "req-42.a"})
        assert status == 200 and headers["X-Request-Id"] == "req-42.a"
        status, headers, _ = get(f"{base}/t/slow?s=0")
        generated = headers["X-Request-Id"]
        assert status == 200 and len(generated) == 32
        _, headers, _ = get(f"{base}/t/hello", headers={"X-Request-Id": "bad id\twith spaces"})
        assert headers["X-Request-Id"] != "bad id\twith spaces" and len(headers["X-Request-Id"]) == 32
        assert get(f"{base}/nothing-here")[0] == 404  # no identity: the default level (warn) hides it
        time.sleep(0.3)
        out = proc.output()
    assert "GET /t/hello?key=*** 200" in out and "id=req-42.a" in out  # the key never reaches the log
    assert "GET /t/slow?s=0 200" in out and f"id={generated}" in out
    assert "/nothing-here" not in out


def _capture() -> io.StringIO:
    """Point the mia handler (made once per process) at a buffer."""
    buffer = io.StringIO()
    handler = next(h for h in logging.getLogger("mia").handlers if getattr(h, "_mia", False))
    handler.setStream(buffer)
    return buffer


def test_identity_levels_apply_to_any_logger_named_for_it(tree, monkeypatch):
    from core.app import logs

    monkeypatch.setenv("LOG_LEVEL_MY_JOB", "trace")
    tree.env({"logLevel": "error", "logFormat": "json"})
    app = tree.app()
    buffer = _capture()
    logs.logger_for("my-job").log(logs.TRACE, "tick %d", 1)
    logs.logger_for("other-job").warning("hidden")
    logs.logger_for("other-job").error("shown")
    lines = [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]
    assert [(e["level"], e["message"], e["tag"]) for e in lines] == [
        ("trace", "tick 1", "mia.id.my-job"), ("error", "shown", "mia.id.other-job")]
    app.config["mia.databases"].close_all()


def test_log_level_none_silences_everything(tree):
    from core.app import logs

    tree.env({"logLevel": "none"})
    app = tree.app()
    buffer = _capture()
    logs.logger_for("x").critical("nothing")
    logging.getLogger("mia.access").error("nothing either")
    assert buffer.getvalue() == ""
    app.config["mia.databases"].close_all()


def test_a_slow_transport_never_blocks_a_request(tree):
    release = threading.Event()
    tree.write("projects/base/config/logsink.py", '''
import threading
from core import Config
RECEIVED = []
GATE = threading.Event()

class LogSink(Config):
    identity = "log-sink"
    def write(self, event):
        GATE.wait(10)
        RECEIVED.append(event)
''')
    tree.write("projects/base/routes/t.py", '''
routes = {"prefix": "/t", "routes": {"./x": {"list": {"identity": "x-route", "controller": [{"name": "out"}]}}}}
''')
    tree.env({"logLevel": "info", "logTransport": "log-sink.write"})
    app = tree.app()
    client = app.test_client()
    module = next(m for name, m in sys.modules.items() if name.endswith("config.logsink"))
    for _ in range(20):
        assert client.get("/t/x", headers={"X-Request-Id": "abc"}).status_code == 200
    assert module.RECEIVED == []  # every request answered while the transport is stuck on GATE
    module.GATE.set()
    deadline = time.monotonic() + 5
    while len(module.RECEIVED) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    access = [e for e in module.RECEIVED if e["identifier"] == "x-route"]
    assert len(access) == 20 and "GET /t/x 200" in access[0]["out"] and access[0]["level"] == "info"
    release.set()
    app.config["mia.databases"].close_all()


def test_unknown_transport_fails_start_up(tree):
    from core.errors import StartupError

    tree.env({"logTransport": "nope.write"})
    with pytest.raises(StartupError, match="logTransport 'nope.write'"):
        tree.app()
