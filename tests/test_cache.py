"""Cached and the cache backends against a real memcached: hit, miss, ttl, flushOnStart, outage."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from memcached_fixtures import memcached  # noqa: F401 - fixture
from pymemcache.client.base import Client

import core.data.cache as cache
import core.data.cache_backends as cache_backends
from core.data.cache import Cached, LocalStore, cache_backend, cached, hashed_key, memcached_client


def use_memcached(tree, server, **settings):
    tree.env({"memcached": {"servers": server.address, "options": {"timeout": 500, "retries": 0, "retry": 100},
                            **settings}})
    return tree.app()


class Counter:
    def __init__(self, value):
        self.value = value
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.value


def test_miss_then_hit_with_mias_answer_shape(tree, memcached):  # noqa: F811
    use_memcached(tree, memcached)
    fn = Counter({"flavours": ["vanilla", "strawberry"], "count": 2})
    miss = Cached("flavours", 120, fn)
    assert miss == {"cached": False, "value": {"flavours": ["vanilla", "strawberry"], "count": 2},
                    "timeleft": 120, "cacheTime": 120}
    hit = Cached("flavours", 120, fn)
    assert hit["cached"] is True and hit["value"] == miss["value"]
    assert 119 <= hit["timeleft"] <= 120 and hit["cacheTime"] == hit["timeleft"]
    assert fn.calls == 1
    assert Cached("other", 120, Counter(1))["cached"] is False  # identifiers do not collide


def test_values_are_stored_as_json_not_pickles(tree, memcached):  # noqa: F811
    use_memcached(tree, memcached)
    when = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
    first = Cached("typed", 60, lambda: {"when": when, "pair": (1, 2)})
    assert first["value"] == {"when": "2024-05-01T12:00:00Z", "pair": [1, 2]}  # miss and hit look alike
    raw = Client(("127.0.0.1", memcached.port), connect_timeout=1, timeout=1).get(hashed_key("c", "typed"))
    assert json.loads(raw)["value"] == first["value"]
    assert Cached("typed", 60, lambda: "never called")["value"] == first["value"]


def test_entry_expires_after_its_ttl(tree, memcached, monkeypatch):  # noqa: F811
    use_memcached(tree, memcached)
    now = {"t": 1_700_000_000.0}
    monkeypatch.setattr(cache, "clock", lambda: now["t"])
    fn = Counter("v")
    Cached("short", 10, fn)
    now["t"] += 9
    assert Cached("short", 10, fn) == {"cached": True, "value": "v", "timeleft": 1, "cacheTime": 1}
    now["t"] += 1
    assert Cached("short", 10, fn)["cached"] is False
    assert fn.calls == 2


def test_without_a_function_a_miss_is_none_and_force_update_refreshes(tree, memcached):  # noqa: F811
    use_memcached(tree, memcached)
    assert Cached("absent", 60) == {"cached": False, "value": None, "timeleft": 0, "cacheTime": 0}
    Cached("k", 60, lambda: 1)
    assert Cached("k", 60)["value"] == 1
    assert Cached("k", 60, lambda: 2, force_update=True)["value"] == 2
    assert Cached("k", 60)["value"] == 2


def test_flush_on_start_empties_memcached_and_is_off_by_default(tree, memcached):  # noqa: F811
    use_memcached(tree, memcached)
    Cached("kept", 600, lambda: "first")
    use_memcached(tree, memcached)  # a restart without flushOnStart keeps the cache
    assert Cached("kept", 600, lambda: "second")["value"] == "first"
    use_memcached(tree, memcached, flushOnStart=True)
    again = Cached("kept", 600, lambda: "third")
    assert again["cached"] is False and again["value"] == "third"


def test_outage_calls_the_function_without_error(tree, memcached):  # noqa: F811
    use_memcached(tree, memcached)
    fn = Counter("fresh")
    Cached("x", 60, fn)
    memcached.kill()
    answers = [Cached("x", 60, fn) for _ in range(3)]
    assert answers == [{"cached": False, "value": "fresh", "timeleft": 0, "cacheTime": 0}] * 3
    assert fn.calls == 4


def test_flush_on_start_with_memcached_down_still_starts(tree, memcached):  # noqa: F811
    memcached.kill()
    app = use_memcached(tree, memcached, flushOnStart=True)
    assert app.test_client().get("/nothing").status_code == 404


def test_decorator_caches_per_arguments(tree, memcached):  # noqa: F811
    use_memcached(tree, memcached)
    calls = []

    @cached(60)
    def square(n):
        calls.append(n)
        return n * n

    assert [square(3), square(3), square(4)] == [9, 9, 16]
    assert calls == [3, 4]
    assert square.lookup(3)["cached"] is True

    @cached(60, key=lambda user: f"profile:{user}")
    def profile(user):
        calls.append(user)
        return {"user": user}

    assert profile("ann") == profile("ann") == {"user": "ann"}
    assert calls.count("ann") == 1


def test_unserialisable_values_are_an_error_not_a_pickle(tree, memcached):  # noqa: F811
    use_memcached(tree, memcached)
    with pytest.raises(TypeError):
        Cached("bad", 60, lambda: object())


def test_client_is_a_hash_client_with_timeouts(tree, memcached):  # noqa: F811
    use_memcached(tree, memcached)
    client = memcached_client()
    assert type(client).__name__ == "HashClient"
    assert client.default_kwargs["timeout"] == 0.5 and client.default_kwargs["connect_timeout"] == 0.5


def test_list_of_servers_is_a_cluster(tree, memcached):  # noqa: F811
    tree.env({"memcached": {"servers": [memcached.address, "127.0.0.1:1"]}})
    tree.app()
    assert sorted(memcached_client().clients) == sorted([memcached.address, "127.0.0.1:1"])


def test_without_memcached_an_in_process_store_serves(tree):
    tree.app()
    assert memcached_client() is None
    assert isinstance(cache_backend(), LocalStore)
    fn = Counter([1, 2])
    assert Cached("local", 60, fn)["cached"] is False
    hit = Cached("local", 60, fn)
    assert hit["cached"] is True and hit["value"] == [1, 2] and 59 <= hit["timeleft"] <= 60
    assert fn.calls == 1


def test_local_store_semantics(monkeypatch):
    clock = {"t": 100.0}

    class FakeTime:
        @staticmethod
        def monotonic():
            return clock["t"]

    monkeypatch.setattr(cache_backends, "time", FakeTime)
    store = LocalStore(max_items=3)
    assert store.add("a", 0, expire=10) is True and store.add("a", 5) is False
    assert store.incr("a") == 1 and store.incr("a", 2) == 3
    assert store.incr("missing") is None
    clock["t"] += 10
    assert store.get("a") is None and store.add("a", 0) is True  # expired
    for key in "bcd":
        store.set(key, key)
    assert store.get("a") is None and store.get("d") == b"d"  # oldest evicted beyond max_items
    assert store.delete("d") is True and store.get("d") is None
