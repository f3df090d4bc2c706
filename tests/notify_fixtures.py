"""Loopback stand-ins for the notification tests: a real SMTP server, APNs over HTTP/2, FCM.

``smtp_server()`` runs aiosmtpd (optionally with a login check) and keeps every received mail
parsed. ``ApnsStandIn`` is an HTTP/2 server (h2, prior knowledge on plain TCP) that checks each
request's provider token (ES256 signature with the test key, ``kid``, ``iss``, ``iat``) and
payload, and answers what a test sets per device token. ``FcmStandIn`` is an HTTP server with the
OAuth token endpoint (checks the RS256 assertion) and ``messages:send`` (checks the bearer token).
Every server listens on 127.0.0.1 at a free port and is stopped by its context manager.
"""
from __future__ import annotations

import contextlib
import email
import email.policy
import json
import secrets
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import h2.config
import h2.connection
import h2.events
import jwt
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conftest import free_port, serve_live

KEY_ID, TEAM_ID, TOPIC = "ABC123DEFG", "TEAM123456", "com.example.app"
PROJECT_ID, CLIENT_EMAIL = "demo-project", "push@demo-project.iam.gserviceaccount.com"
SMTP_USER, SMTP_PASSWORD = "mailer", "right password"  # test values only


def _pem(key: Any) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _public(key: Any) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


EC_KEY = ec.generate_private_key(ec.SECP256R1())
APNS_KEY_PEM, APNS_PUBLIC_PEM = _pem(EC_KEY), _public(EC_KEY)
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
FCM_KEY_PEM, FCM_PUBLIC_PEM = _pem(RSA_KEY), _public(RSA_KEY)


# ---------------------------------------------------------------------------------------- SMTP
@dataclass
class SmtpServer:
    port: int
    messages: list[email.message.EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)
    peers: list[Any] = field(default_factory=list)  # the client address of each mail: one per connection

    @property
    def connections(self) -> int:
        """SMTP connections that delivered at least one mail."""
        return len(set(self.peers))

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.peers.append(tuple(session.peer))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def _check_login(server_state: SmtpServer):  # noqa: ANN202
    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == SMTP_USER
              and auth_data.password.decode() == SMTP_PASSWORD)
        server_state.logins.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535
    return authenticator


@contextlib.contextmanager
def smtp_server(require_login: bool = False, starttls: tuple[Path, Path] | None = None) -> Iterator[SmtpServer]:
    """aiosmtpd on a free loopback port; with ``require_login`` only SMTP_USER/SMTP_PASSWORD may send;
    with ``starttls`` (cert, key) the server requires STARTTLS before anything else, login included."""
    state = SmtpServer(free_port())
    options: dict[str, Any] = {}
    if require_login:
        options = {"authenticator": _check_login(state), "auth_required": True, "auth_require_tls": bool(starttls)}
    if starttls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*starttls)
        options.update(tls_context=context, require_starttls=True)
    controller = Controller(state, hostname="127.0.0.1", port=state.port, **options)
    with warnings.catch_warnings():  # AUTH without TLS: fine on loopback in a test
        warnings.simplefilter("ignore")
        controller.start()
    try:
        yield state
    finally:
        controller.stop()


# ---------------------------------------------------------------------------------------- APNs
class ApnsStandIn:
    """APNs over HTTP/2 (h2c). ``answers[token] = (status, reason)``; default 200."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self.answers: dict[str, tuple[int, str]] = {}
        self.connections = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> ApnsStandIn:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self.sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        h2conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        h2conn.initiate_connection()
        conn.sendall(h2conn.data_to_send())
        streams: dict[int, dict[str, Any]] = {}
        conn.settimeout(0.1)
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65535)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                for event in h2conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        streams[event.stream_id] = {"headers": dict(event.headers), "body": b""}
                    elif isinstance(event, h2.events.DataReceived):
                        streams[event.stream_id]["body"] += event.data
                        h2conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded):
                        self._answer(h2conn, event.stream_id, streams.pop(event.stream_id))
                conn.sendall(h2conn.data_to_send())

    def _answer(self, h2conn: h2.connection.H2Connection, stream_id: int, request: dict[str, Any]) -> None:
        headers, token = request["headers"], request["headers"].get(":path", "").rpartition("/")[2]
        status, reason = self._check(headers)
        record = {"headers": headers, "token": token, "payload": json.loads(request["body"] or b"null")}
        self.requests.append(record)
        if status == 200:
            status, reason = self.answers.get(token, (200, ""))
        apns_id = headers.get("apns-id") or secrets.token_hex(16)
        body = b"" if status == 200 else json.dumps({"reason": reason, **({"timestamp": int(time.time() * 1000)}
                                                                         if status == 410 else {})}).encode()
        h2conn.send_headers(stream_id, [(":status", str(status)), ("apns-id", apns_id),
                                        ("content-length", str(len(body)))], end_stream=not body)
        if body:
            h2conn.send_data(stream_id, body, end_stream=True)

    def _check(self, headers: dict[str, str]) -> tuple[int, str]:
        """Apple's checks: method and path, a valid provider token, a topic."""
        if headers.get(":method") != "POST" or not headers.get(":path", "").startswith("/3/device/"):
            return 405, "MethodNotAllowed"
        auth = headers.get("authorization", "")
        if not auth.startswith("bearer "):
            return 403, "MissingProviderToken"
        token = auth.removeprefix("bearer ")
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, APNS_PUBLIC_PEM, algorithms=["ES256"], options={"require": ["iss", "iat"]})
        except jwt.PyJWTError as exc:
            self.problems.append(f"token: {exc}")
            return 403, "InvalidProviderToken"
        if header.get("alg") != "ES256" or header.get("kid") != KEY_ID or claims.get("iss") != TEAM_ID:
            self.problems.append(f"token header/claims: {header} {claims}")
            return 403, "InvalidProviderToken"
        if not isinstance(claims.get("iat"), int) or abs(time.time() - claims["iat"]) > 3600:
            return 403, "ExpiredProviderToken"
        if headers.get("apns-topic") != TOPIC:
            return 400, "BadTopic" if headers.get("apns-topic") else "MissingTopic"
        return 200, ""


