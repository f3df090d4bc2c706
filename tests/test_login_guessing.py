"""Guessing credentials in parallel (issue 22, N4-N6): every login path shares one protection.

50 guesses arrive at once on each path (device login, the JWT login ``demo-jwtLogin``, a third-party
login, a password reset). Each attempt reserves its place in the lockout counters before anything is
checked, so at most ``lockout.maxFailures`` (per login) or ``maxFailuresPerIp`` checks run per
window, the rest answer 429 at once, and the right credentials sent while the counter is full are
refused too. The work is counted (hash verifications, Graph API calls, failed-login lines), never
timed. The hash pool's queue is bounded: with one slot taken, further logins answer 503 with
Retry-After at once while other routes keep answering.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, wait
from http.server import ThreadingHTTPServer

import pytest
from argon2 import PasswordHasher
from realtime_kit import PASSWORD as GRACE_PASSWORD
from realtime_kit import add_demo_user
from test_users import Device, FakeGraph, codes, custom, custom_device, users  # noqa: F401 - fixtures

from conftest import serve_live
from core import Shared

GUESSES, LIMIT = 50, 5
PASSWORD = "correct horse 9"


class GatedHasher:
    """argon2 with a gate: every verification is counted, then waits until the test opens the gate."""

    def __init__(self, real):
        self.real, self.verifies, self.gate, self.lock = real, 0, threading.Event(), threading.Lock()

    def __getattr__(self, name):
        return getattr(self.real, name)

    def verify(self, *args, **kwargs):
        with self.lock:
            self.verifies += 1
        self.gate.wait(30)
        return self.real.verify(*args, **kwargs)


def identity(monkeypatch, **sections):
    config = Shared.configs.get("generic-identity")
    for name, values in sections.items():
        monkeypatch.setattr(config, name, {**getattr(config, name), **values})


@pytest.fixture
def gated(monkeypatch):
    """Cheap argon2 behind a gate; lockout 5 per login; a hash pool wide enough for the burst."""
    passwords = Shared.libs("generic-passwords")
    cheap = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    monkeypatch.setattr(passwords, "hasher", cheap)
    monkeypatch.setattr(passwords, "_dummy", passwords.hash("dummy password for timing"))
    identity(monkeypatch, lockout={"maxFailures": LIMIT, "maxFailuresPerIp": 1000, "window": 60, "duration": 60},
             passwordHashing={"concurrency": 8, "maxWaiting": 100, "queueTimeout": 30})
    hasher = GatedHasher(cheap)
    monkeypatch.setattr(passwords, "hasher", hasher)
    yield hasher
    hasher.gate.set()


def burst(wrong, right, gate=None):
    """``GUESSES`` wrong attempts at once; once all but the reserved ones answered, the right one.

    Returns (statuses of the wrong attempts, the reply to the right one sent inside the burst).
    """
    with ThreadPoolExecutor(GUESSES) as pool:
        futures = [pool.submit(wrong, n) for n in range(GUESSES)]
        deadline = time.monotonic() + 60
        while sum(f.done() for f in futures) < GUESSES - LIMIT and time.monotonic() < deadline:
            time.sleep(0.01)
        inside = right()
        if gate is not None:
            gate.set()
        done, pending = wait(futures, timeout=60)
        assert not pending
    return sorted(f.result() for f in futures), inside


def failure_lines(caplog, what="login"):
    return [r for r in caplog.records if r.getMessage().startswith(f"failed {what} ")]


# ----------------------------------------------------------------------------- N4: the device login
def test_parallel_wrong_passwords_check_at_most_the_limit_on_the_device_login(app, gated, caplog):
    caplog.set_level(logging.WARNING, "mia.generic.logins")
    phone = Device(app.test_client())
    credentials = {"login": "mia@example.com", "password": PASSWORD}
    gated.gate.set()
    assert phone.call("POST", "/users/me", credentials).status_code == 200
    gated.gate.clear()

    def clone():
        device = Device.__new__(Device)
        device.client, device.prefix, device.secret, device.id = app.test_client(), phone.prefix, phone.secret, phone.id
        return device

    def attempt(password):
        return clone().call("POST", "/users/me/login/native", {"login": "mia@example.com", "password": password})

    statuses, inside = burst(lambda n: attempt(f"guess {n}").status_code, lambda: attempt(PASSWORD), gated.gate)
    assert statuses == [401] * LIMIT + [429] * (GUESSES - LIMIT)
    assert gated.verifies == LIMIT
    assert inside.status_code == 429 and codes(inside) == ["TooManyFailedLogins"]
    assert int(inside.headers["Retry-After"]) > 0
    assert len(failure_lines(caplog)) == LIMIT
    assert attempt(PASSWORD).status_code == 429  # locked for the duration
    assert users().find_one({"login": "mia@example.com"})["accessTokens"] == []


# ------------------------------------------------------------------------------ N5: the JWT login
def test_parallel_wrong_passwords_check_at_most_the_limit_on_the_jwt_login(app, gated, caplog):
    caplog.set_level(logging.WARNING, "mia.generic.logins")
    gated.gate.set()
    add_demo_user()
    gated.gate.clear()

    def attempt(password):
        return app.test_client().post("/demo/v1/token", json={"login": "grace", "password": password})

    statuses, inside = burst(lambda n: attempt(f"guess {n}").status_code, lambda: attempt(GRACE_PASSWORD), gated.gate)
    assert statuses == [401] * LIMIT + [429] * (GUESSES - LIMIT)
    assert gated.verifies == LIMIT
    assert inside.status_code == 429 and codes(inside) == ["TooManyFailedLogins"]
    assert inside.headers["Retry-After"]
    lines = failure_lines(caplog)
    assert len(lines) == LIMIT and "'grace'" in lines[0].getMessage() and "demo" in lines[0].getMessage()
    assert attempt(GRACE_PASSWORD).status_code == 429


def test_the_jwt_login_locks_after_wrong_passwords_in_sequence(app, gated):
    gated.gate.set()
    add_demo_user()
    client = app.test_client()
    answers = [client.post("/demo/v1/token", json={"login": "grace", "password": f"no {n}"}).status_code
               for n in range(LIMIT)]
    assert answers == [401] * LIMIT
    locked = client.post("/demo/v1/token", json={"login": "grace", "password": GRACE_PASSWORD})
    assert locked.status_code == 429 and codes(locked) == ["TooManyFailedLogins"]


# ------------------------------------------------------------------------ N5: a third-party login
class GatedGraph(FakeGraph):
    """The fake Graph API counting its calls; answers wait for the gate."""

    calls, gate, lock = 0, threading.Event(), threading.Lock()

    def do_GET(self):  # noqa: N802 - http.server's name
        with GatedGraph.lock:
            GatedGraph.calls += 1
        GatedGraph.gate.wait(30)
        super().do_GET()


@pytest.fixture
def gated_graph():
    GatedGraph.calls, GatedGraph.gate = 0, threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), GatedGraph)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    GatedGraph.gate.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_parallel_wrong_third_party_tokens_check_at_most_the_limit(custom, gated_graph, monkeypatch, caplog):  # noqa: F811
    caplog.set_level(logging.WARNING, "mia.generic.logins")
    identity(monkeypatch, facebook={"graphUrl": gated_graph, "timeout": 40},
             lockout={"maxFailures": 1000, "maxFailuresPerIp": LIMIT, "window": 60, "duration": 60})
    phone = custom_device(custom)

    def attempt(token):
        device = Device.__new__(Device)
        device.client, device.prefix, device.secret, device.id = (custom.application.test_client(), phone.prefix,
                                                                  phone.secret, phone.id)
        return device.call("POST", "/users/me/login/fb", {"fbUserToken": token})

    statuses, inside = burst(lambda n: attempt(f"stolen {n}").status_code, lambda: attempt("good-token"),
                             GatedGraph.gate)
    assert statuses == [401] * LIMIT + [429] * (GUESSES - LIMIT)
    assert GatedGraph.calls == LIMIT
    assert inside.status_code == 429 and codes(inside) == ["TooManyFailedLogins"]
    assert len(failure_lines(caplog, "third-party login")) == LIMIT
    assert users().count_documents({}) == 0


# ------------------------------------------------------------------------------ N5: password reset
def test_parallel_wrong_reset_tokens_are_limited_per_ip(client, monkeypatch, caplog):
    caplog.set_level(logging.WARNING, "mia.generic.logins")
    identity(monkeypatch, lockout={"maxFailures": 1000, "maxFailuresPerIp": LIMIT, "window": 60, "duration": 60})
    phone = Device(client)
    assert phone.call("POST", "/users/me", {"login": "rey@example.com", "password": PASSWORD}).status_code == 200
    assert phone.call("POST", "/users/me/requestPasswordReset", {"login": "rey@example.com"}).status_code == 200
    token = users().find_one({"login": "rey@example.com"})["inspectTokens"]["passwordResetToken"]["token"]
    app = client.application

    def attempt(value):
        return app.test_client().post("/api/tests/generic/v1/users/me/resetPassword",
                                      json={"token": value, "password": "a new password 1"})

    statuses, inside = burst(lambda n: attempt(f"{n:064x}").status_code, lambda: attempt(token))
    assert statuses == [401] * LIMIT + [429] * (GUESSES - LIMIT)
    assert inside.status_code == 429 and codes(inside) == ["TooManyFailedLogins"]
    assert len(failure_lines(caplog, "password reset")) == LIMIT
    assert users().find_one({"login": "rey@example.com"})["inspectTokens"]["passwordResetToken"]["token"] == token


# ------------------------------------------------------------------ N6: a flood of logins, one hash slot
def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, dict(reply.headers), json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def test_a_saturated_hash_pool_answers_503_at_once_and_other_routes_answer(app, gated, monkeypatch):
    gated.gate.set()
    add_demo_user()
    gated.gate.clear()
    identity(monkeypatch, passwordHashing={"concurrency": 1, "maxWaiting": 0, "queueTimeout": 30})
    with serve_live(app) as base, ThreadPoolExecutor(8) as pool:
        holder = pool.submit(post, f"{base}/demo/v1/token", {"login": "grace", "password": GRACE_PASSWORD})
        deadline = time.monotonic() + 30
        while gated.verifies < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert gated.verifies == 1  # the one slot is taken and its hash is blocked
        extra = [pool.submit(post, f"{base}/demo/v1/token", {"login": "grace", "password": f"guess {n}"})
                 for n in range(5)]
        done, pending = wait(extra, timeout=20)  # well inside queueTimeout: nobody waited for the pool
        assert not pending
        for status, headers, body in (f.result() for f in extra):
            assert status == 503 and headers["Retry-After"] == "1"
            assert body["status"] == 503 and [e["code"] for e in body["errors"]] == ["ServerBusy"]
        with urllib.request.urlopen(f"{base}/demo/v1/todo", timeout=20) as other:
            assert other.status == 200
        assert not holder.done() and gated.verifies == 1
        gated.gate.set()
        status, _headers, body = holder.result(timeout=30)
        assert status == 200 and body["response"]["tokenType"] == "Bearer"
    # A 503 is no failed guess: the login is not locked.
    assert Shared.db()["loginFailures"].find_one({"_id": "acct|demo|grace"}) is None
