"""``python server.py new-project NAME``: a project that answers on the next start, or exit code 2."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import copy_repository
from core.app.factory import create_app

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("server.py", "core", "client", "config", "projects", "init")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The parts of the repository the command and the server need, in a temp dir."""
    return copy_repository(tmp_path, COPIED)


def new_project(checkout: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "server.py", "new-project", *args], cwd=checkout,
                          capture_output=True, text=True, timeout=60)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_new_project_answers_on_the_next_start(checkout):
    result = new_project(checkout, "my-shop")
    assert result.returncode == 0, result.stderr
    assert "created projects/my-shop/routes/api.py" in result.stdout
    assert "/my-shop/v1/hello" in result.stdout
    created = sorted(str(p.relative_to(checkout)) for p in (checkout / "projects" / "my-shop").rglob("*.py"))
    assert created == ["projects/my-shop/config/config.py", "projects/my-shop/config/notifications.py",
                       "projects/my-shop/controllers/hello.py",
                       "projects/my-shop/routes/api.py", "projects/my-shop/tests/test_my_shop.py"]
    app = create_app("test", checkout)
    try:
        client = app.test_client()
        assert client.get("/my-shop/v1/hello").json == {
            "status": 200, "response": {"message": "Hello from my-shop, world!"}}
        assert client.get("/my-shop/v1/hello?name=Ada").json["response"]["message"] == "Hello from my-shop, Ada!"
        too_long = client.get("/my-shop/v1/hello?name=" + "x" * 41)
        assert too_long.status_code == 400 and too_long.json["errors"][0]["code"] == "MaxLengthExceeded"
        assert client.get("/demo/v1/todo").status_code == 200  # the other projects are untouched
    finally:
        app.config["mia.databases"].close_all()


def test_routes_command_lists_the_new_route(checkout):
    assert new_project(checkout, "notes").returncode == 0
    listing = subprocess.run([sys.executable, "server.py", "test", "routes"], cwd=checkout, capture_output=True,
                             text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    assert re.search(r"^GET +/notes/v1/hello +\* +notes-hello$", listing.stdout, re.M), listing.stdout


def test_an_existing_folder_is_refused_and_left_alone(checkout):
    before = snapshot(checkout / "projects" / "demo")
    result = new_project(checkout, "demo")
    assert result.returncode == 2
    assert "projects/demo already exists" in result.stderr
    assert snapshot(checkout / "projects" / "demo") == before


@pytest.mark.parametrize("name", ["Bad Name", "MyShop", "1shop", "-shop", "shop-", "../evil", "a/b", "x" * 41,
                                  "docs", "generic", ""])
def test_invalid_names_are_refused_with_exit_code_2(checkout, name):
    projects_before = sorted(p.name for p in (checkout / "projects").iterdir())
    result = new_project(checkout, name)
    assert result.returncode == 2
    assert result.stderr.startswith(f"mia: new-project: invalid project name {name!r}")
    assert sorted(p.name for p in (checkout / "projects").iterdir()) == projects_before
    assert not (checkout / "evil").exists()


def test_a_missing_name_prints_the_usage(checkout):
    for args in ((), ("a", "b")):
        result = new_project(checkout, *args)
        assert result.returncode == 2
        assert "usage: python server.py new-project NAME" in result.stderr


def test_scaffolding_does_not_load_the_projects(checkout):
    """A broken project elsewhere does not stop the command (it runs before create_app)."""
    (checkout / "projects" / "demo" / "controllers" / "broken.py").write_text("this is not python\n")
    result = new_project(checkout, "fresh")
    assert result.returncode == 0, result.stderr
    assert (checkout / "projects" / "fresh" / "routes" / "api.py").is_file()


def test_new_project_suggests_the_venvs_python(checkout):
    venv_python = checkout / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text("")
    result = new_project(checkout, "shop")
    assert result.returncode == 0, result.stderr
    assert "Run its tests with: .venv/bin/python -m pytest projects/shop" in result.stdout
    assert "(.venv/bin/python server.py local)" in result.stdout
