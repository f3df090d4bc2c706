"""mia-js-core's 5-argument ``Cached(identifier, lifetime, renew, gracetime, fn)`` under concurrency.

Each case runs against the in-process store and against a real memcached process. Time is moved
with ``core.data.cache.clock`` (the backends' own expiry stays on the real clock, which the
entries outlive); background refreshes are awaited with ``wait_for_refreshes``.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from memcached_fixtures import MemcachedProcess, memcached_binary

import core.data.cache as cache
from core.data.cache import Cached, LocalStore, MemcachedStore, make_client, wait_for_refreshes

THREADS = 10


@pytest.fixture(params=["local", "memcached"])
def store(request):
    """The backend under test: the in-process store, or a client of a fresh memcached process."""
    if request.param == "local":
        yield LocalStore()
        return
    server = MemcachedProcess(memcached_binary()).start()
    backend = MemcachedStore(make_client({"servers": server.address, "options": {"timeout": 1000}}))
    try:
        yield backend
    finally:
        wait_for_refreshes()
        backend.close_all()
        server.kill()


@pytest.fixture
def now(monkeypatch):
    """A settable clock for Cached: ``now["t"] += 5`` moves five seconds on."""
    state = {"t": 1_800_000_000.0}
    monkeypatch.setattr(cache, "clock", lambda: state["t"])
    return state


class Source:
    """A counting ``fn``: returns ``v1``, ``v2``, ... or raises once ``failing`` is set; can be slow."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls = 0
        self.delay = delay
        self.failing = False
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            self.calls += 1
            number = self.calls
        time.sleep(self.delay)
        if self.failing:
            raise RuntimeError("upstream down")
        return f"v{number}"


def concurrently(call):
    """``call()`` from 10 threads released at once; their answers in a list."""
    barrier = threading.Barrier(THREADS)

    def run(_):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def test_miss_answers_the_envelope_with_cache_time_until_the_refresh(store, now):
    fn = Source()
    assert Cached("k", 60, 10, 30, fn, backend=store) == {"cached": False, "value": "v1", "timeleft": 60,
                                                           "cacheTime": 50}
    now["t"] += 20
    assert Cached("k", 60, 10, 30, fn, backend=store) == {"cached": True, "value": "v1", "timeleft": 40,
                                                           "cacheTime": 30}
    assert fn.calls == 1


def test_cold_miss_from_ten_threads_calls_fn_once(store, now):
    fn = Source(delay=0.2)
    answers = concurrently(lambda: Cached("cold", 60, 10, 30, fn, backend=store))
    assert fn.calls == 1
    assert {answer["value"] for answer in answers} == {"v1"}
    assert sum(not answer["cached"] for answer in answers) == 1  # the one that called fn


def test_due_value_is_served_while_one_thread_refreshes_in_the_background(store, now):
    fn = Source(delay=0.2)
    Cached("due", 60, 10, 30, fn, backend=store)
    now["t"] += 51  # past lifetime - renew: due for a refresh, not expired
    answers = concurrently(lambda: Cached("due", 60, 10, 30, fn, backend=store))
    assert [answer["value"] for answer in answers] == ["v1"] * THREADS  # nobody waited for fn
    assert all(answer["cached"] and answer["cacheTime"] == 0 and answer["timeleft"] == 9 for answer in answers)
    assert wait_for_refreshes()
    assert fn.calls == 2  # one refresh for ten callers
    fresh = Cached("due", 60, 10, 30, fn, backend=store)
    assert fresh == {"cached": True, "value": "v2", "timeleft": 60, "cacheTime": 50}
    assert fn.calls == 2


def test_one_refresh_per_expiry_over_several_periods(store, now):
    fn = Source()
    Cached("periodic", 10, 2, 0, fn, backend=store)
    for period in range(2, 5):
        now["t"] += 9  # due each time (lifetime - renew = 8), never expired
        answers = concurrently(lambda: Cached("periodic", 10, 2, 0, fn, backend=store))
        assert {answer["value"] for answer in answers} <= {f"v{period - 1}", f"v{period}"}  # old, or fresh
        assert wait_for_refreshes()
        assert fn.calls == period


