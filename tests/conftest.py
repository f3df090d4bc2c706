"""Shared fixtures: the real app in the ``test`` environment, and throw-away project trees."""
from __future__ import annotations

import os
import secrets
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mongo_fixtures import mongo_server, shared_db  # noqa: E402,F401  (one MongoDB wire endpoint per session)

from core.app.factory import create_app  # noqa: E402
from core.app.kit.testing import free_port, serve_live  # noqa: E402,F401  (shared with users' projects)


@pytest.fixture
def app():
    """The repository's own projects in the ``test`` environment."""
    application = create_app("test", ROOT)
    yield application
    application.config["mia.databases"].close_all()


@pytest.fixture
def client(app):
    return app.test_client()


COPY_IGNORED = shutil.ignore_patterns("__pycache__", ".mia-data", "*.pyc", ".pytest_cache")


def copy_repository(target: Path, names: tuple[str, ...]) -> Path:
    """Copy these top-level files and folders of the repository into ``target`` (a fresh clone's view)."""
    for name in names:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=COPY_IGNORED)
        else:
            shutil.copy2(source, target / name)
    return target




@pytest.fixture
def live(app):
    """The repository's app (environment ``test``) behind a live loopback server."""
    with serve_live(app) as url:
        yield url


OUTPUT_CONTROLLER = '''
from core import Controller

class Out(Controller):
    identity = "out"
    def all(self, req, res):
        body = {"status": res.status_code or 200}
        if res.response is not None:
            body["response"] = res.response
        res.send(body, status=res.status_code or 200)
'''


class ProjectTree:
    """Writes a minimal mia root (config + projects) into a temp dir for start-up tests."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "config" / "env").mkdir(parents=True)
        (root / "projects").mkdir()
        (root / "init").mkdir()
        self.write("config/system.py", "system = {'defaultCulture': {'language': 'en', 'region': 'gb'}}")
        self.write("config/translations.py", (ROOT / "config" / "translations.py").read_text())
        self.env({})
        self.write("projects/base/controllers/out.py", OUTPUT_CONTROLLER)

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    def env(self, values: dict[str, Any], mode: str = "test") -> None:
        settings = {"logLevel": "none", "debug": True, "allowDemo": True, "defaultMongoDatabase": "t",
                    "mongoDatabases": {"t": {"url": None}}, "hosts": []}
        settings.update(values)
        self.write(f"config/env/{mode}.py", f"environment = {settings!r}")

    def app(self, mode: str = "test"):
        return create_app(mode, self.root)


@pytest.fixture
def tree(tmp_path: Path) -> ProjectTree:
    return ProjectTree(tmp_path)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("MIA_") and name != "MIA_TEST_MONGO_URL" or name == "PORT":
            monkeypatch.delenv(name, raising=False)
    # A fresh random JWT secret per test, so production apps pass the security self-check (weak or
    # missing secrets refuse start-up); tests of a missing secret delete it.
    monkeypatch.setenv("MIA_JWT_SECRET", secrets.token_hex(32))
