"""werkzeug's threaded server for every listener of one process: development, hot reload, WebSockets.

One thread per connection, so a client that trickles its headers ties up only its own thread
(the granian production server cuts it after ``server.headerTimeout`` instead). Errors the HTTP
layer answers before the app sees the request (bad request line, URI over 64 KiB, too many or too
long headers) are sent in mia's JSON envelope. SIGTERM and Ctrl-C stop accepting and let running
requests finish (up to ``server.gracefulTimeout`` seconds); the caller then stops the crons and
closes the databases (core/app/serving/lifecycle.py).
"""
from __future__ import annotations

import signal
import ssl
import sys
import threading
import time
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, DechunkedInput, WSGIRequestHandler, make_server

from core.app.serving.listeners import Listener, redirect_app
from core.app.serving.transport import StrictDechunkedInput, body_timeout, envelope


class JsonErrorHandler(WSGIRequestHandler):
    """werkzeug's handler with the transport-level errors in the JSON envelope instead of HTML.

    Chunk sizes are read strictly; the socket's timeout (``server.bodyTimeout``, set per listener
    by :func:`start_listener`) ends a request whose body stops coming with 408 (core/http/body.py)."""

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        chunked = environ.get("wsgi.input")
        if isinstance(chunked, DechunkedInput):
            environ["wsgi.input"] = StrictDechunkedInput(chunked._rfile)
        return environ

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        body = envelope(int(code))
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":  # an unparsable line: answer with a status line
            self.request_version = "HTTP/1.0"
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass
        self.close_connection = True


class InFlight:
    """Counts running requests so that a stopping server can wait for them."""

    def __init__(self, app: Any) -> None:
        self.app, self.count, self.lock = app, 0, threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self.lock:
            self.count += 1
        try:
            upgrade = bool(environ.get("HTTP_UPGRADE"))
            if upgrade and environ.get("werkzeug.socket") is not None:
                environ["werkzeug.socket"].settimeout(None)  # an idle WebSocket is not a stalled body
            result = self.app(environ, start_response)
            if upgrade:  # a WebSocket ran inside the call
                return result
            try:
                return list(result)  # the body is produced while the request counts as running
            finally:
                if hasattr(result, "close"):
                    result.close()
        finally:
            with self.lock:
                self.count -= 1

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.count == 0


class Running:
    """One listener's server and its thread."""

    def __init__(self, server: BaseWSGIServer, in_flight: InFlight) -> None:
        self.server, self.in_flight = server, in_flight
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def stop(self, timeout: float) -> None:
        self.server.shutdown()  # stop accepting
        self.in_flight.wait(timeout)
        self.server.server_close()


def _ssl_context(listener: Listener) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(listener.cert or "", listener.key, password=listener.passphrase)
    if listener.ca:
        context.load_verify_locations(listener.ca)
    return context


def start_listener(app: Any, listener: Listener, environment: dict[str, Any]) -> Running:
    """Bind ``listener`` and serve ``app`` (or the redirect) on a background thread."""
    target = redirect_app(environment) if listener.role == "redirect" else app
    in_flight = InFlight(target)
    host = f"unix://{listener.socket}" if listener.socket else listener.host
    if listener.socket:
        Path(listener.socket).unlink(missing_ok=True)
    handler = type("JsonErrorHandler", (JsonErrorHandler,), {"timeout": body_timeout(environment)})
    server = make_server(host, listener.port, in_flight, threaded=True, request_handler=handler,
                         ssl_context=_ssl_context(listener) if listener.cert else None)
    return Running(server, in_flight)


def serve_threaded(app: Any, listeners: list[Listener], environment: dict[str, Any], mode: str = "local",
                   root: Path | str | None = None, hot: bool = False) -> int:
    """Serve every listener from this process until SIGTERM/SIGINT; ``hot`` reloads changed files.

    Returns once no request runs any more (or ``server.gracefulTimeout`` passed); the databases stay
    open for the cron scheduler's stop."""
    target: Any = app
    watcher = None
    if hot:
        from core.app.serving.reload import AppSwitch, Watcher

        target = AppSwitch(app)
        watcher = Watcher(target, mode, root)
        watcher.start()
    running = [start_listener(target, item, environment) for item in listeners]
    stop = threading.Event()
    previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        stop.wait()
    finally:
        timeout = float((environment.get("server") or {}).get("gracefulTimeout", 30))
        if watcher is not None:
            watcher.stop()
        for item in running:
            item.server.shutdown()
        for item in running:
            if not item.in_flight.wait(timeout):
                print("mia: requests still running after server.gracefulTimeout; stopping", file=sys.stderr)
            item.server.server_close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
