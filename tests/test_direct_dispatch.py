"""Direct dispatch (core/http/direct.py): API requests skip Flask's URL matching, nothing else changes.

What a user sees must be what Flask's full dispatch gave: Flask rules added after ``create_app`` (a
WebSocket or health route) still win over the catch-all, before/after-request hooks and teardowns
still run on API routes, ``url_for`` and ``current_app`` still work inside a controller.
"""
from __future__ import annotations

from flask import g

CONTROLLER = '''
from flask import current_app, url_for
from core import Controller

class Where(Controller):
    identity = "where"
    def all(self, req, res):
        res.response = {"app": current_app.name, "docs": url_for("mia_docs"), "path": req.path}
'''


def _tree_app(tree):
    tree.write("projects/base/controllers/where.py", CONTROLLER)
    tree.write("projects/base/routes/r.py", '''
routes = {"prefix": "/api/v1", "routes": {"./where": {"get": {"controller": [{"name": "where"}, {"name": "out"}]}},
                                          "./health-like": {"get": {"controller": [{"name": "out"}]}}}}
''')
    return tree.app()


def test_flask_rules_added_after_start_up_still_win(tree):
    app = _tree_app(tree)

    @app.get("/api/v1/health-like/x")  # added after create_app, below an API prefix, as a WebSocket route is
    def health():
        return "flask"

    client = app.test_client()
    assert client.get("/api/v1/health-like").status_code == 200
    reply = client.get("/api/v1/health-like/x")
    assert reply.status_code == 200 and reply.get_data(as_text=True) == "flask"
    assert client.get("/API/v1/where").json["response"]["docs"] == "/docs/"
    app.config["mia.databases"].close_all()


def test_hooks_and_flask_globals_still_run_for_api_routes(tree):
    app = _tree_app(tree)
    seen = []

    @app.before_request
    def before():
        g.marker = "set before"
        seen.append("before")

    @app.after_request
    def after(response):
        response.headers["X-After"] = g.marker
        return response

    @app.teardown_request
    def teardown(exc):
        seen.append("teardown")

    reply = app.test_client().get("/api/v1/where")
    assert reply.status_code == 200
    assert reply.json["response"] == {"app": "mia", "docs": "/docs/", "path": "/api/v1/where"}
    assert reply.headers["X-After"] == "set before"
    assert seen == ["before", "teardown"]
    app.config["mia.databases"].close_all()


def test_slashes_and_unknown_verbs_still_answer_as_before(client):
    merged = client.get("/demo//v1/todo")  # Flask's matcher handles it (merge_slashes): same as before
    assert merged.status_code in (308, 404)
    trace = client.open("/demo/v1/todo", method="TRACE")
    assert trace.status_code == 405 and trace.json["status"] == 405
    assert client.get("/docs/").status_code == 200  # a Flask rule: the docs page
    assert client.head("/demo/v1/todo").status_code == 200


def test_websocket_routes_do_not_send_plain_requests_back_through_flask_matching(app, monkeypatch):
    """The demo declares ``ws`` routes (flask-sock rules on ``/<path:path>``): those rules claim only
    WebSocket handshakes, so plain API requests still skip Flask's URL matching, and a plain GET on the
    ws path still answers 426 through the pipeline."""
    assert any(rule.websocket for rule in app.url_map.iter_rules())
    adapters = []
    original = app.create_url_adapter
    monkeypatch.setattr(app, "create_url_adapter",
                        lambda request: (request is not None and adapters.append(request)) or original(request))
    client = app.test_client()
    assert client.get("/demo/v1/todo?limit=1").status_code == 200
    assert client.get("/icecream/v1/flavours?flavour=Vanilla").status_code == 200
    assert adapters == []  # no URL adapter bound: the router alone matched them
    reply = client.get("/demo/v1/live/todos")
    assert reply.status_code == 426 and reply.json["status"] == 426


