"""Write-ahead journal and file lock of the embedded store, so an acknowledged write survives ``kill -9``.

Why: the embedded store (mongomock-ng) lives in memory and its snapshot (core.data.embedded) is
written only on a clean shutdown. With ``embedded.path`` set, every successful write operation is
appended to ``<path>.journal`` as one Extended JSON line and fsync'ed before the call returns (so
before the HTTP answer leaves). At start the snapshot is loaded, the journal entries newer than the
snapshot's ``journalSeq`` are replayed, and both are compacted into a fresh snapshot (the journal
is emptied). A clean shutdown compacts too, and so does a journal past ``embedded.journalMaxBytes``.

Group commit: an entry is written under the store's write lock, its fsync waited for after that lock
is released (core.data.embedded). One fsync covers every entry written before it, so concurrent
writers share it instead of queueing one fsync each behind the lock; each write is still acknowledged
only once it is on the disk. Other threads may read a write before its fsync (as MongoDB's default
read concern does); if that fsync fails, every write since the last good one is cut off the journal
and undone (507), as a refused append is.

The journal file is also the lock: the process that opens the store holds an exclusive ``flock``
on it, so a second process on the same data file is refused at start with a clear message (the
lock dies with its process, also on ``kill -9``). Where ``fcntl`` does not exist (Windows) the lock
is skipped with a warning: run one process per data file there.
"""
from __future__ import annotations

import errno
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from bson import json_util

from core.errors import MiaError, StartupError

try:  # POSIX only
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("mia.db")
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
SPACE_NEEDED = 64 * 1024  # free bytes after which writes are tried again once the disk refused one
_UPSERT_CAPABLE = {"update_one", "update_many", "replace_one", "find_one_and_update", "find_one_and_replace"}


class Unjournalable(Exception):
    """An operation whose arguments cannot be written as JSON (bulk_write's request objects)."""


class NotDurable(MiaError):
    """A write the disk refused (full, I/O error): 507, and the store is as it was before the write.

    A disk the journal could not even be cut back on answers 503 until a restart repairs the journal."""

    def __init__(self, cause: BaseException, broken: bool = False) -> None:
        super().__init__(503 if broken else 507, code="DatabaseUnavailable" if broken else "InsufficientStorage")
        self.cause = cause
        self.first = False  # the waiter that found a failed fsync: it undoes the writes (Journal.wait)


def _tuples(value: Any) -> Any:
    """Index keys and sort specs come back from JSON as lists of lists; pymongo's API wants tuples."""
    if isinstance(value, list) and value and all(isinstance(v, list) and len(v) == 2 for v in value):
        return [tuple(v) for v in value]
    return value


