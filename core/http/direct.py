"""Direct dispatch: API requests reach the pipeline without Flask matching their URL first.

Why: every API route is served by one Flask catch-all rule (``/`` and ``/<path:path>``) and the
pipeline's router does the real matching. Flask still bound a URL adapter and ran its own matcher
on every request only to land on that catch-all: a second routing pass, ~15% of a small request.

:func:`install` wraps ``app.wsgi_app``. A request that Flask would certainly route to the catch-all
(its path starts with no prefix of any other Flask rule: docs, static assets, WebSocket routes
added later; no ``//``; a method the catch-all takes; no ``SERVER_NAME``, ``TRUSTED_HOSTS`` or host
matching) gets a request context whose rule is already decided; everything else goes through Flask
unchanged. ``url_for`` in a controller still works: the URL adapter is built on first use.

Two ways on from there, chosen per request:

* **lean** (the usual case): the app has no request hooks of its own (``before_request``,
  ``after_request``, teardowns, URL value preprocessors), no session secret, and no receiver on
  Flask's request signals. Then Flask's full dispatch would only send signals nobody hears, open a
  null session and look up empty hook lists; the lean way pushes the same contexts (``request``,
  ``g``, ``current_app``, ``after_this_request`` and ``session`` all work), calls the catch-all's view,
  runs Flask's own error handling on an exception, and writes a plain ``bytes`` response to WSGI
  without werkzeug's generic header pass (which it still uses for anything else).
* **full**: Flask's own ``full_dispatch_request``, for an app that registered any of those.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, signals
from flask.ctx import RequestContext
from flask.globals import _cv_app, _cv_request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.wrappers import Request

CATCH_ALL = "mia"
HOOKS = ("before_request_funcs", "after_request_funcs", "teardown_request_funcs", "url_value_preprocessors")
SIGNALS = (signals.request_started, signals.request_finished, signals.request_tearing_down,
           signals.appcontext_pushed, signals.appcontext_popped, signals.appcontext_tearing_down)
NO_BODY = frozenset((204, 304))
_REQUEST_CLOSE = Request.close
_FIX_UP = frozenset(("location", "content-location"))  # werkzeug rewrites these: leave them to it


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

    @property
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


class LeanContext(DirectContext):
    """The same context for a plain app: pushed and popped without signals, hooks or a session read.

    The session is the null session Flask would open (no secret key), made when first asked for.
    """

    @property
    def session(self) -> Any:
        if self._session is None:
            self._session = self.app.session_interface.make_null_session(self.app)
        self._session.accessed = True
        return self._session

    def push(self) -> None:
        app_ctx = _cv_app.get(None)
        if app_ctx is None or app_ctx.app is not self.app:
            app_ctx = self.app.app_context()
            app_ctx._cv_tokens.append(_cv_app.set(app_ctx))
        else:
            app_ctx = None
        self._cv_tokens.append((_cv_request.set(self), app_ctx))
        self._adapter_ready = True

    def pop(self, exc: BaseException | None = None) -> None:
        last = len(self._cv_tokens) == 1
        token, app_ctx = self._cv_tokens.pop()
        try:
            if last and ("files" in self.request.__dict__ or type(self.request).close is not _REQUEST_CLOSE):
                self.request.close()  # it closes the uploaded files: none when none were parsed
        finally:
            _cv_request.reset(token)
            if last:
                self.request.environ["werkzeug.request"] = None
            if app_ctx is not None:
                _cv_app.reset(app_ctx._cv_tokens.pop())


def hooks_plain(app: Flask) -> bool:
    """No app-wide request hooks and no sessions: Flask's full dispatch would only look up empty lists."""
    if app.teardown_appcontext_funcs or any(getattr(app, name).get(None) for name in HOOKS):
        return False
    return not app.secret_key and type(app.session_interface) is SecureCookieSessionInterface


