"""``async def`` controllers, error controllers and libs' coroutines run with the chain's semantics.

Before: an async controller passed start-up, never ran, and the answer was 200 ``{"status":200}``
with a "coroutine was never awaited" warning (issue 25). Now: next (return), send, errors (to the
error chain), timeouts (504) and Flask's request context, in process and on every engine.
"""
from __future__ import annotations

import pytest
from serving_fixtures import ServerProcess, free_ports, get

from conftest import ProjectTree

ASYNC_CONTROLLERS = '''
import asyncio
import flask
from core import Controller, MiaError, Shared


class Steps(Controller):
    identity = "steps"

    async def first(self, req, res):
        await asyncio.sleep(0.01)
        req.mia.trail = ["first:" + flask.request.path]   # Flask's request works inside the coroutine

    async def second(self, req, res):
        req.mia.trail.append("second")
        res.response = {"trail": req.mia.trail}

    async def sends(self, req, res):
        res.send({"sent": True}, status=201)

    def never(self, req, res):
        raise AssertionError("the chain went on after send")

    async def fails(self, req, res):
        await asyncio.sleep(0)
        raise MiaError(409, code="AsyncConflict", msg="from a coroutine")

    async def crashes(self, req, res):
        raise RuntimeError("boom")

    async def slow(self, req, res):
        await asyncio.sleep(30)
        res.response = "too late"

    def uses_lib(self, req, res):
        # a sync controller that returns a lib's coroutine: it is run before the chain goes on
        async def work():
            req.mia.fetched = await Shared.libs("fetcher").fetch("x")
        return work()

    def shows_lib(self, req, res):
        res.response = req.mia.fetched

    def sync(self, req, res):
        res.response = {"sync": True}


class AsyncErrors(Controller):
    identity = "async-errors"

    async def all(self, err, req, res):
        await asyncio.sleep(0)
        res.send({"handled": err.errors[0].get("code"), "status": err.status}, status=err.status)
'''

FETCHER = '''
import asyncio
from core import Lib


class Fetcher(Lib):
    identity = "fetcher"

    async def fetch(self, name):
        await asyncio.sleep(0.01)
        return {"fetched": name}
'''

ROUTES = '''
OUT = {"name": "out"}
ERR = [{"name": "async-errors"}]
routes = {"group": "t", "prefix": "/a", "routes": {
    "./next": {"list": {"identity": "a-next", "controller": [
        {"name": "steps", "function": "first"}, {"name": "steps", "function": "second"}, OUT]}},
    "./send": {"list": {"identity": "a-send", "controller": [
        {"name": "steps", "function": "sends"}, {"name": "steps", "function": "never"}, OUT]}},
    "./error": {"list": {"identity": "a-error", "controller": [{"name": "steps", "function": "fails"}, OUT]}},
    "./handled": {"list": {"identity": "a-handled", "errorController": ERR,
                           "controller": [{"name": "steps", "function": "fails"}, OUT]}},
    "./crash": {"list": {"identity": "a-crash", "controller": [{"name": "steps", "function": "crashes"}, OUT]}},
    "./slow": {"list": {"identity": "a-slow", "controller": [{"name": "steps", "function": "slow"}, OUT]}},
    "./lib": {"list": {"identity": "a-lib", "controller": [
        {"name": "steps", "function": "uses_lib"}, {"name": "steps", "function": "shows_lib"}, OUT]}},
    "./sync": {"list": {"identity": "a-sync", "controller": [{"name": "steps", "function": "sync"}, OUT]}},
}}
'''


def _tree(root, env=None) -> ProjectTree:
    tree = ProjectTree(root)
    tree.write("projects/base/controllers/steps.py", ASYNC_CONTROLLERS)
    tree.write("projects/base/routes/a.py", ROUTES)
    tree.write("projects/base/libs/fetcher.py", FETCHER)
    tree.env({"controllerTimeout": 2, **(env or {})})  # /a/slow sleeps 30 s: cancelled at 2 s
    return tree


@pytest.fixture
def client(tmp_path):
    return _tree(tmp_path).app().test_client()


