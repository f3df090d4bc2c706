"""Rate limits against a real memcached: per file / route / device, windows, headers, cluster, outage."""
from __future__ import annotations

import logging
import time

import pytest
from memcached_fixtures import memcached  # noqa: F401 - fixture

import core.http.ratelimit as ratelimit
from core.data.cache import LocalStore, cache_backend
from core.errors import StartupError

LIMITED = {
    "group": "g", "prefix": "/a", "rateLimit": {"interval": 1, "maxRequests": 3},
    "routes": {
        "./x": {"list": {"identity": "x", "controller": [{"name": "out"}]}},
        "./y": {"list": {"identity": "y", "controller": [{"name": "out"}],
                         "rateLimit": {"interval": 1, "maxRequests": 2}}},
    },
}
SAME_KEYWORD = {
    "group": "g", "prefix": "/b",
    "routes": {
        "./one": {"list": {"identity": "one", "controller": [{"name": "out"}],
                           "rateLimit": {"interval": 1, "maxRequests": 2}}},
        "./two": {"list": {"identity": "two", "controller": [{"name": "out"}],
                           "rateLimit": {"interval": 1, "maxRequests": 2}}},
        "./free": {"list": {"identity": "free", "controller": [{"name": "out"}]}},
    },
}
EXCEEDED = {"status": 429, "errors": [{"code": "RateLimitExceeded", "msg": "Rate limit exceeded"}]}


def memcached_env(server, **extra):
    env = {"memcached": {"servers": server.address, "options": {"timeout": 500, "retries": 0, "retry": 100}}}
    env.update(extra)
    return env


@pytest.fixture
def limited(tree, memcached):  # noqa: F811 - fixture
    tree.write("projects/base/routes/a.py", f"routes = {LIMITED!r}")
    tree.write("projects/base/routes/b.py", f"routes = {SAME_KEYWORD!r}")
    tree.env(memcached_env(memcached))
    return tree


def headers(response):
    return tuple(response.headers.get(f"X-Rate-Limit-{name}") for name in ("Limit", "Remaining", "Reset"))


def test_file_limit_counts_exactly_max_requests_with_headers(limited):
    client = limited.app().test_client()
    seen = []
    for _ in range(3):
        response = client.get("/a/x")
        assert response.status_code == 200
        seen.append(headers(response)[:2])
        assert 1 <= int(headers(response)[2]) <= 60
    assert seen == [("3", "2"), ("3", "1"), ("3", "0")]
    refused = client.get("/a/x")
    assert refused.status_code == 429
    assert refused.json == EXCEEDED
    assert headers(refused)[:2] == ("3", "0")
    assert 1 <= int(headers(refused)[2]) <= 60


def test_method_limit_and_file_limit_both_apply_and_the_tightest_shows(limited):
    client = limited.app().test_client()
    first = client.get("/a/y")
    assert headers(first)[:2] == ("2", "1")  # method limit 2 is tighter than the file's 3
    assert client.get("/a/y").status_code == 200
    assert client.get("/a/y").status_code == 429
    # /a/x has its own counter for the file limit (the key holds the route pattern)
    assert headers(client.get("/a/x"))[:2] == ("3", "2")


def test_routes_with_the_same_method_keyword_count_separately(limited):
    client = limited.app().test_client()
    assert [client.get("/b/one").status_code for _ in range(3)] == [200, 200, 429]
    two = client.get("/b/two")
    assert two.status_code == 200 and headers(two)[:2] == ("2", "1")
    free = client.get("/b/free")
    assert free.status_code == 200 and headers(free) == (None, None, None)


