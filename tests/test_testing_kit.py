"""The testing kit for users' projects (core/app/kit/testing.py): its fixtures, and `pytest projects/NAME`.

The subprocess tests run pytest the way a user does, from the root of a copy of the repository.
"""
from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from conftest import copy_repository
from core import Shared
from core.data.cache import Cached, cache_backend

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("server.py", "conftest.py", "pyproject.toml", "core", "client", "config", "projects", "init")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the repository (what a fresh clone holds that pytest and the server need)."""
    return copy_repository(tmp_path, COPIED)


def run(checkout: Path, *args: str, timeout: int = 240) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIA_", "PYTEST_"))}
    return subprocess.run([sys.executable, *args], cwd=checkout, capture_output=True, text=True, timeout=timeout,
                          env=env)


@pytest.mark.timeout(300)
def test_the_scaffolded_projects_own_test_passes_with_the_plugin(checkout):
    made = run(checkout, "server.py", "new-project", "my-shop")
    assert made.returncode == 0, made.stderr
    assert f"{sys.executable} -m pytest projects/my-shop" in made.stdout  # the interpreter that ran it
    result = run(checkout, "-m", "pytest", "projects/my-shop", "-p", "no:cacheprovider", "-rA")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout
    for name in ("test_hello_greets_by_name", "test_hello_refuses_a_name_over_40_characters",
                 "test_hello_over_http", "test_a_welcome_mail_arrives",  # mia_smtp, mia_cron
                 "test_the_live_feed_takes_a_token_and_delivers_broadcasts"):  # mia_jwt, mia_ws
        assert f"PASSED projects/my-shop/tests/test_my_shop.py::{name}" in result.stdout
    # the project's tests folder and a conftest.py are not loaded as project code at start-up
    (checkout / "projects" / "my-shop" / "conftest.py").write_text("raise RuntimeError('not project code')\n")
    (checkout / "projects" / "my-shop" / "controllers" / "tests").mkdir()
    (checkout / "projects" / "my-shop" / "controllers" / "tests" / "helper.py").write_text("raise RuntimeError\n")
    routes = run(checkout, "server.py", "test", "routes")
    assert routes.returncode == 0, routes.stderr
    assert "/my-shop/v1/hello" in routes.stdout


@pytest.mark.timeout(300)
def test_a_failing_project_test_fails_the_run(checkout):
    """The kit does not hide failures: a wrong expectation in a project test makes pytest exit 1."""
    assert run(checkout, "server.py", "new-project", "notes").returncode == 0
    test_file = checkout / "projects" / "notes" / "tests" / "test_notes.py"
    test_file.write_text(test_file.read_text().replace("Hello from notes, Ada!", "Goodbye"))
    result = run(checkout, "-m", "pytest", "projects/notes", "-p", "no:cacheprovider")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 4 passed" in result.stdout


def test_app_and_client_start_from_an_empty_store(mia_app, mia_client, mia_db):
    assert mia_db.name == "miaTest"
    assert mia_db["demo-todos"].count_documents({}) == 0
    assert mia_client.post("/demo/v1/todo", json={"name": "kit"}).status_code == 200
    assert mia_db["demo-todos"].count_documents({"name": "kit"}) == 1


def test_the_next_test_sees_an_empty_store_again(mia_db):
    assert mia_db["demo-todos"].count_documents({"name": "kit"}) == 0


def test_live_server_answers_on_loopback(mia_live):
    assert mia_live.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(mia_live + "/demo/v1/todo?limit=1", timeout=10) as reply:
        assert reply.status == 200 and reply.headers["About"] == "This is a demo api"


def test_signed_client_has_a_fresh_device_and_secret(mia_signed_client, mia_live):
    client = mia_signed_client()
    assert len(client.device_id) == 32 and client.method == "v2"
    assert Shared.db().devices.count_documents({"id": client.device_id}) == 1
    reply = client.request("POST", "/demo-auth/v1/todo", json={"name": "signed by the kit"})
    assert reply.status == 200, reply.json()
    v1 = mia_signed_client("/demo-auth/v1/devices", groups=["demo"], method="v1")
    assert v1.device_id != client.device_id
    assert v1.request("GET", "/demo-auth/v1/todo?limit=1").status == 200
    from client import MiaClient

    wrong = MiaClient(mia_live, client.secret_id, "0" * 32, device_id=client.device_id, method="v2")
    assert wrong.request("GET", "/demo-auth/v1/todo").status == 401


def test_memcached_fixture_serves_the_app(mia_memcached, mia_root):
    from core.app.factory import create_app

    app = create_app("test", mia_root, overrides={"memcached": {"servers": mia_memcached.address}})
    try:
        assert cache_backend().kind == "memcached"
        assert Cached("kit", 60, 10, 30, lambda: "v")["cached"] is False
        assert Cached("kit", 60, 10, 30, lambda: "other") == {"cached": True, "value": "v", "timeleft": 60,
                                                                "cacheTime": 50}
    finally:
        app.config["mia.databases"].close_all()


def test_mia_ws_receive_fails_instead_of_waiting_forever(mia_ws, mia_jwt):
    feed = mia_ws("/demo/v1/live/todos", token=mia_jwt("ada@example.com", groups=["users"])["accessToken"])
    assert feed.receive(timeout=5)["event"] == "welcome"
    with pytest.raises(AssertionError, match="no WebSocket message within 0.2 s"):
        feed.receive(timeout=0.2)


def test_mia_smtp_and_mia_cron_deliver_a_queued_demo_mail(mia_app, mia_smtp, mia_cron):
    Shared.libs("generic-notificationManager").mail(
        {"configId": "notification-templates", "template": "welcome", "replacements": {"name": "Kit"}}
    ).address("kit@example.com")
    assert mia_cron("generic-notificationProcessor")["fulfilled"] == 1  # the worker's result
    [mail] = mia_smtp.wait(1)
    assert mail["Subject"] == "Welcome to the mia.py demo, Kit" and mia_smtp.connections == 1