def test_an_async_controller_continues_the_chain_by_returning(client):
    reply = client.get("/a/next")
    assert (reply.status_code, reply.get_json()) == (200, {"status": 200, "response": {
        "trail": ["first:/a/next", "second"]}})


def test_an_async_controller_ends_the_chain_with_send(client):
    reply = client.get("/a/send")
    assert (reply.status_code, reply.get_json()) == (201, {"sent": True})


def test_an_async_controller_that_raises_answers_its_error(client):
    reply = client.get("/a/error")
    assert reply.status_code == 409
    assert reply.get_json()["errors"] == [{"code": "AsyncConflict", "msg": "from a coroutine"}]
    reply = client.get("/a/crash")
    assert (reply.status_code, reply.get_json()["errors"][0]["code"]) == (500, "InternalServerError")


def test_an_async_error_controller_handles_the_error(client):
    reply = client.get("/a/handled")
    assert (reply.status_code, reply.get_json()) == (409, {"handled": "AsyncConflict", "status": 409})


def test_an_async_controller_past_its_timeout_answers_504(client):
    reply = client.get("/a/slow")
    assert (reply.status_code, reply.get_json()["errors"][0]["code"]) == (504, "ControllerTimeout")
    assert "too late" not in reply.get_data(as_text=True)


def test_a_libs_coroutine_returned_by_a_sync_controller_is_run(client):
    reply = client.get("/a/lib")
    assert (reply.status_code, reply.get_json()["response"]) == (200, {"fetched": "x"})


def test_many_async_requests_from_threads_all_finish(client, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    app = _tree(tmp_path / "threads", {"controllerTimeout": 60}).app()  # a loaded machine is no timeout

    def one(_):
        with app.test_client() as c:
            return c.get("/a/next").status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(one, range(64))) == [200] * 64


@pytest.mark.parametrize("engine", ["threaded", "granian", "gunicorn"])
def test_async_controllers_on_every_engine(tmp_path, engine):
    (port,) = free_ports(1)
    server = {"http": {"host": "127.0.0.1", "port": port}, "engine": engine, "workers": 1, "threads": 2}
    tree = _tree(tmp_path / "app", {"server": server})
    base = f"http://127.0.0.1:{port}"
    with ServerProcess(tree.root) as proc:
        proc.wait_ready(f"{base}/a/sync")
        answers = {path: get(f"{base}{path}")[::2] for path in ("/a/next", "/a/send", "/a/handled", "/a/slow",
                                                              "/a/lib")}
    assert answers["/a/next"] == (200, {"status": 200, "response": {"trail": ["first:/a/next", "second"]}})
    assert answers["/a/send"] == (201, {"sent": True})
    assert answers["/a/handled"] == (409, {"handled": "AsyncConflict", "status": 409})
    assert answers["/a/slow"][0] == 504
    assert answers["/a/lib"] == (200, {"status": 200, "response": {"fetched": "x"}})


WS_HANDLER = '''
import asyncio
from core import Controller

class Echo(Controller):
    identity = "async-echo"

    async def on_connect(self, ws, req):
        await asyncio.sleep(0)
        ws.send({"event": "hello"})

    async def on_message(self, ws, req, message):
        await asyncio.sleep(0)
        ws.send({"echo": message})
'''


def test_async_websocket_handler_hooks_run(tmp_path):
    import simple_websocket

    from conftest import serve_live

    tree = _tree(tmp_path)
    tree.write("projects/base/controllers/echo.py", WS_HANDLER)
    tree.write("projects/base/routes/ws.py", '''
routes = {"group": "t", "prefix": "/w", "routes": {
    "./echo": {"ws": {"identity": "w-echo", "handler": {"name": "async-echo"}}},
}}
''')
    app = tree.app()
    try:
        with serve_live(app) as url:
            client = simple_websocket.Client.connect(url.replace("http", "ws", 1) + "/w/echo")
            assert client.receive(timeout=5) == '{"event":"hello"}'
            client.send("ping")
            assert client.receive(timeout=5) == '{"echo":"ping"}'
            client.close()
    finally:
        app.config["mia.hub"].close_all()
