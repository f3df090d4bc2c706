"""Liveness and readiness: ``/_mia/health/live`` (the process answers), ``/_mia/health/ready`` (the
database answers; memcached reported, and only a required memcached makes the instance not ready).
A real memcached process is killed to make the outage."""
from __future__ import annotations

import pytest
from memcached_fixtures import memcached  # noqa: F401

from core.app.summary import summary

pytestmark = pytest.mark.timeout(60)

ROUTE = '''
routes = {"group": "t", "prefix": "/t", "routes": {
    "./hello": {"list": {"identity": "hello-route", "controller": [{"name": "out"}]}},
}}
'''


def build(tree, memcached_settings=None, url=None):
    env = {"mongoDatabases": {"t": {"url": url}}}
    if memcached_settings is not None:
        env["memcached"] = memcached_settings
    tree.env(env)
    tree.write("projects/base/routes/t.py", ROUTE)
    return tree.app()


def test_a_memcached_outage_keeps_the_instance_ready_when_memcached_is_optional(tree, memcached):  # noqa: F811
    app = build(tree, {"servers": memcached.address, "options": {"timeout": 200, "retry": 100}})
    client = app.test_client()
    ready = client.get("/_mia/health/ready")
    assert ready.status_code == 200
    assert ready.json == {"status": 200, "response": {"database": "embedded", "cache": "ok"}}
    assert ready.headers["Cache-Control"] == "no-store"
    memcached.kill()
    for path in ("/_mia/health/ready", "/_mia/health"):  # /_mia/health answers what ready answers
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.json)
        assert answer.json["response"] == {"database": "embedded", "cache": "unavailable"}
    assert client.get("/t/hello").status_code == 200  # the service itself survives the outage
    assert client.get("/_mia/health/live").json == {"status": 200, "response": {"process": "up"}}


def test_a_required_memcached_that_is_down_makes_the_instance_not_ready_but_still_live(tree, memcached):  # noqa: F811
    app = build(tree, {"servers": memcached.address, "required": True, "options": {"timeout": 200, "retry": 100}})
    client = app.test_client()
    assert client.get("/_mia/health/ready").status_code == 200
    memcached.kill()
    ready = client.get("/_mia/health/ready")
    assert ready.status_code == 503
    assert ready.json["response"] == {"database": "embedded", "cache": "unavailable"}
    assert ready.json["errors"][0]["code"] == "ServiceUnavailable" and "cache" in ready.json["errors"][0]["msg"]
    live = client.get("/_mia/health/live")
    assert (live.status_code, live.json) == (200, {"status": 200, "response": {"process": "up"}})


def test_an_unreachable_database_makes_the_instance_not_ready_but_still_live(tree):
    app = build(tree, url="mongodb://127.0.0.1:9/none?serverSelectionTimeoutMS=300")
    client = app.test_client()
    ready = client.get("/_mia/health/ready")
    assert ready.status_code == 503 and ready.json["response"]["database"] == "unavailable"
    assert "mongodb" not in ready.get_data(as_text=True)  # no URLs or hosts in the answer
    assert client.get("/_mia/health/live").status_code == 200


def test_the_start_up_summary_names_the_cache_and_its_state(tree, memcached):  # noqa: F811
    app = build(tree, {"servers": memcached.address, "options": {"timeout": 200, "retry": 100}})
    assert f"mia: cache: memcached at {memcached.address} (reachable)" in summary(app)
    memcached.kill()
    text = summary(build(tree, {"servers": memcached.address, "options": {"timeout": 200, "retry": 100}}))
    assert f"mia: cache: memcached at {memcached.address} (UNREACHABLE" in text
    assert "mia: cache: in-process (no memcached configured" in summary(build(tree))
