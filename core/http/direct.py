"""Direct dispatch: API requests reach the pipeline without Flask matching their URL first.

Why: every API route is served by one Flask catch-all rule (``/`` and ``/<path:path>``) and the
pipeline's router does the real matching. Flask still bound a URL adapter and ran its own matcher
on every request only to land on that catch-all: a second routing pass, ~15% of a small request.

:func:`install` wraps ``app.wsgi_app``. A request that Flask would certainly route to the catch-all
(its path starts with no prefix of any other Flask rule: docs, static assets, WebSocket routes
added later; no ``//``; a method the catch-all takes; no ``SERVER_NAME``, ``TRUSTED_HOSTS`` or host
matching) gets a request context whose rule is already decided; everything else goes through Flask
unchanged. The rest is Flask's own code: ``full_dispatch_request`` (signals, before/after-request hooks,
sessions, error handlers), the same context push and pop, the same teardown. ``url_for`` in a controller
still works: the URL adapter is built on first use.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from flask.ctx import RequestContext

CATCH_ALL = "mia"


class DirectContext(RequestContext):
    """A request context whose URL rule is decided before it is pushed (no matching pass)."""

    def __init__(self, app: Flask, environ: dict[str, Any], rule: Any, view_args: dict[str, str]) -> None:
        # RequestContext.__init__ (Flask 3.1) minus create_url_adapter, which is what this class saves.
        self.app = app
        request = app.request_class(environ)
        request.json_module = app.json
        request.url_rule, request.view_args = rule, view_args
        self.request = request
        self._adapter: Any = None
        self._adapter_ready = False  # None during push(): RequestContext.push matches when it sees an adapter
        self.flashes = None
        self._session = None
        self._after_request_functions = []
        self._cv_tokens = []

    @property  # type: ignore[override]
    def url_adapter(self) -> Any:
        if not self._adapter_ready:
            return None
        if self._adapter is None:
            self._adapter = self.app.create_url_adapter(self.request)
        return self._adapter

    @url_adapter.setter
    def url_adapter(self, value: Any) -> None:
        self._adapter = value

    def push(self) -> None:
        super().push()
        self._adapter_ready = True


class DirectDispatch:
    """WSGI callable: the catch-all's requests straight to ``full_dispatch_request``, others to Flask."""

    def __init__(self, app: Flask, flask_wsgi: Callable[..., Any]) -> None:
        self.app = app
        self.flask_wsgi = flask_wsgi
        self._rules_seen = -1
        self._other_prefixes: tuple[str, ...] | None = None
        self._root_rule: Any = None
        self._path_rule: Any = None
        self._methods: frozenset[str] = frozenset()

    def _refresh(self) -> None:
        """Recompute what Flask routes elsewhere; runs again whenever a rule is added."""
        rules = list(self.app.url_map.iter_rules())
        self._rules_seen = len(rules)
        self._other_prefixes = None
        mine = [r for r in rules if r.endpoint == CATCH_ALL]
        root = next((r for r in mine if r.rule == "/"), None)
        path = next((r for r in mine if r.rule == "/<path:path>"), None)
        if (root is None or path is None or self.app.config.get("SERVER_NAME") or self.app.url_map.host_matching
                or self.app.subdomain_matching):
            return
        prefixes = []
        for rule in rules:
            if rule.endpoint == CATCH_ALL or rule.websocket:  # a WebSocket rule claims only handshakes,
                continue  # which always go through Flask (the Upgrade test below)
            static = rule.rule.split("<", 1)[0].lower().rstrip("/")
            if not static or rule.host or rule.subdomain:
                return  # a rule that may claim any path: always ask Flask
            prefixes.append(static)
        self._root_rule, self._path_rule = root, path
        self._methods = frozenset(root.methods or ()) & frozenset(path.methods or ())
        self._other_prefixes = tuple(prefixes)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if len(self.app.url_map._rules) != self._rules_seen:
            self._refresh()
        path = environ.get("PATH_INFO") or ""
        prefixes = self._other_prefixes
        config = self.app.config
        if (prefixes is None or config["TRUSTED_HOSTS"] is not None or config["SERVER_NAME"]  # Flask checks hosts
                or not path.startswith("/") or "//" in path or "\n" in path or "HTTP_UPGRADE" in environ
                or environ.get("REQUEST_METHOD") not in self._methods or path.lower().startswith(prefixes)):
            return self.flask_wsgi(environ, start_response)
        return self._direct(environ, start_response, path)

    def _direct(self, environ: dict[str, Any], start_response: Callable[..., Any], path: str) -> Iterable[bytes]:
        """Flask.wsgi_app, with the rule chosen instead of matched."""
        app = self.app
        view_args = {"path": path[1:]} if len(path) > 1 else {}
        ctx = DirectContext(app, environ, self._path_rule if view_args else self._root_rule, view_args)
        error: BaseException | None = None
        try:
            try:
                ctx.push()
                response = app.full_dispatch_request()
            except Exception as e:  # noqa: BLE001 - as Flask.wsgi_app
                error = e
                response = app.handle_exception(e)
            except:  # noqa: E722 - as Flask.wsgi_app
                error = sys.exc_info()[1]
                raise
            return response(environ, start_response)
        finally:
            if "werkzeug.debug.preserve_context" in environ:
                from flask.globals import _cv_app, _cv_request

                environ["werkzeug.debug.preserve_context"](_cv_app.get())
                environ["werkzeug.debug.preserve_context"](_cv_request.get())
            if error is not None and app.should_ignore_error(error):
                error = None
            ctx.pop(error)


def install(app: Flask) -> DirectDispatch:
    """Put direct dispatch in front of Flask's own ``wsgi_app`` (call it before wrapping middleware)."""
    direct = DirectDispatch(app, app.wsgi_app)
    app.wsgi_app = direct  # type: ignore[method-assign]
    return direct
