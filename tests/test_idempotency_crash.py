"""A server killed between an idempotent write and its answer (issue 27): what the client sees on retry.

The real ``python server.py crash`` runs in a copy of the repository with one extra route: the demo's
todo create followed by a controller that ``kill -9``s its own process once (when a marker file
exists), after the todo was written and before any answer left. The client's request fails with a
broken connection; the server is started again on the same data file and the client retries with the
same ``Idempotency-Key``: it gets ``409 IdempotencyKeyInUse`` with ``Retry-After`` while the dead
runner's lease lasts, then the chain runs once more, finds the todo its first run wrote
(``req.mia.idempotency.id``) and answers 200 with that todo's id. Exactly one todo exists.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from test_store_durability import call, kill_group, make_root, start

from conftest import free_port

DIE = '''
import os
import signal
from pathlib import Path

from core import Controller

MARKER = Path(__file__).resolve().parents[3] / "die-after-write"


class DieAfterWrite(Controller):
    identity = "crashy-dieAfterWrite"

    def all(self, req, res):
        if MARKER.exists():
            MARKER.unlink()
            os.kill(os.getpid(), signal.SIGKILL)  # the todo is written, the answer never leaves
'''
ROUTES = {"group": "demo", "prefix": "/crashy/v1", "routes": {"./todo": {"create": {
    "identity": "crashy-create", "idempotent": {"retention": "1h", "lockTimeout": 2},
    "controller": [{"name": "demo-todos"}, {"name": "crashy-dieAfterWrite"}, {"name": "generic-defaultResponse"}]}}}}


def post(port: int, key: str, body: dict) -> tuple[int, dict[str, str], dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/crashy/v1/todo", data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json",
                                                             "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


@pytest.mark.timeout(150)
def test_a_kill_between_the_write_and_the_answer_is_answered_once_on_retry(tmp_path):
    port = free_port()
    root = make_root(tmp_path, port)
    (root / "projects" / "crashy" / "controllers").mkdir(parents=True)
    (root / "projects" / "crashy" / "routes").mkdir()
    (root / "projects" / "crashy" / "controllers" / "die.py").write_text(DIE)
    (root / "projects" / "crashy" / "routes" / "crashy.py").write_text(f"routes = {ROUTES!r}\n")
    body = {"name": "written before the crash"}
    process = start(root, port)
    try:
        (root / "die-after-write").touch()
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            post(port, "crash-key-1", body)  # the connection breaks: the client does not know the outcome
        kill_group(process)  # the whole server, whatever engine served the request
        process = start(root, port)
        busy = []
        for _ in range(100):
            status, headers, answer = post(port, "crash-key-1", body)
            if status != 409:
                break
            busy.append(headers)
            time.sleep(0.2)
        assert all(h.get("Retry-After", "").isdigit() for h in busy)
        assert status == 200, answer
        assert "Idempotency-Replayed" not in headers  # this answer came from the re-run
        todos = [t for t in call(port, path="/demo/v1/todo?limit=100")[1]["response"] if t["name"] == body["name"]]
        assert len(todos) == 1 and answer["response"]["id"] == todos[0]["_id"]
        status, headers, again = post(port, "crash-key-1", body)
        assert (status, headers.get("Idempotency-Replayed"), again) == (200, "true", answer)
    finally:
        kill_group(process)
