"""Several processors on one queue deliver each item exactly once; the job runs in cron's one-off mode.

On the embedded store (one process) two processors with their own server ids run as threads on one
database. With MIA_TEST_MONGO_URL set, two real processes drain one MongoDB queue as well.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from db_fixtures import TEST_URL, db_env  # noqa: F401 - fixture
from notify_fixtures import FAST, notification_config, smtp_server

from conftest import ROOT, free_port
from core.app.factory import create_app
from core.notifications import NotificationManager, Processor
from core.shared import Shared

CONFIG = "notification-templates"
ITEMS = 200
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def queue_mails(count: int) -> list[str]:
    manager = NotificationManager()
    return [manager.mail(config_id=CONFIG, template="welcome", replacements={"name": f"user {n}"})
            .address(f"user{n}@example.com") for n in range(count)]


def assert_delivered_once(smtp, ids: list[str]) -> Counter:
    received = Counter(message["To"] for message in smtp.messages)
    assert len(smtp.messages) == len(ids)
    assert received == Counter(f"user{n}@example.com" for n in range(len(ids)))  # each exactly once
    items = list(Shared.db()["notifications"].find({}))
    assert Counter(item["status"] for item in items) == {"fulfilled": len(ids)}
    assert all(item["attempts"] == 1 for item in items)
    return Counter(item["deliveredBy"] for item in items)


def test_two_processors_in_threads_deliver_each_of_200_items_exactly_once(tree, db_env):  # noqa: F811
    with smtp_server(require_login=True) as smtp:
        tree.env({**db_env.settings(), "notifications": FAST})
        tree.write("projects/base/config/notifications.py", notification_config(smtp.port))
        tree.app()
        ids = queue_mails(ITEMS)
        start = threading.Barrier(2)
        results: dict[str, dict[str, int]] = {}

        def drain(server_id: str) -> None:
            processor = Processor(worker_id=server_id)
            start.wait()
            results[server_id] = processor.run(limit=10 * ITEMS)

        threads = [threading.Thread(target=drain, args=(name,)) for name in ("server-a", "server-b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        by_worker = assert_delivered_once(smtp, ids)
        assert sum(result["fulfilled"] for result in results.values()) == ITEMS
        assert by_worker == Counter({name: results[name]["fulfilled"] for name in results})
        assert set(by_worker) == {"server-a", "server-b"}  # both took part
        statuses = Shared.db()["notificationStatus"]
        assert statuses.count_documents({"status": "succeeded", "numSent": 1}) == ITEMS


DRAIN = '''
import json, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from core.app.factory import create_app
from core.notifications import Processor
create_app("test", {tree!r})
processor = Processor(worker_id=sys.argv[1])
go = Path(sys.argv[2])
deadline = time.monotonic() + 60
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.01)
print(json.dumps(processor.run(limit=10 * {items})))
'''

if TEST_URL:  # two processes need a database both can reach: only a real MongoDB
    @pytest.mark.parametrize("db_env", ["mongodb"], indirect=True)
    def test_two_processor_processes_deliver_each_of_200_items_exactly_once(tree, db_env, tmp_path):  # noqa: F811
        with smtp_server(require_login=True) as smtp:
            tree.env({**db_env.settings(), "notifications": FAST})
            tree.write("projects/base/config/notifications.py", notification_config(smtp.port))
            tree.app()
            ids = queue_mails(ITEMS)
            go = tmp_path / "go"
            script = DRAIN.format(root=str(ROOT), tree=str(tree.root), items=ITEMS)
            workers = [subprocess.Popen([sys.executable, "-c", script, name, str(go)], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True) for name in ("process-a", "process-b")]
            time.sleep(0.5)
            go.write_text("go")
            outputs = [worker.communicate(timeout=120) for worker in workers]
            assert [worker.returncode for worker in workers] == [0, 0], outputs
            results = {name: json.loads(out.strip().splitlines()[-1])
                       for name, (out, _) in zip(("process-a", "process-b"), outputs, strict=True)}
            by_worker = assert_delivered_once(smtp, ids)
            assert by_worker == Counter({name: result["fulfilled"] for name, result in results.items()})
            assert sum(by_worker.values()) == ITEMS


def copy_for_cron(target: Path, env: dict, config_text: str) -> Path:
    """A minimal checkout (server.py, core, client, config, init, projects/generic) plus an environment and a config."""
    for name in ("core", "client", "config", "init", "projects/generic"):
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "server.py", target / "server.py")
    env = {"server": {"http": {"host": "127.0.0.1", "port": free_port()}}, **env}  # never a developer's :3000
    (target / "config" / "env" / "notifyrun.py").write_text(f"environment = {env!r}\n")
    (target / "projects" / "mail" / "config").mkdir(parents=True)
    (target / "projects" / "mail" / "config" / "notifications.py").write_text(config_text)
    return target


def test_the_processor_job_delivers_in_the_one_off_cron_mode(tmp_path, db_env):  # noqa: F811
    with smtp_server(require_login=True) as smtp:
        env = {**db_env.settings(), "logLevel": "warn", "notifications": FAST, "cronJobs": {"enabled": True},
               "embedded": {"path": str(tmp_path / "store.json")}}
        root = copy_for_cron(tmp_path / "checkout", env, notification_config(smtp.port))
        app = create_app("notifyrun", root)
        queued = NotificationManager().mail(config_id=CONFIG, template="welcome",
                                            replacements={"name": "Ada"}).address("ada@example.com")
        app.config["mia.databases"].close_all()  # the embedded store is saved for the next process

        result = subprocess.run([sys.executable, "server.py", "notifyrun", "cron=generic-notificationProcessor"],
                                cwd=root, capture_output=True, text=True, timeout=120)

        assert result.returncode == 0, result.stderr
        assert [(m["To"], m["Subject"]) for m in smtp.messages] == [("ada@example.com", "Welcome, Ada")]
        app = create_app("notifyrun", root)  # reads what the job process saved
        item = NotificationManager().item(queued)
        assert (item["status"], item["attempts"]) == ("fulfilled", 1)
        app.config["mia.databases"].close_all()


def test_the_cleanup_job_runs_in_the_one_off_cron_mode(tmp_path, db_env):  # noqa: F811
    env = {**db_env.settings(), "logLevel": "warn", "notifications": {**FAST, "cleanupAfter": 0},
           "cronJobs": {"enabled": True}, "embedded": {"path": str(tmp_path / "store.json")}}
    root = copy_for_cron(tmp_path / "checkout", env, notification_config(25))
    app = create_app("notifyrun", root)
    items = Shared.db()["notifications"]
    items.insert_many([{"status": "fulfilled", "processed": datetime.now(UTC) - timedelta(seconds=1)},
                       {"status": "pending", "processed": None}])
    app.config["mia.databases"].close_all()
    result = subprocess.run([sys.executable, "server.py", "notifyrun", "cron=generic-notificationCleanup"],
                            cwd=root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    app = create_app("notifyrun", root)
    assert [item["status"] for item in Shared.db()["notifications"].find({})] == ["pending"]
    app.config["mia.databases"].close_all()
