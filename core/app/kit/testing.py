"""A pytest plugin for the tests of your own projects: ``pytest projects/NAME`` from the repository root.

The repository's top-level ``conftest.py`` loads it (``pytest_plugins = ["core.app.kit.testing"]``), so
every test below the repository sees these fixtures; each says what it gives and what it cleans up,
as pytest's own ``tmp_path`` and ``monkeypatch`` do:

* ``mia_app``: the app built from the project tree (``mia_root``, environment ``mia_environment``,
  ``mia_overrides``), on a fresh embedded store; ``mia_client``: Flask's in-process test client;
* ``mia_live``: the app behind a real HTTP server on a free loopback port (its base URL);
* ``mia_signed_client``: a factory of :class:`client.MiaClient` with a fresh secret and a freshly
  registered device, signing requests to ``mia_live``;
* ``mia_memcached``: a real memcached process on a free loopback port;
* ``mia_db``: the app's default database, every collection of the embedded store dropped afterwards;
* ``mia_smtp``: a running SMTP sink (aiosmtpd) that mail connectors deliver to, with what it received;
* ``mia_jwt``: ``issue(username, groups)`` -> a token pair of the app's JWT sessions, with headers;
* ``mia_cron``: ``run(identity)`` runs a cron job's worker once, now, in this thread, on the test database;
* ``mia_ws``: ``connect(path, token=None, headers=None)`` -> a WebSocket client of ``mia_live`` whose
  ``receive(timeout)`` fails the test instead of waiting forever.

Helpers for your own fixtures: ``free_port()`` here (a free loopback port), ``serve_live(app)`` (a
live server, a context manager) and ``core.cron.run_once(names)`` (jobs by name now, an exit code).

Override ``mia_root``, ``mia_environment`` or ``mia_overrides`` in your project's ``conftest.py`` to
build another tree, environment or configuration (``{"memcached": {"servers": ...}}``).
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from client import MiaClient
from core.app.factory import ROOT, create_app
from core.app.kit.sinks import SmtpSink, WsClient
from core.data.databases import is_embedded
from core.shared import Shared

DEVICE_PROFILE = "generic-deviceProfile"
MEMCACHED_START_TIMEOUT = 5.0


# ------------------------------------------------------------------------------------- helpers
def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve_live(application: Any) -> Iterator[str]:
    """A threaded HTTP server for ``application`` on a free loopback port; yields its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def memcached_binary() -> str:
    """The ``memcached`` executable; fails the test with the install command when it is missing."""
    binary = shutil.which("memcached") or ("/usr/bin/memcached" if os.path.exists("/usr/bin/memcached") else None)
    if binary is None:
        pytest.fail("the memcached binary is required for these tests: apt-get install -y memcached")
    return binary


