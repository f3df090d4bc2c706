"""Broken HTTP on every engine (threaded, granian, gunicorn), sent as raw bytes on loopback: a malformed
chunked body is a 400 in the JSON envelope and no handler runs; an over-long request line, too many
headers and a garbage request line answer 414/431/400 in the envelope with their own codes; a body
shorter than its Content-Length answers 408 after ``server.bodyTimeout`` instead of waiting forever."""
from __future__ import annotations

import json
import socket
import time

import pytest
from serving_fixtures import ServerProcess, free_ports, serving_tree

pytestmark = pytest.mark.timeout(120)
ENGINES = ["threaded", "granian", "gunicorn"]

RECORDER = '''
import os
from core import Controller

class Record(Controller):
    identity = "record"
    def all(self, req, res):
        with open(os.environ["MIA_TEST_MARKS"], "a") as marks:
            marks.write("ran\\n")
        res.response = {"received": len(req.mia.raw_body or b"")}
'''

RECORD_ROUTES = '''
routes = {"group": "r", "prefix": "/r", "routes": {
    "./record": {"post": {"identity": "record-route", "controller": [{"name": "record"}, {"name": "out"}]}},
}}
'''

CHUNKED = (b"POST /r/record HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
BAD_BODIES = {
    "bad chunk size": CHUNKED + b"ZZ\r\n{}\r\n0\r\n\r\n",
    "chunk longer than its size": CHUNKED + b"2\r\n{\"a\": 1}\r\n0\r\n\r\n",
    "chunk size overflow": CHUNKED + b"FFFFFFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n",
}


def exchange(port: int, raw: bytes, timeout: float = 10) -> tuple[int, bytes, bytes]:
    """Send ``raw`` and read until the server closes: (status, head, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
                if b"\r\n\r\n" in data and _complete(data):
                    break
        except ConnectionResetError:
            pass
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/") else 0
    return status, head, body


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


@pytest.fixture(scope="module", params=ENGINES)
def server(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"protocol-{request.param}")
    (port,) = free_ports(1)
    env = {"server": {"http": {"host": "127.0.0.1", "port": port}, "engine": request.param, "workers": 1,
                      "bodyTimeout": 1}, "logLevel": "warn"}
    tree = serving_tree(root / "app", env)
    tree.write("projects/base/controllers/record.py", RECORDER)
    tree.write("projects/base/routes/r.py", RECORD_ROUTES)
    marks = root / "marks.txt"
    with ServerProcess(tree.root, env={"MIA_TEST_MARKS": str(marks)}) as proc:
        proc.wait_ready(f"http://127.0.0.1:{port}/t/hello")
        yield port, marks, proc, request.param


def test_a_good_chunked_body_reaches_the_handler(server):
    port, marks, _, _ = server
    status, _, body = exchange(port, CHUNKED + b"2\r\n{}\r\n0\r\n\r\n")
    assert (status, json.loads(body)) == (200, {"status": 200, "response": {"received": 2}})
    assert "ran" in marks.read_text()


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_a_malformed_chunked_body_is_a_400_and_no_handler_runs(server, case):
    port, marks, proc, _ = server
    before = marks.read_text() if marks.exists() else ""
    status, head, body = exchange(port, BAD_BODIES[case])
    assert status == 400, (head, body)
    assert b"application/json" in head.lower() and json.loads(body)["errors"][0]["code"] == "BadRequest"
    time.sleep(0.2)
    assert (marks.read_text() if marks.exists() else "") == before, "the handler ran on a malformed body"
    assert "Traceback" not in proc.output()


@pytest.mark.parametrize("raw, status, code", [
    (b"GARBAGE\r\n\r\n", 400, "BadRequest"),
    (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "URITooLong"),
    (b"GET /t/hello HTTP/1.1\r\nHost: x\r\n" + b"X-a: b\r\n" * 120 + b"\r\n", 431, "RequestHeaderFieldsTooLarge"),
], ids=["garbage", "uri-too-long", "too-many-headers"])
def test_protocol_errors_answer_the_envelope_with_their_own_code(server, raw, status, code):
    port, _, _, engine = server
    answered, head, body = exchange(port, raw)
    assert answered == status, head
    if engine == "granian":  # hyper answers these in Rust before Python runs; no option sets a body (README)
        assert body == b"" and b"content-length: 0" in head.lower()
        return
    assert b"application/json" in head.lower(), head
    assert json.loads(body)["errors"][0]["code"] == code and json.loads(body)["status"] == status


STALLED = (b"POST /r/record HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"
           b"Connection: close\r\n\r\n{\"a\":")


GRANIAN_STALL = ("granian 2.8 has no body timeout and its wsgi.input read cannot be interrupted from Python: a "
                 "stalled body holds a thread until the client closes (README Production, 'Errors of the HTTP layer')")


def test_a_body_shorter_than_its_content_length_times_out_with_408(server, request):
    port, marks, _, engine = server
    if engine == "granian":
        request.applymarker(pytest.mark.xfail(strict=True, raises=TimeoutError, reason=GRANIAN_STALL))
    before = marks.read_text() if marks.exists() else ""
    status, head, body = exchange(port, STALLED, timeout=5)
    assert status == 408, (head, body)
    assert json.loads(body)["errors"][0]["code"] == "RequestTimeout"
    assert (marks.read_text() if marks.exists() else "") == before


def test_stalled_bodies_do_not_hold_the_server(server, request):
    """More stalled bodies than the worker has threads (4): each ends in 408, and other requests are answered."""
    port, marks, _, engine = server
    if engine == "granian":
        request.applymarker(pytest.mark.xfail(strict=True, raises=TimeoutError, reason=GRANIAN_STALL))
    before = marks.read_text() if marks.exists() else ""
    stalled = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(6)]
    try:
        for sock in stalled:
            sock.sendall(STALLED)
        answers = []
        for sock in stalled:
            data = b""
            while b"}" not in data.partition(b"\r\n\r\n")[2]:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
            answers.append(int(data.split(b" ")[1]) if data.startswith(b"HTTP/") else 0)
    finally:
        for sock in stalled:
            sock.close()
    assert answers == [408] * 6
    status, _, body = exchange(port, b"GET /t/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (status, json.loads(body)) == (200, {"status": 200, "response": "hello"})
    assert (marks.read_text() if marks.exists() else "") == before
