"""WebSocket routes (route method key ``ws``): the handshake runs the route's chain, then the socket is served.

Mounting is plain flask-sock (``Sock`` on a blueprint, one catch-all WebSocket rule), so any WSGI
server flask-sock supports carries it (werkzeug, gunicorn gthread/eventlet/gevent). Per upgrade
request, in order:

1. the ws router (its own werkzeug map, built from the ``ws`` routes only) matches host + path:
   an unknown path answers the JSON 404 before anything is upgraded;
2. the pipeline's guards (rate limit, overload), the preconditions of every controller (query,
   header, path), then the controller chain, as for any route: ``generic-validateAccessKey``,
   ``generic-validateJWT`` and ``policy`` work unchanged. A failure (or a controller that calls
   ``res.send``) answers the standard JSON envelope and the socket is never opened;
3. flask-sock upgrades; the connection joins the hub (:mod:`core.http.wshub`) under the route's
   path; the handler's ``on_connect(ws, req)`` runs, then ``on_message(ws, req, message)`` per
   message, and ``on_disconnect(ws, req)`` when it ends for any reason. A socket whose session
   expires (``req.mia.session_expires``, epoch seconds: generic-validateJWT sets the token's
   ``exp`` plus leeway) is closed with 1008 at that moment.

``websocket`` in the environment: ``pingInterval`` seconds (default 25; a client that misses a pong
for one interval is closed with 1008 and reaped), ``maxMessageSize`` (default ``"64kb"``; a route's
``maxMessageSize`` lowers it; bigger messages close the socket with 1009), ``pollInterval``,
``idleInterval`` and ``retention`` of the broadcast bus (:mod:`core.data.broadcast`), and
``database`` (default: the default database).
"""
from __future__ import annotations

import logging
import queue
import time
from typing import Any

from flask import Blueprint, Flask, g, request

from core.data.broadcast import BroadcastBus
from core.errors import MiaError, as_mia_error
from core.http.chain import run_controllers, run_error_controllers
from core.http.context import MiaContext, MiaResponse
from core.http.output import error_response, finish
from core.http.router import Router
from core.http.wshub import POLICY_VIOLATION, Connection, Hub
from core.shared import Shared
from core.validation.preconditions import check_overflow, validate_request

log = logging.getLogger("mia.websocket")
WAKE_EVERY = 5.0  # seconds; the loop also wakes on every message in or out
MESSAGE_TOO_BIG = 1009
INTERNAL_ERROR = 1011


def settings(environment: dict[str, Any]) -> dict[str, Any]:
    return dict(environment.get("websocket") or {})


def make_hub(ws_routes: list[Any], environment: dict[str, Any]) -> Hub:
    """The process's hub, with its bus on the configured database (used lazily: no I/O here)."""
    conf = settings(environment)
    hub = Hub({route.path for route in ws_routes})
    database = conf.get("database")
    hub.bus = BroadcastBus(lambda: Shared.db(database), hub.id, conf)
    return hub


def install(app: Flask, ws_routes: list[Any], pipeline: Any, hub: Hub, ping: float | None, limit: int) -> None:
    """Mount the ``ws`` routes on ``app`` with flask-sock (nothing when there are none).

    ``ping`` and ``limit`` are the environment's ``websocket.pingInterval`` and ``maxMessageSize``
    (bytes), read by :func:`core.startup.routes.websocket_options`.
    """
    if not ws_routes:
        return
    from flask_sock import Sock  # here: an app without ws routes never loads flask-sock, wsproto, h11

    app.config["SOCK_SERVER_OPTIONS"] = {"ping_interval": ping or None, "max_message_size": limit}
    router = Router(ws_routes, pipeline.router.hosts)
    pipeline.upgrade_router = router
    handshake = Handshake(router, pipeline, limit)
    blueprint = Blueprint("mia_websocket", __name__)
    blueprint.before_request(handshake)
    sock = Sock()

    def session(ws: Any, path: str = "") -> None:
        serve(ws, g.mia_ws_route, request._get_current_object(), hub, g.mia_ws_limit)  # type: ignore[attr-defined]  # the proxy's own

    sock.route("/", bp=blueprint, endpoint="root")(session)
    sock.route("/<path:path>", bp=blueprint, endpoint="path")(session)
    app.register_blueprint(blueprint)


