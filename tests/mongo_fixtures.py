"""A MongoDB URL that several processes can share: MIA_TEST_MONGO_URL, else the wire endpoint.

``mongo_server`` (session) is the base URL: a real MongoDB when MIA_TEST_MONGO_URL is set (then nothing
is started), else ``tests/mongo_wire.py`` in its own process on a free loopback port, in front of an
embedded store; it is stopped with SIGTERM at the end of the session. ``shared_db`` (per test) is a fresh
database on it, ``mongodb://127.0.0.1:PORT/mia_test_<random>`` for the endpoint, dropped afterwards.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from db_fixtures import DbEnv

HERE = Path(__file__).resolve().parent
TEST_URL = os.environ.get("MIA_TEST_MONGO_URL") or None


class WireEndpoint:
    """``tests/mongo_wire.py`` as a child process; ``url`` is ``mongodb://127.0.0.1:PORT``."""

    def __init__(self, timeout: float = 30) -> None:
        self.proc = subprocess.Popen([sys.executable, str(HERE / "mongo_wire.py")], stdout=subprocess.PIPE,
                                     stderr=None, text=True, cwd=HERE.parent)
        deadline = time.monotonic() + timeout
        line = ""
        while time.monotonic() < deadline and self.proc.poll() is None:
            line = self.proc.stdout.readline() if self.proc.stdout else ""
            if "listening on" in line:
                break
        match = re.search(r"listening on ([\d.]+):(\d+)", line)
        if not match:
            self.stop()
            raise RuntimeError(f"the MongoDB wire endpoint did not start: {line!r}")
        self.url = f"mongodb://{match.group(1)}:{match.group(2)}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout:
            self.proc.stdout.close()


def with_database(url: str, name: str) -> str:
    """``url`` with ``name`` as its path (keeps a query such as ``?replicaSet=rs0``)."""
    base, _, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    hosts = rest.split("/", 1)[0]
    return f"{scheme}://{hosts}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
def mongo_server() -> Iterator[str]:
    """The base URL every process of a test connects to (a real server or the wire endpoint)."""
    if TEST_URL:
        yield TEST_URL
        return
    endpoint = WireEndpoint()
    try:
        yield endpoint.url
    finally:
        endpoint.stop()


@pytest.fixture
def shared_db(mongo_server: str) -> Iterator[DbEnv]:
    """A fresh database on ``mongo_server`` (``.url`` names it), dropped after the test."""
    name = f"mia_test_{uuid.uuid4().hex[:12]}"
    env = DbEnv("mongodb", with_database(mongo_server, name), name)
    yield env
    import pymongo

    client = pymongo.MongoClient(mongo_server, serverSelectionTimeoutMS=3000)
    try:
        client.drop_database(name)
    finally:
        client.close()
