"""Helpers for serving tests: a mia server in a subprocess on loopback, a self-signed certificate,
slow clients. ``ServerProcess`` starts ``core.app.serving.serve.start`` for a project tree and stops it with
SIGTERM (then SIGKILL) on exit, keeping its output for assertions."""
from __future__ import annotations

import datetime
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from conftest import ROOT, ProjectTree

SCRIPT = """
import sys
sys.path.insert(0, {repo!r})
from core.app.factory import create_app
from core.app.serving.serve import start
from core.errors import StartupError
try:
    app = create_app("test", {root!r})
except StartupError as exc:
    print(f"mia: start-up failed: {{exc}}", file=sys.stderr, flush=True)
    sys.exit(2)
{extra}
sys.exit(start(app, "test", {root!r}, hot={hot}))
"""

SLOW_CONTROLLER = '''
import time
from core import Controller

class Slow(Controller):
    identity = "slow"
    def all(self, req, res):
        time.sleep(float(req.args.get("s", "1")))
        res.response = "done"

class Hello(Controller):
    identity = "hello"
    def all(self, req, res):
        res.response = "hello"
'''

SLOW_ROUTES = '''
routes = {"group": "t", "prefix": "/t", "routes": {
    "./slow": {"list": {"identity": "slow-route", "controller": [{"name": "slow"}, {"name": "out"}]}},
    "./hello": {"list": {"identity": "hello-route", "controller": [{"name": "hello"}, {"name": "out"}]}},
}}
'''


def serving_tree(root: Path, env: dict[str, Any]) -> ProjectTree:
    """A project tree with ``GET /t/slow?s=<seconds>`` and ``GET /t/hello`` and the given environment."""
    tree = ProjectTree(root)
    tree.write("projects/base/controllers/slow.py", SLOW_CONTROLLER)
    tree.write("projects/base/routes/t.py", SLOW_ROUTES)
    tree.env(env)
    return tree


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


class ServerProcess:
    """``with ServerProcess(tree_root) as server:`` a running server; ``server.output()`` its text."""

    def __init__(self, root: Path, hot: bool = False, extra: str = "", env: dict[str, str] | None = None) -> None:
        self.root, self.log = root, root / "server.log"
        script = SCRIPT.format(repo=str(ROOT), root=str(root), hot=hot, extra=extra)
        self.handle = self.log.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=self.handle,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, url: str, context: ssl.SSLContext | None = None, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.output()}")
            try:
                get(url, context, timeout=2)  # any answer, a redirect too, means the listener is up
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"server not ready at {url}:\n{self.output()}")

    def terminate(self, timeout: float = 40) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
            raise

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.terminate()
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.handle.close()


def get(url: str, context: ssl.SSLContext | None = None, headers: dict[str, str] | None = None,
        timeout: float = 10) -> tuple[int, Any, Any]:
    """(status, headers, JSON or text body) without following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    handlers: list[Any] = [NoRedirect()]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=timeout) as response:
            status, head, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        status, head, raw = err.code, err.headers, err.read()
    try:
        return status, head, json.loads(raw)
    except ValueError:
        return status, head, raw.decode(errors="replace")


def self_signed(folder: Path) -> tuple[Path, Path, ssl.SSLContext]:
    """A certificate for 127.0.0.1/localhost, its PKCS#8 key, and a client context trusting it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.create_default_context(cafile=str(cert_path))
    return cert_path, key_path, context


def open_slow_clients(port: int, count: int) -> list[socket.socket]:
    """``count`` connections that sent a request line and part of a header, and go on trickling."""
    clients = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /t/hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        clients.append(sock)
    return clients


def trickle(clients: list[socket.socket]) -> int:
    """One more byte of header from each client; how many of them the server still let write."""
    open_count = 0
    for sock in clients:
        try:
            sock.sendall(b"a")
            open_count += 1
        except OSError:
            pass
    return open_count