class Handshake:
    """``before_request`` of the WebSocket rule: route match, guards, preconditions, chain."""

    def __init__(self, router: Router, pipeline: Any, limit: int) -> None:
        self.router = router
        self.pipeline = pipeline
        self.limit = limit

    def __call__(self) -> Any:
        req = request._get_current_object()  # type: ignore[attr-defined]  # the proxy's own method
        environ = req.environ
        try:
            target, params = self.router.match(req.host, req.path, "GET",
                                               environ.get("RAW_URI") or environ.get("REQUEST_URI"))
        except MiaError as err:
            req.mia = MiaContext(None, default_culture=self.pipeline.default_culture, request=req)
            return error_response(err, req)
        route = target.route
        mia = req.mia = MiaContext(route.info, params, self.pipeline.default_culture, request=req)
        mia.client_ip, mia.scheme = self.pipeline.client_ip(req)
        res = MiaResponse()
        try:
            for guard in self.pipeline.guards:
                guard(route, req, res)
            validated = validate_request(route.preconditions, req)
            check_overflow(route.preconditions, req, route.info.parameter_overflow)
            run_controllers(route.controllers, req, res, validated, must_send=False)
        except Exception as err:  # noqa: BLE001 - every refusal is the JSON envelope, before the upgrade
            failure: BaseException = err
            if route.error_controllers:
                handed = as_mia_error(err) or MiaError(500)
                failure = run_error_controllers(route.error_controllers, handed, req, res)
            if not res.sent:
                return error_response(failure, req, res.headers)
        if res.sent:  # a controller answered instead of letting the socket open
            return finish(res)
        g.mia_ws_route = route
        g.mia_ws_limit = min(route.max_message_size or self.limit, self.limit)
        return None


def serve(server: Any, route: Any, req: Any, hub: Hub, limit: int) -> None:
    """The socket's life: hooks, incoming messages, queued outgoing ones, until either side closes."""
    from simple_websocket import ConnectionClosed  # loaded by install() with flask-sock

    conn = Connection(server, route.path, req, route)
    handler = route.socket
    hub.add(conn)
    try:
        if handler is not None and handler.on_connect is not None:
            handler.on_connect(conn, req)
        expires = getattr(req.mia, "session_expires", None)  # epoch seconds, set by e.g. generic-validateJWT
        while _flush(server, conn):
            left = WAKE_EVERY if expires is None else min(WAKE_EVERY, float(expires) - time.time())
            if left <= 0:
                conn.close(POLICY_VIOLATION, "Session expired")
                continue
            server.event.wait(left)
            server.event.clear()
            if not _read(server, conn, handler, req, limit):
                break
    except ConnectionClosed:
        pass
    except Exception:  # noqa: BLE001 - a handler bug closes this socket with 1011, never the server
        log.exception("WebSocket handler of %s failed", route.path)
        _close(server, INTERNAL_ERROR, "Internal error")
    finally:
        hub.remove(conn)
        if handler is not None and handler.on_disconnect is not None:
            try:
                handler.on_disconnect(conn, req)
            except Exception:  # noqa: BLE001 - the socket is gone either way
                log.exception("on_disconnect of %s failed", route.path)


def _read(server: Any, conn: Connection, handler: Any, req: Any, limit: int) -> bool:
    """Hand every buffered message to the handler; False once the socket is closed."""
    from simple_websocket import ConnectionClosed

    while True:
        try:
            message = server.receive(timeout=0)
        except ConnectionClosed:
            return False
        if message is None:
            return bool(server.connected)
        if len(message) > limit:
            conn.close(MESSAGE_TOO_BIG, "Message is too big")
            return True
        if handler is not None and handler.on_message is not None:
            handler.on_message(conn, req, message)


def _flush(server: Any, conn: Connection) -> bool:
    """Write the queued messages; False after a close (queued or by the peer)."""
    while True:
        try:
            kind, value = conn.outbox.get_nowait()
        except queue.Empty:
            return bool(server.connected)
        if kind == "close":
            _close(server, *value)
            return False
        server.send(value)


def _close(server: Any, code: int, reason: str) -> None:
    from simple_websocket import ConnectionClosed

    try:
        server.close(reason=code, message=reason)
    except ConnectionClosed:
        pass