LEAN_CONTROLLERS = '''
from flask import after_this_request, g, redirect, session
from core import Controller

class Marks(Controller):
    identity = "marks"
    def all(self, req, res):
        g.mark = "from g"
        @after_this_request
        def stamp(response):
            response.headers["X-After-This"] = "yes"
            return response

class Reads(Controller):
    identity = "reads"
    def all(self, req, res):
        res.response = {"g": g.mark, "session": session.get("user"), "empty": len(session)}

class Moves(Controller):
    identity = "moves"
    def all(self, req, res):
        res.send(redirect("/api/v1/reads?x=1", code=302))
'''


def _lean_app(tree):
    tree.write("projects/base/controllers/lean.py", LEAN_CONTROLLERS)
    tree.write("projects/base/routes/r.py", '''
routes = {"prefix": "/api/v1", "routes": {
    "./reads": {"get": {"controller": [{"name": "marks"}, {"name": "reads"}, {"name": "out"}]}},
    "./moves": {"get": {"controller": [{"name": "moves"}]}}}}
''')
    return tree.app()


def test_flask_request_helpers_work_on_the_lean_path(tree):
    """With no app hooks the lean way serves API routes: g, after_this_request, the (null) session,
    a redirect's Location and HEAD answer as Flask's full dispatch answers them."""
    app = _lean_app(tree)
    client = app.test_client()
    reply = client.get("/api/v1/reads")
    assert reply.status_code == 200
    assert reply.json["response"] == {"g": "from g", "session": None, "empty": 0}
    assert reply.headers["X-After-This"] == "yes"
    assert "Set-Cookie" not in reply.headers  # the null session is never saved
    moved = client.get("/api/v1/moves")
    assert moved.status_code == 302 and moved.headers["Location"] == "/api/v1/reads?x=1"
    head = client.head("/api/v1/reads")
    assert head.status_code == 200 and head.data == b""
    assert int(head.headers["Content-Length"]) == len(reply.data)
    app.config["mia.databases"].close_all()


def test_signal_receivers_and_app_teardowns_are_still_served(tree):
    """Somebody listening on Flask's request signals, or an app teardown, gets Flask's full dispatch."""
    from flask import request_finished, request_started

    app = _lean_app(tree)
    heard, torn = [], []

    def started(sender, **extra):
        heard.append("started")

    def finished(sender, response, **extra):
        heard.append(response.status_code)

    with request_started.connected_to(started, app), request_finished.connected_to(finished, app):
        assert app.test_client().get("/api/v1/reads").status_code == 200
    assert heard == ["started", 200]
    assert app.test_client().get("/api/v1/reads").status_code == 200  # receivers gone: lean again
    assert heard == ["started", 200]

    other = _lean_app(tree)
    other.teardown_appcontext(lambda exc: torn.append(exc))
    assert other.test_client().get("/api/v1/reads").status_code == 200
    assert torn == [None]
    for each in (app, other):
        each.config["mia.databases"].close_all()


def test_an_error_in_a_controller_is_the_json_envelope_on_the_lean_path(client):
    reply = client.get("/icecream/v1/flavours")  # a missing required query parameter
    assert reply.status_code == 400
    assert reply.json["status"] == 400 and reply.json["errors"][0]["code"] == "MissingRequiredParameter"
    assert int(reply.headers["Content-Length"]) == len(reply.data)


def test_the_demo_app_serves_api_requests_the_lean_way(app, monkeypatch):
    """The shipped projects (ws routes, docs, static assets included) register no app-wide hooks:
    API requests skip Flask's full dispatch. A hook added by a future feature must not switch that
    off unnoticed (flask-sock's rules once switched direct dispatch off for every request)."""
    full = []
    original = type(app).full_dispatch_request
    monkeypatch.setattr(type(app), "full_dispatch_request", lambda self: full.append(1) or original(self))
    client = app.test_client()
    assert client.get("/icecream/v1/flavours?flavour=Vanilla").status_code == 200
    assert client.get("/demo/v1/todo?limit=1").status_code == 200
    assert full == []
    assert client.get("/docs/").status_code == 200  # a Flask rule of its own: Flask's dispatch
    assert full == [1]
