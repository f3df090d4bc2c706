"""Races across OS processes on one database through pymongo: the wire endpoint (tests/mongo_wire.py),
or a real MongoDB when MIA_TEST_MONGO_URL is set.

Two processes x 10 threads call the generic user libs at once: sign-ups with one e-mail create one
account, first logins with one third-party id create one account, logins at the device limit never
exceed it. Two processes drain one notification queue, each item exactly once.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from notify_fixtures import FAST, notification_config, smtp_server
from production_fixtures import cheap_hashes, collect, generic_tree, race, wait_for

from conftest import ROOT
from core.shared import Shared

pytestmark = [pytest.mark.timeout(300), pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")]
CALLS = 20


def _users(shared_db):
    import pymongo

    client = pymongo.MongoClient(shared_db.url, serverSelectionTimeoutMS=5000, tz_aware=True)
    return client, client[shared_db.name]["users"]


def _start(tmp_path: Path, shared_db, kind: str) -> tuple[list[subprocess.Popen], Path, object]:
    tree = generic_tree(tmp_path / "app", shared_db.settings())
    tree.app()  # indexes are built once, as the first server of a deployment does at start-up
    go = tmp_path / f"go-{kind}"
    return race(tree, kind, go), go, tree


def test_twenty_sign_ups_with_one_email_from_two_processes_create_one_account(tmp_path, shared_db):
    procs, go, _tree = _start(tmp_path, shared_db, "signup")
    results = collect(procs, go)
    client, users = _users(shared_db)
    try:
        accounts = list(users.find({"messaging.value": "same@example.com"}))
    finally:
        client.close()
    assert len(results) == CALLS
    assert [r for r in results if "error" in r] == []
    created = [r for r in results if r.get("ok")]
    refused = [r for r in results if "status" in r]
    assert len(accounts) == 1, [a["login"] for a in accounts]
    assert len(created) == 1 and created[0]["ok"] == str(accounts[0]["_id"])
    assert len(refused) == CALLS - 1 and all(r["status"] in (401, 409) for r in refused), refused


def test_twenty_first_logins_with_one_third_party_id_from_two_processes_create_one_account(tmp_path,
                                                                                           shared_db):
    procs, go, _tree = _start(tmp_path, shared_db, "thirdparty")
    results = collect(procs, go)
    client, users = _users(shared_db)
    try:
        accounts = list(users.find({"thirdParty": {"$elemMatch": {"provider": "fb", "id": "fb-1"}}}))
    finally:
        client.close()
    assert len(results) == CALLS
    assert len(accounts) == 1, [a["_id"] for a in accounts]
    assert [r for r in results if not r.get("ok")] == []  # every device got in, none with a 500
    assert {r["ok"] for r in results} == {str(accounts[0]["_id"])}


def test_twenty_logins_from_two_processes_never_exceed_the_device_limit(tmp_path, shared_db):
    tree = generic_tree(tmp_path / "app", shared_db.settings())
    tree.app()
    cheap_hashes()
    Shared.libs("generic-userAuthManager").sign_up_user({"group": "g", "login": "ada@example.com",
                                                         "email": "ada@example.com",
                                                         "password": "a-long-secret-1", "appId": "app"})
    go = tmp_path / "go-login"
    procs = race(tree, "login", go)
    client, users = _users(shared_db)
    seen: list[int] = []
    stop = threading.Event()

    def watch() -> None:  # the account as other requests see it while the logins race (bounded)
        for _ in range(5000):
            if stop.is_set():
                return
            doc = users.find_one({"login": "ada@example.com"}, {"accessTokens": 1})
            seen.append(len([t for t in doc.get("accessTokens") or [] if t.get("appId") == "app"]))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        results = collect(procs, go)
    finally:
        stop.set()
        watcher.join(30)
    try:
        final = users.find_one({"login": "ada@example.com"})
    finally:
        client.close()
    tokens = [t for t in final["accessTokens"] if t["appId"] == "app"]
    counts = [c["deviceCount"] for c in final["deviceCounts"] if c["appId"] == "app"]
    assert [r for r in results if not r.get("ok")] == []
    assert max(r["tokens"] for r in results) <= 3
    assert seen and max(seen) <= 3
    assert len(tokens) == 3 and counts == [3]
    assert len({t["device"]["id"] for t in tokens}) == 3


DRAIN = '''
import json, sys, time
from pathlib import Path
sys.path.insert(0, {repo!r})
from core.app.factory import create_app
from core.notifications import Processor
create_app("test", {tree!r})
processor = Processor(worker_id=sys.argv[1])
go = Path(sys.argv[2])
Path(sys.argv[2] + "." + sys.argv[1]).write_text("ready")
deadline = time.monotonic() + 60
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.01)
print(json.dumps(processor.run(limit={limit})))
'''
ITEMS = 100


def test_two_processor_processes_drain_one_queue_exactly_once(tree, shared_db, tmp_path):
    from core.notifications import NotificationManager

    with smtp_server(require_login=True) as smtp:
        tree.env({**shared_db.settings(), "notifications": FAST})
        tree.write("projects/base/config/notifications.py", notification_config(smtp.port))
        tree.app()
        manager = NotificationManager()
        ids = [manager.mail(config_id="notification-templates", template="welcome",
                            replacements={"name": f"user {n}"}).address(f"user{n}@example.com") for n in range(ITEMS)]
        go = tmp_path / "go"
        script = DRAIN.format(repo=str(ROOT), tree=str(tree.root), limit=10 * ITEMS)
        names = ("process-a", "process-b")
        workers = [subprocess.Popen([sys.executable, "-c", script, name, str(go)], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, cwd=ROOT) for name in names]
        wait_for(lambda: all(Path(f"{go}.{n}").exists() for n in names) or any(w.poll() is not None for w in workers),
                 120, "both processors to start")
        go.write_text("go")
        outputs = [worker.communicate(timeout=180) for worker in workers]
        assert [worker.returncode for worker in workers] == [0, 0], outputs
        results = {name: json.loads(out.strip().splitlines()[-1])
                   for name, (out, _) in zip(names, outputs, strict=True)}
        received = Counter(message["To"] for message in smtp.messages)
        assert received == Counter(f"user{n}@example.com" for n in range(ITEMS))  # each exactly once
        items = list(Shared.db()["notifications"].find({}))
        assert len(ids) == ITEMS and Counter(item["status"] for item in items) == {"fulfilled": ITEMS}
        assert all(item["attempts"] == 1 for item in items)
        by_worker = Counter(item["deliveredBy"] for item in items)
        assert by_worker == Counter({name: result["fulfilled"] for name, result in results.items()})