class Journal:
    """One embedded client's journal: lock, append (fsync), replay, reset after compaction."""

    def __init__(self, snapshot_path: Path | str, json_options: Any, max_bytes: int | None = None,
                 fsync: bool = True) -> None:
        self.path = Path(str(snapshot_path) + ".journal")
        self.json_options = json_options
        self.max_bytes = int(max_bytes or DEFAULT_MAX_BYTES)
        self.fsync = fsync
        self.seq = 0
        self.fd: int | None = None
        self.broken: OSError | None = None  # set when a failed write could not be cut back
        self.full: OSError | None = None  # set when the disk refused a write, until it has space again
        # group commit: appends (under the store's write lock) return a ticket; ``wait`` fsyncs once
        # for every entry appended so far, outside that lock, so writers waiting together share one fsync
        self.epoch = 0  # +1 whenever the file is emptied or cut back: older tickets are settled then
        self.written = 0  # bytes in the file after the last whole append
        self.synced = 0  # bytes known to be on the disk
        self.failed: tuple[int, int, OSError] | None = None  # (epoch, synced, cause) of a failed fsync
        self._sync_lock = threading.Lock()

    # -- lock ----------------------------------------------------------------------------------------
    def open_locked(self, wait_seconds: float = 3.0) -> None:
        """Open (create) the journal and take its exclusive lock; StartupError if another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        if fcntl is None:  # pragma: no cover - Windows
            log.warning("embedded store: no file locks on this platform; run only one process on %s", self.path)
            self.fd = fd
            return
        deadline = time.monotonic() + max(wait_seconds, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise StartupError(
                        "embedded store: another process (pid unknown) already uses this data file; the "
                        "embedded store serves one process. Stop the other server, or give this one its own "
                        "embedded.path, or set MIA_MONGO_URL for several processes", str(self.path)) from None
                time.sleep(0.1)
        self.fd = fd

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # releases the flock
            self.fd = None

    # -- replay --------------------------------------------------------------------------------------
    def entries(self, after_seq: int) -> list[dict[str, Any]]:
        """The journal's entries newer than ``after_seq``.

        A torn last record (a crash or power loss mid-append: never acknowledged) is cut off the
        file with one warning naming it; a bad line before the last refuses the start, naming it."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        out: list[dict[str, Any]] = []
        lines = raw.split(b"\n")
        offset = 0
        for number, line in enumerate(lines, start=1):
            start, offset = offset, offset + len(line) + 1
            if not line.strip():
                continue
            try:
                entry = json_util.loads(line.decode("utf-8"), json_options=self.json_options)
                seq = int(entry["seq"])
            except (ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
                if any(rest.strip() for rest in lines[number:]):
                    raise StartupError(
                        f"embedded store journal is corrupt at line {number} of {len(lines) - 1} ({exc}); later "
                        "lines hold acknowledged writes, so it is not repaired by itself. Way out: restore the "
                        f"journal from a backup, or delete line {number} by hand (the write on it is lost), or "
                        "delete the whole journal (every write since the last snapshot is lost)",
                        str(self.path)) from None
                self._drop_tail(start, number, line)
                break
            if number == len(lines) and self.fd is not None:  # complete, only its newline is missing
                os.write(self.fd, b"\n")
            self.seq = max(self.seq, seq)
            if seq > after_seq:
                out.append(entry)
        return out

    def _drop_tail(self, start: int, number: int, line: bytes) -> None:
        """Cut a torn last record off the file, so the next append starts on a line of its own."""
        shown = line[:80].decode("utf-8", "replace")
        log.warning("embedded store: dropped a torn last journal record, line %d of %s (%d bytes, never "
                    "acknowledged: a crash or power loss cut its append short): %s%s", number, self.path,
                    len(line), shown, "..." if len(line) > 80 else "")
        if self.fd is not None:
            os.ftruncate(self.fd, start)
            if self.fsync:
                os.fsync(self.fd)

    def replay(self, client: Any, after_seq: int) -> int:
        """Apply the entries newer than the snapshot to ``client``; the number applied."""
        self.seq = max(self.seq, after_seq)
        entries = self.entries(after_seq)
        for entry in entries:
            try:
                apply(client, entry)
            except Exception as exc:  # noqa: BLE001 - an op that failed half-way originally may fail again
                log.debug("embedded store: journal entry %s not re-applied: %s", entry.get("seq"), exc)
        return len(entries)

    # -- append ----------------------------------------------------------------------------------------
    def append(self, entry: dict[str, Any]) -> tuple[int, int] | None:
        """Write one entry whole (the caller holds the store's write lock); the ticket to :meth:`wait`
        for before the write is acknowledged (None: nothing to wait for, fsync is off).

        ``os.write`` may write part of a line (a full disk): the rest is written until the disk
        refuses; then the journal is cut back to where the entry began, so no torn line stays for
        later entries to be glued onto, and NotDurable is raised for the caller to undo the write."""
        if self.fd is None:
            return None
        if self.broken is not None:
            raise NotDurable(self.broken, broken=True)
        try:
            line = json_util.dumps({**entry, "seq": self.seq + 1}, json_options=self.json_options)
        except (TypeError, ValueError) as exc:
            raise Unjournalable(str(exc)) from exc
        encoded = (line + "\n").encode("utf-8")
        data = memoryview(encoded)
        start = os.fstat(self.fd).st_size
        try:
            while data:
                written = os.write(self.fd, data)
                if written <= 0:
                    raise OSError(errno.ENOSPC, "the disk took no more bytes")
                data = data[written:]
        except OSError as exc:
            self._cut(start, exc)
            self.full = exc
            raise NotDurable(exc, broken=self.broken is not None) from exc
        self.seq += 1
        self.written = start + len(encoded)
        return (self.epoch, self.written) if self.fsync else None

    def wait(self, ticket: tuple[int, int]) -> None:
        """Return once the entry of ``ticket`` is on the disk: one fsync covers every entry appended
        before it, so threads that wait together share it. Raises NotDurable when the fsync fails;
        its ``first`` is set for the caller that found the failure, which must :meth:`cut_back` and undo."""
        epoch, end = ticket
        with self._sync_lock:
            failed = self.failed
            if failed is not None and failed[0] == epoch and end > failed[1]:
                raise NotDurable(failed[2])
            if epoch != self.epoch or end <= self.synced:
                return  # on the disk already, or in a snapshot since (the journal was emptied)
            target = self.written
            try:
                os.fsync(self.fd)  # type: ignore[arg-type]
            except OSError as exc:
                self.failed, self.full = (epoch, self.synced, exc), exc
                log.error("embedded store: a journal fsync failed (%s); the writes since the last one are undone",
                          exc)
                error = NotDurable(exc)
                error.first = True
                raise error from exc
            self.synced = max(self.synced, target)

    def cut_back(self) -> None:
        """After a failed fsync (the caller holds the store's write lock): cut the journal back to what
        was on the disk, so the reload that follows undoes every write whose fsync failed."""
        failed = self.failed
        if failed is None or failed[0] != self.epoch:
            return
        self._cut(failed[1], failed[2])
        self.epoch += 1
        self.written = self.synced = failed[1]

    def check_space(self) -> None:
        """While the disk that refused a write has less than ``SPACE_NEEDED`` free, raise NotDurable at once."""
        if self.full is None or self.fd is None:
            return
        try:
            stat = os.fstatvfs(self.fd)
            free = stat.f_bavail * stat.f_frsize
        except OSError:
            free = SPACE_NEEDED  # cannot tell: let the write try
        if free < SPACE_NEEDED:
            raise NotDurable(self.full)
        self.full = None

    def _cut(self, size: int, cause: OSError) -> None:
        """Take a partly written entry off the end again (truncating needs no free space)."""
        log.error("embedded store: a journal write failed (%s); the write is undone", cause)
        try:
            os.ftruncate(self.fd, size)  # type: ignore[arg-type]
            if self.fsync:
                os.fsync(self.fd)  # type: ignore[arg-type]
        except OSError as exc:
            self.broken = exc  # a torn tail may stay: refuse writes until a restart repairs it
            log.error("embedded store: the journal %s could not be cut back (%s); writes are refused "
                      "until a restart", self.path, exc)

    def too_big(self) -> bool:
        return self.fd is not None and os.fstat(self.fd).st_size > self.max_bytes

    def reset(self) -> None:
        """Empty the journal after its entries went into a snapshot (whose journalSeq covers them)."""
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            if self.fsync:
                os.fsync(self.fd)
            self.broken = None
            with self._sync_lock:
                self.epoch += 1
                self.written = self.synced = 0


def describe(target: Any, kind: str, name: str, args: tuple, kwargs: dict[str, Any], result: Any) -> dict[str, Any]:
    """The journal entry of a successful write call (``target`` is a collection, database or client)."""
    entry: dict[str, Any] = {"kind": kind, "op": name, "args": list(args),
                             "kwargs": {k: v for k, v in kwargs.items() if k != "session"}}
    if kind == "Collection":
        entry.update(db=target.database.name, coll=target.name)
        if name in _UPSERT_CAPABLE and kwargs.get("upsert"):
            entry["upserted"] = _upserted_id(target, name, args, kwargs, result)
    elif kind == "Database":
        entry["db"] = target.name
    return entry


def _upserted_id(collection: Any, name: str, args: tuple, kwargs: dict[str, Any], result: Any) -> Any:
    if hasattr(result, "upserted_id"):
        return result.upserted_id
    flt = args[0] if args else kwargs.get("filter")
    found = collection.find_one(flt, {"_id": 1}) if isinstance(flt, dict) else None
    return found["_id"] if found else None


def apply(client: Any, entry: dict[str, Any]) -> None:
    """Re-run one journal entry on ``client`` (journaling is not attached yet while replaying)."""
    kind, name = entry["kind"], entry["op"]
    args, kwargs = [_tuples(a) for a in entry.get("args") or []], dict(entry.get("kwargs") or {})
    for key in ("sort", "keys"):
        if key in kwargs:
            kwargs[key] = _tuples(kwargs[key])
    if kind == "MongoClient":
        getattr(client, name)(*args, **kwargs)
        return
    database = client[entry["db"]]
    if kind == "Database":
        getattr(database, name)(*args, **kwargs)
        return
    collection = database[entry["coll"]]
    result = getattr(collection, name)(*args, **kwargs)
    wanted = entry.get("upserted")
    if wanted is not None:  # an upsert got a fresh ObjectId again: give the document its original one
        got = _upserted_id(collection, name, tuple(args), kwargs, result)
        if got is not None and got != wanted and collection.find_one({"_id": wanted}) is None:
            document = collection.find_one({"_id": got})
            collection.delete_one({"_id": got})
            document["_id"] = wanted
            collection.insert_one(document)
