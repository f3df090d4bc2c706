"""Overload guard: a saturated live server answers 503 ServerBusy with Retry-After, quickly."""
from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import serve_live
from core.errors import StartupError
from core.http.overload import LoadMonitor, monitor_for


class Answer:
    """Status, headers and JSON body of one GET (urllib, the standard library)."""

    def __init__(self, url: str, timeout: float) -> None:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as reply:
                self.status_code, self.headers, self.body = reply.status, reply.headers, reply.read()
        except urllib.error.HTTPError as error:
            self.status_code, self.headers, self.body = error.code, error.headers, error.read()

    def json(self) -> object:
        return json.loads(self.body)


SLOW = '''
import threading
from core import Controller

class Slow(Controller):
    identity = "slow"
    def __init__(self):
        self.release = threading.Event()
        self.entered = 0
        self.lock = threading.Lock()
    def hold(self, req, res):
        with self.lock:
            self.entered += 1
        self.release.wait(10)
        res.response = "done"
    def quick(self, req, res):
        res.response = "quick"
'''
ROUTES = {"group": "g", "prefix": "/", "routes": {
    "./slow": {"get": {"controller": [{"name": "slow", "function": "hold"}, {"name": "out"}]}},
    "./quick": {"get": {"controller": [{"name": "slow", "function": "quick"}, {"name": "out"}]}}}}


@pytest.fixture
def slow_tree(tree):
    tree.write("projects/base/controllers/slow.py", SLOW)
    tree.write("projects/base/routes/r.py", f"routes = {ROUTES!r}")
    return tree


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_saturated_live_server_answers_503_quickly(slow_tree):
    slow_tree.env({"maxConcurrentRequests": 2})
    app = slow_tree.app()
    slow = app.config["mia.routes"][0].controllers[0].controller
    with serve_live(app) as base:
        try:
            with ThreadPoolExecutor(max_workers=8) as pool:
                held = [pool.submit(Answer, f"{base}/slow", timeout=10) for _ in range(2)]
                assert wait_until(lambda: slow.entered == 2)
                busy = list(pool.map(lambda _: Answer(f"{base}/quick", timeout=30), range(4)))
                assert [r.status_code for r in busy] == [503] * 4
                assert all(r.headers["Retry-After"] == "1" for r in busy)
                assert busy[0].json() == {"status": 503, "errors": [
                    {"code": "ServerBusy", "msg": "I'm busy right now, sorry."}]}
                assert not any(f.done() for f in held)  # answered while the two slow requests hold their threads
                slow.release.set()
                assert [f.result().status_code for f in held] == [200, 200]
            assert wait_until(lambda: app.config["mia.overload"].in_flight == 0)
            assert Answer(f"{base}/quick", timeout=5).json() == {"status": 200, "response": "quick"}
        finally:
            slow.release.set()


def test_starved_process_is_busy_until_the_lag_recovers(slow_tree):
    slow_tree.env({"maxLag": 50})
    app = slow_tree.app()
    monitor = app.config["mia.overload"]
    monitor.tick = 0.05
    client = app.test_client()
    assert client.get("/quick").status_code == 200  # starts the watchdog
    time.sleep(0.2)
    assert monitor.lag_ms < 50
    previous = sys.getswitchinterval()
    sys.setswitchinterval(5)  # this thread keeps the interpreter: the watchdog wakes up late
    try:
        deadline = time.perf_counter() + 0.6
        while time.perf_counter() < deadline:
            pass
    finally:
        sys.setswitchinterval(previous)
    assert wait_until(lambda: monitor.lag_ms > 50, timeout=1)
    busy = client.get("/quick")
    assert busy.status_code == 503 and busy.json["errors"][0]["code"] == "ServerBusy"
    assert wait_until(lambda: client.get("/quick").status_code == 200, timeout=5)


def test_defaults_derive_the_concurrency_from_max_lag_and_threads():
    assert monitor_for({}) is None
    monitor = monitor_for({"maxLag": 100, "server": {"threads": 4}})
    assert monitor.max_concurrent == 8 and monitor.max_lag_ms == 100 and monitor.retry_after == 1
    assert monitor_for({"maxLag": 1000}).max_concurrent == 160
    assert monitor_for({"maxLag": 3000}).retry_after == 3
    only = monitor_for({"maxConcurrentRequests": 5})
    assert only.max_concurrent == 5 and only.max_lag_ms is None
    with pytest.raises(StartupError):
        monitor_for({"maxLag": "soon"})
    with pytest.raises(StartupError):
        monitor_for({"maxConcurrentRequests": 0})


def test_guard_is_first_and_absent_without_settings(slow_tree):
    assert slow_tree.app().config["mia.overload"] is None
    slow_tree.env({"maxLag": 100, "rateLimit": {"interval": 1, "maxRequests": 100}})
    app = slow_tree.app()
    guards = app.config["mia.pipeline"].guards
    assert guards[0] == app.config["mia.overload"].guard and len(guards) == 2


def test_lag_is_smoothed_and_concurrency_counts_in_flight_requests():
    monitor = LoadMonitor(max_concurrent=1)
    monitor.record_lag(300)
    assert monitor.lag_ms == pytest.approx(100)  # one late tick does not make a busy process
    monitor.record_lag(300)
    assert monitor.lag_ms == pytest.approx(166.67, abs=0.01)
    for _ in range(10):
        monitor.record_lag(0)
    assert monitor.lag_ms < 5

    seen = []

    def inner(environ, start_response):
        seen.append((monitor.in_flight, monitor.busy()))
        if environ.get("nested"):
            monitor.wrap(inner)({}, start_response)
        raise RuntimeError("rendering failed")

    with pytest.raises(RuntimeError):
        monitor.wrap(inner)({"nested": True}, None)
    assert seen[0] == (1, None) and seen[1][0] == 2 and "2 requests in flight" in seen[1][1]
    assert monitor.in_flight == 0  # released even when the app raised