def wsgi_response(response: Any, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """``response(environ, start_response)``, without werkzeug's header pass when it would change nothing.

    That pass copies the headers, rewrites Location headers, drops bodies of 1xx/204/304 and HEAD,
    and adds Content-Length: a buffered body that already has one and no Location needs none of it.
    """
    body = response.response
    status = response.status_code
    if (type(body) is not list or response.direct_passthrough or response._on_close or status < 200
            or status in NO_BODY):
        return response(environ, start_response)
    pairs = response.headers._list
    length = False
    for name, _ in pairs:
        lower = name.lower()
        if lower in _FIX_UP:
            return response(environ, start_response)
        if lower == "content-length":
            length = True
    if not length:
        return response(environ, start_response)
    start_response(response.status, list(pairs))
    return [] if environ["REQUEST_METHOD"] == "HEAD" else body


def _full_dispatch(ctx: DirectContext) -> Any:
    """Flask's own dispatch: signals, hooks, sessions (for an app that uses any of them)."""
    return ctx.app.full_dispatch_request()


def _werkzeug_write(response: Any, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    return response(environ, start_response)


class DirectDispatch:
    """WSGI callable: the catch-all's requests straight to the pipeline's view, others to Flask."""

    def __init__(self, app: Flask, flask_wsgi: Callable[..., Any]) -> None:
        self.app = app
        self.flask_wsgi = flask_wsgi
        self._rules_seen: Any = None  # the url_map whose rules _refresh read; None when a rule was added since
        self._other_prefixes: tuple[str, ...] | None = None
        self._root_rule: Any = None
        self._path_rule: Any = None
        self._methods: frozenset[str] = frozenset()
        self._hooks_plain: bool | None = None  # settled at the first request: Flask refuses hooks after it

    def _plain(self) -> bool:
        """Lean dispatch fits: no hooks or sessions (see :func:`hooks_plain`) and nobody on the signals."""
        hooks = self._hooks_plain
        if hooks is None:
            hooks = hooks_plain(self.app)
            if self.app._got_first_request:
                self._hooks_plain = hooks
        if not hooks:
            return False
        for signal in SIGNALS:
            if signal.receivers:
                return False
        return True

    def _watch(self, url_map: Any) -> None:
        """Learn of every rule added to ``url_map`` (its ``add``, wrapped on the instance): checked per
        request, where counting the rules built a list of all of them each time."""
        if getattr(url_map.add, "_mia_direct", None) is self:
            return
        add = url_map.add

        def add_and_refresh(rulefactory: Any) -> None:
            add(rulefactory)
            self._rules_seen = None

        add_and_refresh._mia_direct = self  # type: ignore[attr-defined]
        url_map.add = add_and_refresh

    def _refresh(self) -> None:
        """Recompute what Flask routes elsewhere; runs again whenever a rule is added."""
        url_map = self.app.url_map
        self._watch(url_map)
        self._rules_seen = url_map  # before reading: a rule added meanwhile sets None again
        rules = list(url_map.iter_rules())
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
        if self._rules_seen is not self.app.url_map:
            self._refresh()
        path = environ.get("PATH_INFO") or ""
        prefixes = self._other_prefixes
        config = self.app.config
        if (prefixes is None or config["TRUSTED_HOSTS"] is not None or config["SERVER_NAME"]  # Flask checks hosts
                or not path.startswith("/") or "//" in path or "\n" in path or "HTTP_UPGRADE" in environ
                or environ.get("REQUEST_METHOD") not in self._methods or path.lower().startswith(prefixes)):
            return self.flask_wsgi(environ, start_response)
        view_args = {"path": path[1:]} if len(path) > 1 else {}
        rule = self._path_rule if view_args else self._root_rule
        if self._plain() and "werkzeug.debug.preserve_context" not in environ:
            ctx: DirectContext = LeanContext(self.app, environ, rule, view_args)
            return self._serve(ctx, environ, start_response, self._lean_dispatch, wsgi_response)
        return self._serve(DirectContext(self.app, environ, rule, view_args), environ, start_response,
                           _full_dispatch, _werkzeug_write)

    def _lean_dispatch(self, ctx: DirectContext) -> Any:
        """``full_dispatch_request`` for an app with no hooks, sessions or signal receivers (module doc)."""
        app = self.app
        app._got_first_request = True
        try:
            rv = app.view_functions[CATCH_ALL](**(ctx.request.view_args or {}))
        except Exception as e:  # noqa: BLE001 - as full_dispatch_request: the app's error handlers
            rv = app.handle_user_exception(e)
        response = rv if type(rv) is app.response_class else app.make_response(rv)  # type: ignore[arg-type]  # a view's return value, as Flask's own dispatch passes it
        if ctx._after_request_functions:  # after_this_request() in a controller
            ctx.session  # noqa: B018 - process_response reads ctx._session: open the null session
            response = app.process_response(response)
        return response

    def _serve(self, ctx: DirectContext, environ: dict[str, Any], start_response: Callable[..., Any],
               dispatch: Callable[[DirectContext], Any], write: Callable[..., Iterable[bytes]]) -> Iterable[bytes]:
        """Flask.wsgi_app around ``dispatch``, with the rule chosen instead of matched."""
        app = self.app
        error: BaseException | None = None
        try:
            try:
                ctx.push()
                response = dispatch(ctx)
            except Exception as e:  # noqa: BLE001 - as Flask.wsgi_app
                error = e
                response = app.handle_exception(e)
            except:  # noqa: E722 - as Flask.wsgi_app
                error = sys.exc_info()[1]
                raise
            return write(response, environ, start_response)
        finally:
            if "werkzeug.debug.preserve_context" in environ:
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
