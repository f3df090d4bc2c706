"""The access log as an operator reads it: secrets never in a line, every line written on a gentle stop,
batched off the request thread, the same lines in text and JSON and at the log transport."""
from __future__ import annotations

import json
import logging
import threading
import urllib.request

import pytest
from serving_fixtures import ServerProcess, free_ports, get, serving_tree

pytestmark = pytest.mark.timeout(120)

SECRETS = {"access_token": "S3cretAccessTok", "password": "hunter2hunter2", "refreshToken": "R3freshTok",
           "client_secret": "C1ientSecret", "myCode": "Pr0jectSecret", "Pass%77ord": "EncodedName"}
TRANSPORT = '''
from core import Config

class FileSink(Config):
    identity = "file-sink"
    def write(self, event):
        with open({path!r}, "a", encoding="utf-8") as out:
            out.write(event["out"] + "\\n")
'''


def _query() -> str:
    return "&".join(f"{name}={value}" for name, value in SECRETS.items()) + "&flavour=visibleValue"


@pytest.mark.parametrize("engine", [{}, {"workers": 1, "engine": "granian"}], ids=["threaded", "granian"])
def test_no_secret_query_value_reaches_the_log_or_the_transport(tmp_path, engine):
    (port,) = free_ports(1)
    sink = tmp_path / "transport.log"
    tree = serving_tree(tmp_path / "app", {"server": {"http": {"host": "127.0.0.1", "port": port}, **engine},
                                           "logLevel": "info", "logFormat": "json", "logRedact": ["myCode"],
                                           "logTransport": "file-sink.write"})
    tree.write("projects/base/config/sink.py", TRANSPORT.format(path=str(sink)))
    base = f"http://127.0.0.1:{port}"
    with ServerProcess(tree.root) as proc:
        proc.wait_ready(f"{base}/t/hello")
        assert get(f"{base}/t/hello?{_query()}")[0] == 200
        assert get(f"{base}/t/0123456789abcdef0123456789abcdef?{_query()}")[0] == 404
        assert proc.terminate() == 0
        out = proc.output()
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"mia.access"' in line]
    messages = [e["message"] for e in lines]
    assert any("/t/hello?" in m and "flavour=visibleValue" in m and "access_token=***" in m for m in messages), out
    shipped = sink.read_text(encoding="utf-8")
    assert "flavour=visibleValue" in shipped
    for text in (out, shipped):
        for value in SECRETS.values():
            assert value not in text
        assert "0123456789abcdef0123456789abcdef" not in text


@pytest.mark.parametrize("engine", [{}, {"workers": 1, "engine": "granian"}], ids=["threaded", "granian"])
def test_every_access_line_is_written_when_the_server_is_stopped_gently(tmp_path, engine):
    (port,) = free_ports(1)
    tree = serving_tree(tmp_path / "app", {"server": {"http": {"host": "127.0.0.1", "port": port}, **engine},
                                           "logLevel": "info"})
    base = f"http://127.0.0.1:{port}"
    with ServerProcess(tree.root) as proc:
        proc.wait_ready(f"{base}/t/hello")
        ids = []
        for number in range(150):
            request = urllib.request.Request(f"{base}/t/hello?n={number}", headers={"X-Request-Id": f"gentle-{number}"})
            with urllib.request.urlopen(request, timeout=10) as answer:
                ids.append(answer.headers["X-Request-Id"])
        assert proc.terminate() == 0  # SIGTERM right after the last answer: the batch still pending is written
        out = proc.output()
    written = [line for line in out.splitlines() if "[mia.access]" in line and "GET /t/hello?n=" in line]
    assert len(written) == 150, out[-2000:]
    assert {line.rsplit("id=", 1)[1] for line in written} == set(ids)


def test_the_request_thread_only_queues_the_line(tree):
    """Formatting and writing happen on the writer: a request makes no logging call of its own."""
    from core.app import access_log

    tree.write("projects/base/routes/t.py", '''
routes = {"prefix": "/t", "routes": {"./x": {"list": {"identity": "x-route", "controller": [{"name": "out"}]}}}}
''')
    tree.env({"logLevel": "info"})
    app = tree.app()
    handled: list[str] = []
    original = logging.Logger.handle
    request_thread = threading.current_thread()

    def counting(self: logging.Logger, record: logging.LogRecord) -> None:
        if threading.current_thread() is request_thread:
            handled.append(record.name)
        original(self, record)

    access_log.flush()
    before = len(access_log.WRITER.pending)
    logging.Logger.handle = counting  # type: ignore[method-assign]
    try:
        client = app.test_client()
        for _ in range(25):
            assert client.get("/t/x?token=abc").status_code == 200
        queued = len(access_log.WRITER.pending) - before
    finally:
        logging.Logger.handle = original  # type: ignore[method-assign]
    assert "mia.access" not in handled and queued >= 1  # the writer may already have taken some
    access_log.flush()
    assert not access_log.WRITER.pending
    app.config["mia.databases"].close_all()


def test_redaction_is_by_name_and_covers_paths():
    from core.app import logs

    logs.set_redacted_names(["otpCode"])
    try:
        line = logs.redact_url("/devices/0123456789abcdef0123456789abcdef/x",
                               "ACCESS_TOKEN=a&Refresh-Token=b&id_token=c&otp_code=d&page=2&key")
        assert line == "/devices/***/x?ACCESS_TOKEN=***&Refresh-Token=***&id_token=***&otp_code=***&page=2&key"
        assert logs.redact('ws upgrade "GET /live?jwt=eyJabc.def&room=1 HTTP/1.1"') == \
            'ws upgrade "GET /live?jwt=***&room=1 HTTP/1.1"'
    finally:
        logs.set_redacted_names(())
