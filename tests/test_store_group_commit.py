"""Group commit of the embedded store's journal: writers that wait together share one fsync, each write is
acknowledged only once it is on the disk, and a failed fsync undoes exactly the writes it did not cover.

The fsync is slowed down (a sleep around the real one) so that the writers overlap on any machine; the
tests count fsyncs and acknowledged writes, never time.
"""
from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path

from test_store_disk_full import crash, env_for, journal_lines

from core.data import journal as journal_module
from core.data.databases import Databases
from core.data.journal import NotDurable

THREADS, EACH = 8, 25


def slow_fsync(monkeypatch, calls: list[int], fail_at: int | None = None) -> None:
    real = os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        time.sleep(0.03)  # a slow disk's fsync: long enough for the other writers to line up behind it
        if fail_at is not None and len(calls) == fail_at:
            raise OSError(errno.EIO, "Input/output error")
        real(fd)

    monkeypatch.setattr(journal_module.os, "fsync", fsync)


def write_in_parallel(things, acked: list[int], refused: list[int]) -> None:
    start = threading.Barrier(THREADS)

    def writer(worker: int) -> None:
        start.wait()
        for i in range(EACH):
            number = worker * EACH + i
            try:
                things.insert_one({"_id": number})
            except NotDurable:
                refused.append(number)
            else:
                acked.append(number)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


def test_parallel_writers_share_fsyncs_and_every_acknowledged_write_survives_a_crash(tmp_path, monkeypatch):
    path = tmp_path / "store.bson"
    first = Databases(env_for(path))
    things = first.database()["things"]
    calls: list[int] = []
    slow_fsync(monkeypatch, calls)
    acked: list[int] = []
    write_in_parallel(things, acked, [])
    monkeypatch.undo()
    assert len(acked) == THREADS * EACH
    # one fsync per write without group commit; with it, writers that wait together share one (a busy
    # machine may leave a writer alone now and then, so the bound is loose)
    assert len(calls) <= THREADS * EACH * 2 // 3, f"{len(calls)} fsyncs for {len(acked)} writes: no group commit"
    assert sorted(line["args"][0]["_id"] for line in journal_lines(path)) == sorted(acked)
    crash(first)
    assert sorted(d["_id"] for d in Databases(env_for(path)).database()["things"].find({})) == sorted(acked)


def test_a_failed_fsync_undoes_the_writes_it_did_not_cover_and_the_store_goes_on(tmp_path, monkeypatch):
    path = tmp_path / "store.bson"
    first = Databases(env_for(path))
    things = first.database()["things"]
    things.insert_one({"_id": -1})
    calls: list[int] = []
    slow_fsync(monkeypatch, calls, fail_at=3)
    acked: list[int] = []
    refused: list[int] = []
    write_in_parallel(things, acked, refused)
    monkeypatch.undo()
    assert refused, "the failed fsync refused no write"
    assert len(acked) + len(refused) == THREADS * EACH
    stored = {d["_id"] for d in things.find({})}
    assert stored == {-1, *acked}  # nothing refused is visible, nothing acknowledged is gone
    things.insert_one({"_id": 1000})  # the store keeps working without a restart
    crash(first)
    after = {d["_id"] for d in Databases(env_for(path)).database()["things"].find({})}
    assert after == {-1, *acked, 1000}
    assert Path(str(path) + ".journal").exists()