def test_each_client_ip_has_its_own_counter(limited):
    client = limited.app().test_client()
    assert [client.get("/b/one").status_code for _ in range(3)] == [200, 200, 429]
    other = client.get("/b/one", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200 and headers(other)[:2] == ("2", "1")


def test_global_environment_limit_applies_to_every_route(tree, memcached, monkeypatch):  # noqa: F811
    monkeypatch.setattr(ratelimit, "clock", lambda: 1_700_000_110.0)  # 10 s into a 5-minute window
    tree.write("projects/base/routes/b.py", f"routes = {SAME_KEYWORD!r}")
    tree.env(memcached_env(memcached, rateLimit={"interval": 5, "maxRequests": 2}))
    client = tree.app().test_client()
    first = client.get("/b/free")
    assert headers(first) == ("2", "1", "290")
    assert [client.get("/b/free").status_code for _ in range(2)] == [200, 429]
    assert client.get("/b/one").status_code == 429  # one counter per client IP across all routes
    assert client.get("/b/one", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 200


def test_the_window_resets_at_its_boundary(limited, monkeypatch):
    start = 1_700_000_040.0 - 1_700_000_040.0 % 60 + 30  # 30 s into a minute window
    now = {"t": start}
    monkeypatch.setattr(ratelimit, "clock", lambda: now["t"])
    client = limited.app().test_client()
    assert [client.get("/b/one").status_code for _ in range(2)] == [200, 200]
    assert headers(client.get("/b/one"))[2] == "30"
    now["t"] = start + 29.5  # still the same window: refused, half a second (rounded up) left
    late = client.get("/b/one")
    assert late.status_code == 429 and headers(late)[2] == "1"
    now["t"] = start + 30  # the boundary: a fresh window
    fresh = client.get("/b/one")
    assert fresh.status_code == 200 and headers(fresh) == ("2", "1", "60")


def test_device_limit_through_check(limited):
    limited.app()
    backend = cache_backend()
    assert backend.kind == "memcached"
    limit = {"interval": 1, "maxRequests": 2}
    results = [ratelimit.check("device:abc", limit) for _ in range(3)]
    assert [r.allowed for r in results] == [True, True, False]
    assert [r.remaining for r in results] == [1, 0, 0]
    assert all(r.limit == 2 and 0 < r.reset <= 60 for r in results)
    assert ratelimit.check("device:other", limit).allowed is True
    response_headers: dict[str, str] = {}
    ratelimit.apply_headers(response_headers, results[-1])
    assert response_headers == {"X-Rate-Limit-Limit": "2", "X-Rate-Limit-Remaining": "0",
                                "X-Rate-Limit-Reset": str(results[-1].reset)}


def test_two_app_instances_on_one_memcached_share_one_counter(limited):
    first = limited.app().test_client()
    second = limited.app().test_client()  # a second server of the cluster: same root, same memcached
    assert first.application.config["mia.cache"] is not second.application.config["mia.cache"]
    assert first.get("/b/one").status_code == 200
    assert headers(second.get("/b/one"))[:2] == ("2", "0")
    assert first.get("/b/one").status_code == 429
    assert second.get("/b/one").status_code == 429


def test_without_memcached_each_process_limits_on_its_own(tree):
    tree.write("projects/base/routes/b.py", f"routes = {SAME_KEYWORD!r}")
    first = tree.app().test_client()
    assert isinstance(first.application.config["mia.cache"], LocalStore)
    assert [first.get("/b/one").status_code for _ in range(3)] == [200, 200, 429]
    second = tree.app().test_client()  # a separate in-process store: its own counters
    assert second.get("/b/one").status_code == 200


def test_memcached_outage_fails_open_and_limits_return_after_restart(limited, memcached, monkeypatch):  # noqa: F811
    warnings: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            warnings.append(record.getMessage())

    handler = Collect(level=logging.WARNING)
    logging.getLogger("mia.ratelimit").addHandler(handler)
    monkeypatch.setattr(ratelimit, "_warned", {})
    try:
        client = limited.app().test_client()
        logging.getLogger("mia").setLevel(logging.WARNING)  # the tree's environment logs nothing
        assert [client.get("/b/one").status_code for _ in range(3)] == [200, 200, 429]
        memcached.kill()
        during = [client.get("/b/one") for _ in range(5)]
        assert [r.status_code for r in during] == [200] * 5
        assert all(headers(r) == (None, None, None) for r in during)  # nothing counted, no headers
        assert len([w for w in warnings if "rate limit not enforced" in w]) == 1
        memcached.start()
        deadline = time.monotonic() + 5
        recovered = None
        while time.monotonic() < deadline:  # the client retries a dead node after 100 ms
            recovered = client.get("/b/one")
            if headers(recovered)[0] is not None:
                break
            time.sleep(0.05)
        assert recovered is not None and headers(recovered)[:2] == ("2", "1")
        assert client.get("/b/one").status_code == 200
        assert client.get("/b/one").status_code == 429
    finally:
        logging.getLogger("mia.ratelimit").removeHandler(handler)


def test_invalid_environment_limit_stops_start_up(tree):
    tree.env({"rateLimit": {"interval": 0, "maxRequests": 5}})
    with pytest.raises(StartupError, match="Rate limit config invalid"):
        tree.app()
