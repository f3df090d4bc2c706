"""The embedded store's journal on a full disk, with short writes, torn tails and ``kill -9`` (issue 24).

The full disk is a real one: a 512 KiB tmpfs the test mounts. As root it mounts it directly; otherwise
it runs the same test again inside an unprivileged user and mount namespace (``unshare -Urm``), where
mounting a tmpfs is allowed, and asserts that run passed. Where neither works the test fails, naming
why. A refused write answers 507 in mia's JSON envelope, is not visible afterwards, leaves no torn
line, and after space is freed the store goes on; a restart loads every acknowledged write. Short
writes are made by wrapping ``os.write``.
"""
from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from db_fixtures import write_things_project

from conftest import ROOT
from core.data import databases as db
from core.data import journal as journal_module
from core.data.databases import Databases
from core.data.embedded import detach_journal
from core.data.embedded_snapshot import Snapshot
from core.data.journal import NotDurable
from core.errors import StartupError


def env_for(path: Path) -> dict:
    return {"defaultMongoDatabase": "mia", "mongoDatabases": {"mia": {"url": None}}, "embedded": {"path": str(path)}}


def crash(databases: Databases) -> None:
    """What kill -9 leaves: no compaction, the lock released with the descriptor."""
    detach_journal(databases.client())
    databases._journal.close()


def journal_lines(path: Path) -> list[dict]:
    raw = Path(str(path) + ".journal").read_bytes()
    assert raw == b"" or raw.endswith(b"\n"), "a torn line is left at the end"
    return [json.loads(line) for line in raw.splitlines()]


IN_NAMESPACE = "MIA_TEST_IN_MOUNT_NAMESPACE"


@pytest.fixture
def small_disk(tmp_path, request):
    """A 512 KiB tmpfs with a 96 KiB filler file to delete later; None when the whole test already ran
    (and passed) inside a user and mount namespace, because this process may not mount."""
    if os.name != "posix":
        pytest.fail("a small disk needs a POSIX system with tmpfs")
    if os.geteuid() != 0:
        yield rerun_in_namespace(request)
        return
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(disk)], capture_output=True)
    assert done.returncode == 0, f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}"
    try:
        (disk / "filler").write_bytes(b"\0" * 96 * 1024)  # deleted later to free space
        yield disk
    finally:
        db.shutdown()
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def rerun_in_namespace(request: pytest.FixtureRequest) -> None:
    """Run this test once more as root of its own user and mount namespace, and require that it passed."""
    assert not os.environ.get(IN_NAMESPACE), "inside the namespace but not root: unshare gave no root mapping"
    unshare = shutil.which("unshare")
    assert unshare, "a small disk needs root, or unshare(1) (util-linux) for a user and mount namespace"
    node = f"{Path(request.node.fspath).relative_to(ROOT)}::{request.node.name}"
    done = subprocess.run([unshare, "--user", "--map-root-user", "--mount", sys.executable, "-m", "pytest", "-q",
                           "-p", "no:cacheprovider", node], cwd=ROOT, env={**os.environ, IN_NAMESPACE: "1"},
                          capture_output=True, text=True, timeout=600)
    output = done.stdout[-4000:] + done.stderr[-2000:]
    assert done.returncode == 0, f"{node} inside a user and mount namespace:\n{output}"


def fill(collection, start: int, acked: list[str]) -> tuple[str, NotDurable]:
    for number in range(start, start + 100_000):
        name = f"todo-{number}"
        try:
            collection.insert_one({"name": name, "pad": "x" * 120})
        except NotDurable as refused:
            return name, refused
        acked.append(name)
    raise AssertionError("the disk never filled")


def test_a_full_disk_refuses_the_write_and_loses_no_acknowledged_one(small_disk, monkeypatch):
    if small_disk is None:
        return  # the fixture ran this test inside a namespace that may mount, and asserted it passed
    path = small_disk / "store.bson"
    first = Databases(env_for(path))
    todos = first.database()["todos"]
    todos.create_index("name", unique=True)
    reloads = []
    real_load = Snapshot.load
    monkeypatch.setattr(Snapshot, "load", lambda self, client: reloads.append(1) or real_load(self, client))
    acked: list[str] = []
    refused, error = fill(todos, 0, acked)
    assert error.status == 507 and error.errors[0]["code"] == "InsufficientStorage"
    assert todos.find_one({"name": refused}) is None and todos.count_documents({}) == len(acked) > 100
    assert len(journal_lines(path)) == len(acked) + 1  # the index and every acknowledged insert, whole
    assert len(reloads) == 1  # the refused insert was taken back by reloading what is durable
    with pytest.raises(NotDurable):
        todos.update_many({}, {"$set": {"pad": "y" * 400}})
    assert todos.count_documents({"pad": "x" * 120}) == len(acked)  # the refused update is not visible
    assert len(reloads) == 1  # refused before it ran: the disk is still full
    (small_disk / "filler").unlink()
    more = [f"after-{i}" for i in range(50)]
    for name in more:
        todos.insert_one({"name": name})
    crash(first)
    second = Databases(env_for(path))
    again = second.database()["todos"]
    assert sorted(d["name"] for d in again.find({}, {"name": 1})) == sorted(acked + more)
    assert again.find_one({"name": refused}) is None
    second.close_all()


