"""Snapshots of the embedded store, so a developer's data survives a restart.

Why: the embedded default (mongomock-ng) lives in memory. With ``embedded: {"path": ...}`` in the
environment config, core.data.databases loads the snapshot when it creates the embedded client and saves it on
clean shutdown (``core.data.databases.shutdown``: atexit, SIGTERM in server.py, ``Databases.close_all``).

Every write between two snapshots goes to a write-ahead journal first (core.data.journal), so
``kill -9`` loses nothing that was acknowledged.

The file is Extended JSON (``bson.json_util``, relaxed mode: ObjectIds, datetimes and binary survive)
holding every database, collection, document and index. It is written atomically (temp file in
the same folder, fsync, ``os.replace``), so a crash mid-save never leaves half a file. A save is
skipped with a warning when another process replaced the file since this one loaded it (a hot-reload
parent must not overwrite what its child saved).
"""
from __future__ import annotations

import datetime as _dt
import functools
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bson import json_util

from core.errors import StartupError

log = logging.getLogger("mia.db")

FORMAT = "mia-embedded-snapshot/1"
JSON_OPTIONS = json_util.RELAXED_JSON_OPTIONS.with_options(tz_aware=True, tzinfo=_dt.UTC)
_INDEX_OPTIONS = ("unique", "sparse", "expireAfterSeconds", "partialFilterExpression")

# mongomock checks, then acts: two threads deleting (or expiring) one document raised KeyError, a
# unique index could be checked by two inserts at once. The threaded server runs requests in
# parallel, so every write of the embedded store goes through one lock (it serves one developer's
# process; MongoDB does its own locking), and snapshots are taken under it too.
WRITE_LOCK = threading.RLock()
_WRITES = {
    "Collection": ("insert_one", "insert_many", "update_one", "update_many", "replace_one", "delete_one",
                   "delete_many", "find_one_and_delete", "find_one_and_replace", "find_one_and_update",
                   "bulk_write", "create_index", "create_indexes", "drop_index", "drop_indexes", "drop",
                   "rename", "remove", "save", "update", "insert", "find_and_modify", "ensure_index"),
    "BulkOperationBuilder": ("execute",),
    "Database": ("create_collection", "drop_collection", "rename_collection"),
    "MongoClient": ("drop_database",),
}


_DEPTH = [0]  # nesting of locked calls (only the lock holder changes it): only the outermost is journaled
_ATTACHED: dict[int, tuple[Any, Callable[[], Any]]] = {}  # id(client) -> (Journal, compact)


def attach_journal(client: Any, journal: Any, compact: Callable[[], Any]) -> None:
    """From now on every write of ``client`` is appended to ``journal`` (core.data.journal) before it returns."""
    with WRITE_LOCK:
        _ATTACHED[id(client)] = (journal, compact)


def detach_journal(client: Any) -> None:
    with WRITE_LOCK:
        _ATTACHED.pop(id(client), None)


def _client_of(kind: str, target: Any) -> Any:
    if kind == "Collection":
        return target.database.client
    if kind == "Database":
        return target.client
    if kind == "BulkOperationBuilder":
        return target.collection.database.client
    return target


def _journal(kind: str, name: str, args: tuple, kwargs: dict[str, Any], result: Any) -> None:
    from core.data.journal import Unjournalable, describe

    target = args[0]
    hook = _ATTACHED.get(id(_client_of(kind, target)))
    if hook is None:
        return
    journal, compact = hook
    if kind == "BulkOperationBuilder" or name == "bulk_write":
        compact()  # request objects are not JSON: write the whole snapshot instead
        return
    try:
        journal.append(describe(target, kind, name, args[1:], kwargs, result))
    except Unjournalable:
        compact()
        return
    if journal.too_big():
        compact()


def _locked(method: Callable[..., Any], kind: str = "") -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with WRITE_LOCK:
            _DEPTH[0] += 1
            try:
                result = method(*args, **kwargs)
            finally:
                _DEPTH[0] -= 1
            if _DEPTH[0] == 0 and _ATTACHED:
                _journal(kind, method.__name__, args, kwargs, result)
            return result

    call._mia_locked = True  # type: ignore[attr-defined]
    return call


