"""Real memcached processes on free loopback ports, which tests may kill and restart.

Import the fixture into a test module: ``from memcached_fixtures import memcached  # noqa: F401``.
The ``memcached`` binary must be installed (Debian package ``memcached``; .ci/run installs it).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from conftest import free_port

START_TIMEOUT = 5.0



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
        deadline = time.monotonic() + START_TIMEOUT
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
        raise RuntimeError(f"memcached did not listen on {self.address} within {START_TIMEOUT}s")

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


def memcached_binary() -> str:
    binary = shutil.which("memcached") or ("/usr/bin/memcached" if os.path.exists("/usr/bin/memcached") else None)
    if binary is None:
        pytest.fail("the memcached binary is required for these tests: apt-get install -y memcached")
    return binary


@pytest.fixture
def memcached() -> Iterator[MemcachedProcess]:
    """A fresh memcached for one test, killed afterwards."""
    server = MemcachedProcess(memcached_binary()).start()
    try:
        yield server
    finally:
        server.kill()