def test_stale_value_is_served_in_grace_after_expiry(store, now):
    fn = Source(delay=0.1)
    Cached("grace", 10, 0, 20, fn, backend=store)
    now["t"] += 15  # expired 5 s ago, 15 s of grace left
    answers = concurrently(lambda: Cached("grace", 10, 0, 20, fn, backend=store))
    assert all(answer == {"cached": True, "value": "v1", "timeleft": 15, "cacheTime": 0} for answer in answers)
    assert wait_for_refreshes()
    assert fn.calls == 2
    assert Cached("grace", 10, 0, 20, fn, backend=store)["value"] == "v2"


def test_fn_raising_in_grace_keeps_serving_the_stale_value_until_grace_ends(store, now):
    fn = Source()
    Cached("down", 10, 0, 20, fn, backend=store)
    fn.failing = True
    now["t"] += 12  # in grace
    answers = concurrently(lambda: Cached("down", 10, 0, 20, fn, backend=store))
    assert [answer["value"] for answer in answers] == ["v1"] * THREADS  # no exception reached a caller
    assert wait_for_refreshes()
    assert fn.calls == 2  # one failed refresh for ten callers
    now["t"] += 5  # still in grace; the next try is lifetime - renew after the failure
    assert Cached("down", 10, 0, 20, fn, backend=store) == {"cached": True, "value": "v1", "timeleft": 13,
                                                             "cacheTime": 5}
    assert wait_for_refreshes() and fn.calls == 2
    now["t"] += 6  # the retry is due: it fails again, the stale value is still served
    assert Cached("down", 10, 0, 20, fn, backend=store)["value"] == "v1"
    assert wait_for_refreshes() and fn.calls == 3
    now["t"] += 8  # grace is over (10 + 20 s after the value was made): a miss calls fn in the caller
    with pytest.raises(RuntimeError, match="upstream down"):
        Cached("down", 10, 0, 20, fn, backend=store)
    fn.failing = False
    assert Cached("down", 10, 0, 20, fn, backend=store)["cached"] is False


def test_without_grace_an_expired_value_is_a_miss(store, now):
    fn = Source()
    Cached("plain", 10, 0, 0, fn, backend=store)
    now["t"] += 10
    assert Cached("plain", 10, 0, 0, fn, backend=store) == {"cached": False, "value": "v2", "timeleft": 10,
                                                             "cacheTime": 10}


def test_three_argument_form_and_bad_arguments(store, now):
    fn = Source()
    assert Cached("three", 30, fn, backend=store)["cacheTime"] == 30
    assert Cached("three", 30, fn, backend=store)["cached"] is True
    with pytest.raises(TypeError):
        Cached("bad", 30, 1, 2, "not callable", backend=store)


def test_one_refresh_across_two_processes_sharing_memcached(now):
    """Two clients (two workers' connections) on one memcached: the lock lives in memcached."""
    server = MemcachedProcess(memcached_binary()).start()
    first = MemcachedStore(make_client({"servers": server.address}))
    second = MemcachedStore(make_client({"servers": server.address}))
    try:
        fn = Source(delay=0.2)
        Cached("shared", 60, 10, 0, fn, backend=first)
        now["t"] += 55
        answers = concurrently(lambda: Cached("shared", 60, 10, 0, fn,
                                              backend=first if threading.get_ident() % 2 else second))
        assert {answer["value"] for answer in answers} == {"v1"}
        assert wait_for_refreshes()
        assert fn.calls == 2
        assert Cached("shared", 60, 10, 0, fn, backend=second)["value"] == "v2"
    finally:
        first.close_all()
        second.close_all()
        server.kill()


def test_real_clock_stale_in_grace_then_refreshed(store):
    """No clock patching: the backend's own expiry (whole seconds in memcached) outlives the grace time."""
    fn = Source()
    assert Cached("real", 1, 0, 3, fn, backend=store)["value"] == "v1"
    time.sleep(1.2)  # expired, in grace
    fn.failing = True
    assert Cached("real", 1, 0, 3, fn, backend=store)["value"] == "v1"  # stale, refresh fails in the background
    assert wait_for_refreshes() and fn.calls == 2
    after = Cached("real", 1, 0, 3, fn, backend=store)  # the retry is due 1 s after the failure
    assert after["cached"] is True and after["value"] == "v1" and after["timeleft"] in (2, 3)
    assert fn.calls == 2