# ---------------------------------------------------------------------------------------- FCM
class FcmStandIn:
    """FCM v1 and Google's token endpoint on one HTTP server; ``answers[token] = (status, errorCode)``."""

    def __init__(self) -> None:
        self.exchanges: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.rejected_auth = 0
        self.answers: dict[str, tuple[int, str]] = {}
        self.issued: set[str] = set()
        self._live: Any = None
        self.url = ""

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def service_account(self) -> dict[str, Any]:
        return {"type": "service_account", "project_id": PROJECT_ID, "private_key_id": "key-1",
                "private_key": FCM_KEY_PEM, "client_email": CLIENT_EMAIL, "token_uri": self.token_uri}

    def __enter__(self) -> FcmStandIn:
        self._live = serve_live(self._app)
        self.url = self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._live.__exit__(*exc)

    def _app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        path = environ.get("PATH_INFO", "")
        if path == "/token":
            status, reply = self._token(parse_qs(body.decode()))
        elif path == f"/v1/projects/{PROJECT_ID}/messages:send":
            status, reply = self._send(environ.get("HTTP_AUTHORIZATION", ""), json.loads(body or b"{}"))
        else:
            status, reply = 404, {"error": {"code": 404, "status": "NOT_FOUND", "message": path}}
        data = json.dumps(reply).encode()
        start_response(f"{status} X", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def _token(self, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        grant, assertion = form.get("grant_type", [""])[0], form.get("assertion", [""])[0]
        try:
            claims = jwt.decode(assertion, FCM_PUBLIC_PEM, algorithms=["RS256"], audience=self.token_uri,
                                options={"require": ["iss", "aud", "iat", "exp", "scope"]})
        except jwt.PyJWTError as exc:
            return 400, {"error": "invalid_grant", "error_description": str(exc)}
        ok = (grant == "urn:ietf:params:oauth:grant-type:jwt-bearer" and claims["iss"] == CLIENT_EMAIL
              and claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
              and jwt.get_unverified_header(assertion).get("kid") == "key-1")
        if not ok:
            return 400, {"error": "invalid_grant"}
        self.exchanges.append(claims)
        token = f"ya29.{secrets.token_hex(12)}"
        self.issued.add(token)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def _send(self, authorization: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if authorization.removeprefix("Bearer ") not in self.issued:
            self.rejected_auth += 1
            return 401, {"error": {"code": 401, "status": "UNAUTHENTICATED", "message": "bad bearer token"}}
        message = body.get("message") or {}
        if not isinstance(message.get("token"), str):
            return 400, {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "no token"}}
        self.messages.append(message)
        status, code = self.answers.get(message["token"], (200, ""))
        if status != 200:
            return status, {"error": {"code": status, "status": "NOT_FOUND", "message": "gone", "details": [
                {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}]}}
        return 200, {"name": f"projects/{PROJECT_ID}/messages/{secrets.token_hex(8)}"}


# ---------------------------------------------------------------------------------------- config
def notification_config(smtp_port: int, apns_url: str = "http://127.0.0.1:9", fcm: FcmStandIn | None = None,
                        password: str = SMTP_PASSWORD, user: str | None = SMTP_USER) -> str:
    """A project config module ``notification-templates`` pointing every connector at loopback."""
    connectors = {
        "smtp": {"host": "127.0.0.1", "port": smtp_port, "user": user, "password": password, "timeout": 5,
                 "from": "Demo <noreply@example.com>"},
        "apns": {"keyId": KEY_ID, "teamId": TEAM_ID, "key": APNS_KEY_PEM, "topic": TOPIC, "endpoint": apns_url,
                 "timeout": 5},
        "fcm": {"serviceAccount": fcm.service_account() if fcm else {}, "endpoint": fcm.url if fcm else "",
                "timeout": 5},
    }
    templates = {
        "en": {"welcome": {
            "mail": {"smtp": {"sender": "Demo <noreply@example.com>", "subject": "Welcome, [Name]",
                              "text": "Hi [NAME], welcome to [product].",
                              "html": "<html><body><b>Hi [name]</b>, welcome to [Product].</body></html>"}},
            "push": {"apns": {"alert": {"title": "Welcome", "body": "Hi [name]"}, "badge": 1, "sound": "default",
                              "payload": {"screen": "home"}}},
        }},
        "de": {"welcome": {
            "mail": {"smtp": {"sender": "Demo <noreply@example.com>", "subject": "Willkommen, [name]",
                              "text": "Hallo [name], willkommen bei [product].",
                              "html": "<p>Hallo [name]</p>"}},
            "push": {"apns": {"alert": {"title": "Willkommen", "body": "Hallo [name]"}},
                     "fcm": {"notification": {"title": "Willkommen", "body": "Hallo [name]"},
                             "data": {"screen": "start"}}},
        }},
    }
    settings = {"defaultLanguage": "en", "connectors": connectors, "templates": templates}
    return ("from core import Config\n\n\nclass NotificationTemplates(Config):\n"
            "    identity = 'notification-templates'\n"
            f"    notifications = {settings!r}\n")


FAST = {"maxAttempts": 3, "backoff": [0], "lease": 30}  # retries at once: tests run in seconds
