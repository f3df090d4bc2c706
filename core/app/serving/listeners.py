"""Listeners as mia.js has them: ``server.http``, ``server.https`` (both at once), the redirect.

``plan(environment)`` turns the environment into a list of :class:`Listener` the servers bind:
HTTP on ``server.http {host, port}`` or a unix socket (``server.http.socket``); HTTPS on
``server.https {port, cert, key, ca, passphrase}`` (or mia.js's ``options: {key, cert, ...}``);
with ``server.http.redir`` the HTTP listener answers every request with a 301 to HTTPS that keeps
path and query (mia.js's redirect without its repeated-colon bug). With neither section: HTTP on
127.0.0.1:3000. ``server.websocket {host, port}`` adds the production server's listener for
WebSocket routes (served by core/app/serving/ws_run.py; see serve.py for why it is separate).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from core.errors import StartupError

_HOSTNAME = re.compile(r"^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]+\]$")


@dataclass(frozen=True)
class Listener:
    """One socket the server binds: ``role`` is ``app``, ``redirect`` or ``websocket``."""

    role: str
    scheme: str
    host: str = "127.0.0.1"
    port: int = 0
    socket: str | None = None
    cert: str | None = None
    key: str | None = None
    ca: str | None = None
    passphrase: str | None = None

    @property
    def url(self) -> str:
        if self.socket:
            return f"{self.scheme}+unix://{self.socket}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = {"http": "ws", "https": "wss"}[self.scheme] if self.role == "websocket" else self.scheme
        return f"{scheme}://{host}:{self.port}"

    def describe(self, https_port: int | None = None) -> str:
        if self.role == "redirect":
            return f"{self.url} (redirects to https port {https_port})"
        return f"{self.url}{' (WebSocket routes)' if self.role == 'websocket' else ''}"


def _file(value: Any, name: str) -> str:
    path = Path(str(value)).expanduser()
    if not path.is_file():
        raise StartupError(f"server.https.{name}: file not found: {path}")
    return str(path)


def plan(environment: dict[str, Any]) -> list[Listener]:
    """The listeners the environment asks for; fails naming the key when HTTPS lacks its files."""
    server = environment.get("server") or {}
    http = server.get("http")
    https = server.get("https")
    listeners: list[Listener] = []
    default_host = str((http or {}).get("host", "127.0.0.1"))
    https_listener = None
    if https:
        options = https.get("options") or {}
        cert, key = https.get("cert") or options.get("cert"), https.get("key") or options.get("key")
        if not https.get("port") or not cert or not key:
            raise StartupError("server.https needs port, cert and key (file paths)")
        ca = https.get("ca") or options.get("ca")
        https_listener = Listener(
            "app", "https", str(https.get("host", default_host)), int(https["port"]), cert=_file(cert, "cert"),
            key=_file(key, "key"), ca=_file(ca, "ca") if ca else None,
            passphrase=https.get("passphrase") or options.get("passphrase"))
    if http or not https:
        http = http or {}
        role = "redirect" if http.get("redir") else "app"
        if role == "redirect" and https_listener is None:
            raise StartupError("server.http.redir needs server.https")
        listeners.append(Listener(role, "http", default_host, int(http.get("port", 3000)),
                                  socket=http.get("socket") or None))
    if https_listener is not None:
        listeners.append(https_listener)
    websocket = server.get("websocket")
    if websocket and websocket.get("port"):
        listeners.append(Listener("websocket", "http", str(websocket.get("host", default_host)),
                                  int(websocket["port"])))
    return listeners


def _host_name(header: str) -> str:
    """The Host header without its port (``[v6]:port`` kept as ``[v6]``)."""
    if header.startswith("["):
        end = header.find("]")
        return header[:end + 1] if end > 0 else ""
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def https_port(listeners: list[Listener]) -> int | None:
    return next((item.port for item in listeners if item.scheme == "https"), None)


def describe(listeners: list[Listener]) -> list[str]:
    """One start-up line per listener."""
    port = https_port(listeners)
    return [f"mia: listening on {item.describe(port)}" for item in listeners]


def redirect_app(environment: dict[str, Any]) -> Any:
    """WSGI app answering every request with ``301 Location: https://<host>[:port]<path>?<query>``.

    Host: ``redirHostname``, else the Host header without its port (only when it looks like a
    host name), else ``redirFallbackHostname``, else the listener's address. Port: ``redirPort``,
    else the HTTPS port; left out when it is 443.
    """
    server = environment.get("server") or {}
    http, https = server.get("http") or {}, server.get("https") or {}
    port = int(http.get("redirPort") or https.get("port") or 443)
    suffix = "" if port == 443 else f":{port}"
    fixed, fallback = http.get("redirHostname"), http.get("redirFallbackHostname")

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        host = fixed
        if not host:
            name = _host_name(str(environ.get("HTTP_HOST") or ""))
            host = name if name and _HOSTNAME.match(name) else (fallback or environ.get("SERVER_NAME") or "localhost")
        target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if not target or not target.startswith("/"):
            path = quote(str(environ.get("PATH_INFO") or "/").encode("latin-1").decode("utf-8", "replace"),
                         safe="/:@!$&'()*+,;=-._~%")
            query = environ.get("QUERY_STRING") or ""
            target = path + (f"?{query}" if query else "")
        location = f"https://{host}{suffix}{target}"
        body = json.dumps({"status": 301, "response": {"location": location}}).encode()
        start_response("301 Moved Permanently", [("Location", location), ("Content-Type", "application/json"),
                                                 ("Content-Length", str(len(body)))])
        return [body]

    return app


def refuse_upgrades(app: Any, websocket_url: str | None) -> Any:
    """Wrap a WSGI app for a server without WebSockets (granian's WSGI interface).

    A WebSocket handshake there answers ``426 UseWebSocketListener`` in the JSON envelope, naming
    the ``server.websocket`` listener, instead of a flask-sock route failing with a 500.
    """
    where = f" at {websocket_url}" if websocket_url else " (configure server.websocket)"
    body = json.dumps({"status": 426, "errors": [{
        "code": "UseWebSocketListener",
        "msg": f"WebSocket routes are served by the WebSocket listener{where}"}]}).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    inner = app.wsgi_app if hasattr(app, "wsgi_app") else app

    def gate(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            start_response("426 Upgrade Required", list(headers))
            return [body]
        return inner(environ, start_response)

    if hasattr(app, "wsgi_app"):
        app.wsgi_app = gate
        return app
    return gate