def make_thread_safe() -> None:
    """Serialise mongomock's writes (idempotent) and let a document vanish twice without a KeyError.

    Also installs the short read paths of core.data.embedded_fast (same results, less copying) and
    core.data.embedded_ttl (TTL indexes swept when a document can have expired, not on every access).
    """
    import mongomock_ng.collection
    import mongomock_ng.database
    import mongomock_ng.mongo_client
    import mongomock_ng.store

    from core.data import embedded_fast, embedded_ttl

    embedded_fast.install()
    embedded_ttl.install()
    modules = (mongomock_ng.collection, mongomock_ng.database, mongomock_ng.mongo_client)
    for class_name, methods in _WRITES.items():
        cls = next(getattr(m, class_name) for m in modules if hasattr(m, class_name))
        for name in methods:
            method = cls.__dict__.get(name)
            if callable(method) and not getattr(method, "_mia_locked", False):
                setattr(cls, name, _locked(method, class_name))
    store = mongomock_ng.store.CollectionStore
    if not getattr(store.__delitem__, "_mia_locked", False):
        def delete(self: Any, key: Any) -> None:  # TTL expiry runs inside reads, beside a locked delete
            with self._rwlock.writer():
                self._documents.pop(key, None)

        delete._mia_locked = True  # type: ignore[attr-defined]
        store.__delitem__ = delete


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


class Snapshot:
    """Load/save one embedded client's whole content from/to ``path``."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._seen: tuple[int, int] | None = None
        self.journal_seq = 0  # the last journal entry this snapshot contains

    def load(self, client: Any) -> int:
        """Fill ``client`` from the file (if there is one); returns the number of documents."""
        self._seen = _stat(self.path)
        if self._seen is None:
            return 0
        try:
            data = json_util.loads(self.path.read_text(encoding="utf-8"), json_options=JSON_OPTIONS)
        except (OSError, ValueError) as exc:
            raise StartupError(f"embedded store snapshot is unreadable ({exc}); fix or delete it",
                               str(self.path)) from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise StartupError(f"not an embedded store snapshot (expected format {FORMAT})", str(self.path))
        self.journal_seq = int(data.get("journalSeq") or 0)
        count = 0
        for db_name, collections in (data.get("databases") or {}).items():
            for coll_name, content in collections.items():
                collection = client[db_name][coll_name]
                for index in content.get("indexes") or []:
                    options = {k: index[k] for k in _INDEX_OPTIONS if k in index}
                    collection.create_index([tuple(k) for k in index["key"]], name=index["name"], **options)
                documents = content.get("documents") or []
                if documents:
                    collection.insert_many(documents)
                elif coll_name not in client[db_name].list_collection_names():
                    client[db_name].create_collection(coll_name)
                count += len(documents)
        return count

    def dump(self, client: Any, journal_seq: int = 0) -> dict[str, Any]:
        """The snapshot document of ``client``'s current content (consistent: no write runs meanwhile)."""
        with WRITE_LOCK:
            return {**self._dump(client), "journalSeq": journal_seq}

    @staticmethod
    def _dump(client: Any) -> dict[str, Any]:
        databases: dict[str, Any] = {}
        for db_name in client.list_database_names():
            database = client[db_name]
            collections: dict[str, Any] = {}
            for coll_name in sorted(database.list_collection_names()):
                collection = database[coll_name]
                indexes = [
                    {"name": name, "key": [list(k) for k in info["key"]],
                     **{k: info[k] for k in _INDEX_OPTIONS if k in info}}
                    for name, info in collection.index_information().items() if name != "_id_"]
                collections[coll_name] = {"indexes": indexes, "documents": list(collection.find({}))}
            databases[db_name] = collections
        return {"format": FORMAT, "saved": _dt.datetime.now(_dt.UTC), "databases": databases}

    def save(self, client: Any, journal_seq: int = 0) -> bool:
        """Write atomically; False (and a warning) if another process replaced the file meanwhile."""
        current = _stat(self.path)
        if current != self._seen:
            log.warning("embedded store: %s was changed by another process since it was loaded; "
                        "not overwriting it", self.path)
            return False
        text = json_util.dumps(self.dump(client, journal_seq), json_options=JSON_OPTIONS)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        self._seen = _stat(self.path)
        self.journal_seq = journal_seq
        log.info("embedded store: saved to %s", self.path)
        return True
