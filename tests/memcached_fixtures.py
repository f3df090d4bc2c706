"""Real memcached processes on free loopback ports, which tests may kill and restart.

The process class lives in the testing kit (core/app/kit/testing.py: ``mia_memcached`` for projects' tests).

Import the fixture into a test module: ``from memcached_fixtures import memcached  # noqa: F401``.
The ``memcached`` binary must be installed (Debian package ``memcached``; .ci/run installs it).
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.app.kit.testing import MemcachedProcess, memcached_binary  # noqa: F401 - re-exported for the tests


@pytest.fixture
def memcached() -> Iterator[MemcachedProcess]:
    """A fresh memcached for one test, killed afterwards."""
    server = MemcachedProcess(memcached_binary()).start()
    try:
        yield server
    finally:
        server.kill()
