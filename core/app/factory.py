"""The application factory: configuration -> loader -> routes -> indexes and init -> Flask app.

``create_app("local")`` builds a WSGI app; ``server.py`` at the repository root is the command
line around it. Everything is compiled here, once; nothing on the request path re-reads files.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from core.app import access
from core.app import logs as log
from core.app.crons import control
from core.app.crons import modes as cron_modes
from core.app.docs import response_check as responsecheck
from core.app.docs import site as docs_site
from core.data import cache, indexes
from core.data import databases as db
from core.errors import MiaError
from core.http import direct, overload, ratelimit, static, websocket
from core.http.clientip import resolver as client_ip_resolver
from core.http.output import error_response
from core.http.pipeline import Pipeline
from core.http.request import MiaRequest
from core.http.router import HostResolver, Router
from core.shared import AppState, Shared, activate, bound, enter, leave
from core.startup import checks, selfcheck
from core.startup.config import env_file, load_root_config
from core.startup.loader import Loader, run_init_modules
from core.startup.routes import compile_route_files, websocket_options

ROOT = Path(__file__).resolve().parents[2]  # the repository: core/app/factory.py -> ../../
logger = logging.getLogger("mia.server")
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


def create_app(mode: str = "local", root: Path | str | None = None, overrides: dict[str, Any] | None = None,
               run_init: bool = True, reuse: Flask | None = None) -> Flask:
    """Build the app for environment ``mode``; raises :class:`core.errors.StartupError` on bad projects.

    ``run_init=False`` builds everything without touching the database (no indexes, no init
    modules): what ``server.py <env> routes`` and ``docs`` need. ``reuse`` (hot reload) rebuilds
    projects, routes and docs but keeps that app's environment, databases and cache, creates the
    indexes of new models and runs no init module; the caller restores the registries on failure.
    """
    if reuse is not None:
        state = reuse.extensions["mia"]
    else:
        state = AppState()  # a fresh registry: an app built earlier keeps its own (independent apps)
        activate(state)  # the fallback outside requests: the most recently built app
    with bound(state):
        return _build(state, mode, Path(root or ROOT), overrides, run_init, reuse)


def _build(state: AppState, mode: str, root: Path, overrides: dict[str, Any] | None, run_init: bool,
           reuse: Flask | None) -> Flask:
    if reuse is None:
        Shared.mode = mode
        Shared.system, Shared.environment, Shared.translations = load_root_config(root, mode, overrides)
        log.configure(Shared.environment)
        databases = db.install(Shared.environment, root)  # embedded store refused with server.workers > 1
        cache_backend = cache.install(Shared.environment)  # memcached or in-process; flushOnStart
    else:
        databases, cache_backend = reuse.config["mia.databases"], reuse.config["mia.cache"]
    Shared.warnings, Shared.disabled = [], {}  # also on a hot reload: this build's own
    loaded = Loader(root).load()
    log.install_transport(Shared.environment)  # logTransport names a project config's function
    hosts = HostResolver(Shared.environment.get("hosts") or [])  # validates the vhost entries first
    checks.compile_models()  # also for `routes` and `docs`: a model typo stops them as it stops the start
    routes = compile_route_files(loaded.route_files, mode, hosts.ids)
    Shared.warnings += checks.chain_warnings(routes)
    cron_warnings, notes = checks.check_crons()
    Shared.warnings += cron_warnings
    for line in Shared.warnings:
        logger.warning(line)
    ws_routes = [route for route in routes if route.is_websocket]
    router = Router([route for route in routes if not route.is_websocket], hosts)
    Shared.services = routes  # mia's Shared.registeredServices() (generic-servicesManager reads it)
    ws_ping, ws_limit = websocket_options(Shared.environment)
    hub = websocket.make_hub(ws_routes, Shared.environment)  # Shared.ws(path) in controllers, libs, jobs
    Shared.provide("ws", lambda: hub)
    Shared.handle("ws")  # held in Shared's handles: Shared.reset() stops its poller (hub.close_all)
    if reuse is not None:
        indexes.ensure_all_indexes(startup=True)
    elif run_init:  # touches the database: skipped by offline commands (routes, docs)
        # Production refuses weak or missing secrets, CORS '*' with credentials (core/startup/selfcheck.py).
        selfcheck.refuse_high(Shared.environment, routes, str(env_file(root, mode)))
        indexes.ensure_all_indexes(startup=True)  # model indexes; honours skipDatabaseIndexingOnNewCollections
        run_init_modules(loaded.init_modules)
    pipeline = Pipeline(router=router, default_culture=dict(Shared.system.get("defaultCulture") or {}))
    pipeline.client_ip = client_ip_resolver(Shared.environment)  # X-Forwarded-* only from trustedProxies
    ratelimit.install(pipeline, Shared.environment, routes, cache_backend)
    monitor = overload.install(pipeline, Shared.environment)  # first guard: 503 ServerBusy when saturated
    responsecheck.install(pipeline, routes, Shared.environment)  # checkResponseSchemes (tests)

    app = Flask("mia", static_folder=None)
    app.request_class = MiaRequest  # werkzeug's per-request fields read when used (core/http/request.py)
    app.extensions["mia"] = state  # Shared answers from it inside this app's context
    app.config["mia.pipeline"] = pipeline
    app.config["mia.routes"] = routes
    app.config["mia.loaded"] = loaded
    app.config["mia.databases"] = databases
    app.config["mia.mode"] = mode
    app.config["mia.cache"] = cache_backend
    app.config["mia.overload"] = monitor
    app.config["mia.hub"] = hub
    app.config["mia.warnings"] = list(Shared.warnings)
    app.config["mia.notes"] = notes
    docs_site.install(app, routes, router, Shared.environment)  # OpenAPI per vhost; /docs, /api-docs if swaggerMode
    static.install(app, root, loaded.projects)  # projects/<p>/public at /<p>/assets/
    websocket.install(app, ws_routes, pipeline, hub, ws_ping, ws_limit)  # flask-sock; handshake = the chain
    def dispatch(path: str = "") -> Any:
        req = request._get_current_object()  # type: ignore[attr-defined]  # the proxy's own method
        response = pipeline.handle(req)
        route = getattr(getattr(req, "mia", None), "route", None)
        if route is not None:  # the access line's identity (LOG_LEVEL_<IDENTITY>)
            req.environ["mia.identity"] = route.identity
        return response

    app.add_url_rule("/", "mia", dispatch, methods=ALL_METHODS, provide_automatic_options=False)
    app.add_url_rule("/<path:path>", "mia", dispatch, methods=ALL_METHODS, provide_automatic_options=False)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        if exc.code in (404, 405):  # a verb (TRACE) or path (a %0A in it) Flask's catch-all misses: ask the router
            return pipeline.handle(request._get_current_object())  # type: ignore[attr-defined]  # the proxy's own method
        return error_response(MiaError(exc.code or 500), request)

    @app.errorhandler(Exception)
    def _any_error(exc: Exception) -> Any:
        return error_response(exc, request)

    control.install(app, Shared.environment, cron_modes.controller, cron_modes.enabled)  # /_mia/crons (loopback)
    direct.install(app)  # API requests skip Flask's URL matching (the router matches them)
    if monitor is not None:
        app.wsgi_app = monitor.wrap(app.wsgi_app)  # type: ignore[method-assign]
    access.install(app, Shared.environment)  # X-Request-Id, access line, /_mia/health
    app.wsgi_app = bind_requests(app.wsgi_app, state)  # type: ignore[method-assign]  # outermost
    return app


def bind_requests(wsgi_app: Any, state: AppState) -> Any:
    """Every request of this app (and its WebSocket handlers) sees this app's ``Shared``."""
    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        token = enter(state)
        try:
            return wsgi_app(environ, start_response)
        finally:
            leave(token)

    return wrapped