def test_a_full_disk_answers_507_in_the_json_envelope(tree, small_disk):
    if small_disk is None:
        return  # the fixture ran this test inside a namespace that may mount, and asserted it passed
    tree.env({"embedded": {"path": str(small_disk / "store.bson")}})
    write_things_project(tree)
    client = tree.app().test_client()
    answers = []
    for number in range(10_000):
        response = client.post("/api/things", json={"name": f"t{number}"})
        answers.append(response.status_code)
        if response.status_code != 201:
            break
    assert answers[-1] == 507 and set(answers[:-1]) == {201}
    assert response.json == {"status": 507, "errors": [{
        "code": "InsufficientStorage", "msg": "The data store cannot write to its disk (full); nothing was changed"}]}
    names = {t["name"] for t in client.get("/api/things").json}
    assert f"t{number}" not in names and len(names) == len(answers) - 1
    (small_disk / "filler").unlink()
    assert client.post("/api/things", json={"name": f"t{number}"}).status_code == 201


def test_short_writes_are_completed(tmp_path, monkeypatch):
    real_write = os.write
    calls = []

    def trickle(fd, data):
        calls.append(len(data))
        return real_write(fd, bytes(data[:7]))

    path = tmp_path / "store.bson"
    first = Databases(env_for(path))
    things = first.database()["things"]
    monkeypatch.setattr(journal_module.os, "write", trickle)
    for number in range(30):
        things.insert_one({"_id": number, "name": f"thing-{number}"})
    monkeypatch.undo()
    assert len(calls) > 30 * 5
    assert [line["args"][0]["_id"] for line in journal_lines(path)] == list(range(30))
    crash(first)
    assert Databases(env_for(path)).database()["things"].count_documents({}) == 30


def test_a_write_cut_short_by_the_disk_is_taken_off_again(tmp_path, monkeypatch):
    real_write = os.write
    path = tmp_path / "store.bson"
    first = Databases(env_for(path))
    things = first.database()["things"]
    things.insert_one({"_id": 1})
    size = Path(str(path) + ".journal").stat().st_size
    state = {"calls": 0}

    def half_then_full(fd, data):
        state["calls"] += 1
        if state["calls"] == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(journal_module.os, "write", half_then_full)
    with pytest.raises(NotDurable):
        things.insert_one({"_id": 2, "name": "lost"})
    monkeypatch.undo()
    assert Path(str(path) + ".journal").stat().st_size == size and things.find_one({"_id": 2}) is None
    things.insert_one({"_id": 3})
    crash(first)
    assert [d["_id"] for d in Databases(env_for(path)).database()["things"].find({})] == [1, 3]


def test_a_torn_last_record_is_dropped_once_with_a_warning_naming_it(tmp_path, caplog):
    path = tmp_path / "store.bson"
    first = Databases(env_for(path))
    first.database()["things"].insert_many([{"_id": 1}, {"_id": 2}])
    first.database()["things"].insert_one({"_id": 3})
    crash(first)
    journal = Path(str(path) + ".journal")
    good = journal.read_bytes()
    journal.write_bytes(good + b'{"kind": "Collection", "op": "insert_one", "args": [{"_id": 4')  # power loss
    with caplog.at_level(logging.WARNING, logger="mia.db"):
        second = Databases(env_for(path))
        assert [d["_id"] for d in second.database()["things"].find({})] == [1, 2, 3]
    torn = [r.getMessage() for r in caplog.records if "torn" in r.getMessage()]
    assert len(torn) == 1 and "line 3" in torn[0] and '"_id": 4' in torn[0]
    second.database()["things"].insert_one({"_id": 5})  # starts on a line of its own
    crash(second)
    assert [d["_id"] for d in Databases(env_for(path)).database()["things"].find({})] == [1, 2, 3, 5]


def test_a_corrupt_line_in_the_middle_refuses_naming_the_line_and_the_way_out(tmp_path):
    path = tmp_path / "store.bson"
    first = Databases(env_for(path))
    for number in range(3):
        first.database()["things"].insert_one({"_id": number})
    crash(first)
    journal = Path(str(path) + ".journal")
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(lines[0] + b"#garbage#\n" + b"".join(lines[1:]))
    with pytest.raises(StartupError, match=r"corrupt at line 2 .*Way out.*delete line 2") as caught:
        Databases(env_for(path)).database()
    assert str(journal) in str(caught.value)


WRITER = textwrap.dedent("""
    import sys
    from core.data.databases import Databases
    env = {"defaultMongoDatabase": "mia", "mongoDatabases": {"mia": {"url": None}},
           "embedded": {"path": sys.argv[1], "fsync": False}}
    things = Databases(env).database()["things"]
    things.create_index("n", unique=True)
    number = 0
    while True:
        things.insert_one({"n": number, "name": f"thing-{number}"})
        print(number, flush=True)
        number += 1
""")


@pytest.mark.timeout(180)
def test_no_acknowledged_write_of_10000_is_lost_to_kill_9(tmp_path):
    """A process writes as fast as it can; after 10,000 acknowledgements it is killed mid-write.

    fsync is off: kill -9 ends the process, not the machine, and what ``write`` handed the kernel stays."""
    path = tmp_path / "store.bson"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    acked = []
    try:
        for line in writer.stdout:
            acked.append(int(line))
            if len(acked) == 10_000:
                break
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    assert len(acked) == 10_000, writer.stderr.read()
    after = Databases(env_for(path))
    stored = {d["n"] for d in after.database()["things"].find({}, {"n": 1})}
    assert set(acked) <= stored  # every acknowledged write (the writer may have run on past the 10,000th)
    assert stored == set(range(len(stored)))  # and nothing half-done in between
    after.close_all()