class MemcachedProcess:
    """One memcached on 127.0.0.1:<port>; ``kill()`` and ``start()`` keep the same port."""

    def __init__(self, binary: str, port: int | None = None) -> None:
        self.binary = binary
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> MemcachedProcess:
        command = [self.binary, "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m", "16", "-t", "2"]
        if os.geteuid() == 0:  # memcached refuses to run as root without -u
            command += ["-u", "root"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + MEMCACHED_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"memcached exited at start: {err}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"memcached did not listen on {self.address} within {MEMCACHED_START_TIMEOUT}s")

    def kill(self) -> None:
        """Stop the process (SIGKILL: an outage, not a clean shutdown) and wait for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def flush(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"flush_all\r\n")
            sock.recv(64)


def device_route(app: Any) -> str | None:
    """The path of the first ``POST`` route whose chain registers devices (generic-deviceProfile)."""
    for route in app.config["mia.routes"]:
        if route.verb == "POST" and any(step.name == DEVICE_PROFILE for step in route.controllers):
            return route.path
    return None


def drop_embedded_collections(app: Any) -> None:
    """Empty every embedded database of ``app`` (a real MongoDB is never touched)."""
    databases = app.config["mia.databases"]
    for name in databases.names():
        database = databases.database(name)
        if is_embedded(database):
            for collection in database.list_collection_names():
                database.drop_collection(collection)


# ------------------------------------------------------------------------------------ fixtures
@pytest.fixture
def mia_root() -> Path:
    """The repository whose ``config/`` and ``projects/`` the app is built from (default: this one)."""
    return ROOT


@pytest.fixture
def mia_environment() -> str:
    """The environment the app starts in (``config/env/<name>.py``; default ``test``)."""
    return "test"


@pytest.fixture
def mia_overrides() -> dict[str, Any]:
    """Environment keys laid over ``config/env/<environment>.py`` (default: none)."""
    return {}


@pytest.fixture
def mia_app(mia_root: Path, mia_environment: str, mia_overrides: dict[str, Any]) -> Iterator[Any]:
    """The app built from the project tree, start-up included (indexes, init modules).

    Every test gets its own app and so its own, empty embedded store (the test environment has no
    MongoDB URL). Afterwards the app's databases are closed and its memcached client released.
    """
    application = create_app(mia_environment, mia_root, overrides=mia_overrides)
    try:
        yield application
    finally:
        application.config["mia.databases"].close_all()


@pytest.fixture
def mia_client(mia_app: Any) -> Any:
    """Flask's test client for ``mia_app``: requests run in-process, no socket (nothing to clean up)."""
    return mia_app.test_client()


@pytest.fixture
def mia_live(mia_app: Any) -> Iterator[str]:
    """``mia_app`` behind a threaded HTTP server on a free loopback port: its base URL
    (``http://127.0.0.1:<port>``). The server is shut down and its port released afterwards."""
    with serve_live(mia_app) as url:
        yield url


@pytest.fixture
def mia_db(mia_app: Any) -> Iterator[Any]:
    """The app's default database (pymongo's API). Afterwards every collection of the embedded
    store is dropped, so the next test starts empty even with a shared app."""
    try:
        yield Shared.db()
    finally:
        drop_embedded_collections(mia_app)


@pytest.fixture
def mia_signed_client(mia_app: Any, mia_live: str) -> Iterator[Callable[..., MiaClient]]:
    """``make(devices_path=None, groups=None, method="v2", profile=None) -> MiaClient``.

    Each call stores a fresh secret in the ``secrets`` collection (for ``groups``, default: every
    route group of the app), registers a fresh device through ``devices_path`` (default: the first
    ``POST`` route with generic-deviceProfile) on ``mia_live`` and returns a client that signs with
    them (``method`` ``v1`` or ``v2``). The secrets are deleted afterwards.
    """
    made: list[str] = []

    def make(devices_path: str | None = None, groups: list[str] | None = None, method: str = "v2",
             profile: dict[str, Any] | None = None) -> MiaClient:
        path = devices_path or device_route(mia_app)
        if path is None:
            raise LookupError("no POST route with generic-deviceProfile: pass devices_path=")
        if groups is None:
            groups = sorted({route.info.group for route in mia_app.config["mia.routes"] if route.info.group})
        secret_id, secret = secrets.token_hex(16), secrets.token_hex(16)
        Shared.db().secrets.insert_one({"id": secret_id, "secret": secret, "groups": list(groups), "enabled": True})
        made.append(secret_id)
        client = MiaClient(mia_live, secret_id, secret, method=method)
        client.register_device(path, profile or {"culture": {"code": "en-gb"}})
        return client

    try:
        yield make
    finally:
        with contextlib.suppress(Exception):  # the app may already be gone; its store goes with it
            Shared.db().secrets.delete_many({"id": {"$in": made}})


@pytest.fixture
def mia_memcached() -> Iterator[MemcachedProcess]:
    """A real memcached on a free loopback port (``.address`` is ``127.0.0.1:<port>``; ``.kill()``,
    ``.start()`` and ``.flush()`` for outage tests). The process is killed afterwards."""
    server = MemcachedProcess(memcached_binary()).start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def mia_smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    """A running SMTP server (aiosmtpd, a development requirement) on a free loopback port.

    ``MIA_SMTP_HOST``/``MIA_SMTP_PORT`` point every smtp connector at it (and ``MIA_SMTP_USER`` is
    cleared), so queued mails the processor delivers land in ``.messages`` (parsed ``EmailMessage``);
    ``.wait(count, timeout)``, ``.envelopes`` and ``.connections`` too. Stopped afterwards.
    """
    sink = SmtpSink(free_port()).start()
    monkeypatch.setenv("MIA_SMTP_HOST", sink.host)
    monkeypatch.setenv("MIA_SMTP_PORT", str(sink.port))
    monkeypatch.delenv("MIA_SMTP_USER", raising=False)
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def mia_jwt(mia_app: Any) -> Callable[..., dict[str, Any]]:
    """``issue(username="tester", groups=(), account=None) -> dict``: a JWT pair from the app's
    ``generic-jwtSessions`` (``accessToken``, ``refreshToken``, ...) plus ``headers``
    (``{"Authorization": "Bearer ..."}``). Stored refresh tokens go with the test's store."""
    def issue(username: str = "tester", groups: Any = (), account: str | None = None) -> dict[str, Any]:
        tokens = dict(Shared.libs("generic-jwtSessions").issue(account, username, list(groups)))
        tokens["headers"] = {"Authorization": f"Bearer {tokens['accessToken']}"}
        return tokens
    return issue


@pytest.fixture
def mia_cron(mia_app: Any) -> Callable[[str], Any]:
    """``run(identity) -> result``: the job's ``initialize()`` and ``worker()`` once, now, in this thread,
    on the app's (test) database, without the scheduler or slots; a coroutine worker is awaited.
    An exception in the worker fails the test with it. Nothing to clean up."""
    import asyncio
    import inspect

    def run(identity: str) -> Any:
        job = Shared.crons(identity)()
        job.force_run = True
        job.initialize()
        result = job.worker()
        return asyncio.run(result) if inspect.iscoroutine(result) else result
    return run


@pytest.fixture
def mia_ws(mia_live: str) -> Iterator[Callable[..., WsClient]]:
    """``connect(path, token=None, headers=None) -> client``: a WebSocket connected to ``mia_live``
    (``token`` is sent as ``Authorization: Bearer``); ``client.receive(timeout=5)`` fails the test
    when nothing arrives. Every client is closed afterwards."""
    opened: list[WsClient] = []

    def connect(path: str, token: str | None = None, headers: dict[str, str] | None = None) -> WsClient:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        client = WsClient(mia_live.replace("http://", "ws://", 1) + path, sent)
        opened.append(client)
        return client

    try:
        yield connect
    finally:
        for client in opened:
            with contextlib.suppress(Exception):
                client.close()
