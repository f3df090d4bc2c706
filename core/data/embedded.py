"""The embedded store's entry points: one write lock, and every write journaled before it returns.

Why: the embedded default (mongomock-ng) lives in memory; its snapshot (core.data.embedded_snapshot)
and write-ahead journal (core.data.journal) make it durable. Every write method of mongomock's
Collection, Database and MongoClient is wrapped here (``_locked``): it runs under one lock, and the
outermost call is appended to the journal and fsync'ed before it returns (the fsync after the lock is
released, shared by the writes that wait together), so ``kill -9`` loses nothing that was
acknowledged. A write the disk refuses (full) is undone: the store is reloaded from its snapshot and
journal (what is durable), and the caller gets NotDurable (507 with the JSON envelope).

``make_thread_safe`` installs the lock together with the store's short paths (core.data.embedded_fast),
TTL bookkeeping (core.data.embedded_ttl) and index structures (core.data.embedded_index).

Entry points for checks of what MongoDB refuses: every write call of the code above passes through
``_locked``'s ``call`` (kind, method name, arguments) before mongomock runs it; every find, count,
update and delete selects its documents through ``embedded_fast.iter_documents`` (the filter).
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from core.data.embedded_lock import WRITE_LOCK

log = logging.getLogger("mia.db")

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
_ATTACHED: dict[int, tuple[Any, Callable[[], Any], Callable[[], Any]]] = {}  # id(client) -> (Journal, compact, restore)


def attach_journal(client: Any, journal: Any, compact: Callable[[], Any], restore: Callable[[], Any]) -> None:
    """From now on every write of ``client`` is appended to ``journal`` (core.data.journal) before it
    returns; ``compact`` folds the journal into the snapshot, ``restore`` reloads what is durable."""
    with WRITE_LOCK:
        _ATTACHED[id(client)] = (journal, compact, restore)


def reload(client: Any, snapshot: Any, journal: Any) -> None:
    """Empty ``client`` and fill it again from ``snapshot`` and ``journal`` (after a refused write).

    Every collection store is emptied in place (the Collection objects of the code above keep working)."""
    with WRITE_LOCK:
        hook = _ATTACHED.pop(id(client), None)
        try:
            for database in list(client._store._databases.values()):
                for store in list(database._collections.values()):
                    store.drop()
            snapshot.load(client)
            journal.replay(client, snapshot.journal_seq)
        finally:
            if hook is not None:
                _ATTACHED[id(client)] = hook
        log.warning("embedded store: reloaded from %s and its journal after a refused write", snapshot.path)


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


def _journal(kind: str, name: str, args: tuple, kwargs: dict[str, Any], result: Any) -> Any:
    """Append the write to its client's journal (under the write lock); what to wait for before it
    is acknowledged (``(journal, restore, ticket)``), or None."""
    from core.data.journal import NotDurable, Unjournalable, describe

    target = args[0]
    hook = _ATTACHED.get(id(_client_of(kind, target)))
    if hook is None:
        return None
    journal, compact, restore = hook
    try:
        if kind == "BulkOperationBuilder" or name == "bulk_write":
            _compact_or_undo(compact)  # request objects are not JSON: write the whole snapshot instead
            return None
        try:
            ticket = journal.append(describe(target, kind, name, args[1:], kwargs, result))
        except Unjournalable:
            _compact_or_undo(compact)
            return None
    except NotDurable:
        _undo(restore)
        raise
    if journal.too_big():
        try:
            compact()  # the snapshot holds this write too: its ticket is settled
        except OSError as exc:  # the write itself is in the journal: only the compaction waits
            log.error("embedded store: compacting the journal failed (%s); it is retried later", exc)
    return None if ticket is None else (journal, restore, ticket)


def _durable(pending: Any) -> None:
    """Wait (outside the write lock) until the journal entry is on the disk; a failed fsync undoes
    every write since the last good one, once, and each of their callers gets NotDurable (507)."""
    from core.data.journal import NotDurable

    journal, restore, ticket = pending
    try:
        journal.wait(ticket)
    except NotDurable as exc:
        if exc.first:
            with WRITE_LOCK:
                journal.cut_back()
                _undo(restore)
        raise


def _refuse_while_full(kind: str, target: Any) -> None:
    """After a refused write, the next ones are refused before they run while the disk is still full
    (a refusal after the write would reload the whole store each time)."""
    hook = _ATTACHED.get(id(_client_of(kind, target)))
    if hook is not None:
        hook[0].check_space()


def _compact_or_undo(compact: Callable[[], Any]) -> None:
    from core.data.journal import NotDurable

    try:
        compact()
    except OSError as exc:
        raise NotDurable(exc) from exc


def _undo(restore: Callable[[], Any]) -> None:
    """Take back a write that is in memory but not on disk: reload the durable state."""
    try:
        restore()
    except Exception:  # noqa: BLE001 - the refusal must still reach the caller
        log.exception("embedded store: reloading after a refused write failed")


def _locked(method: Callable[..., Any], kind: str = "") -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        pending = None
        with WRITE_LOCK:
            if _DEPTH[0] == 0 and _ATTACHED:
                _refuse_while_full(kind, args[0])
            _DEPTH[0] += 1
            try:
                result = method(*args, **kwargs)
            finally:
                _DEPTH[0] -= 1
            if _DEPTH[0] == 0 and _ATTACHED:
                pending = _journal(kind, method.__name__, args, kwargs, result)
        if pending is not None:
            _durable(pending)  # group commit: one fsync for the writes that wait together
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

    from core.data import embedded_documents, embedded_fast, embedded_index, embedded_ttl
    from core.data.embedded_documents import Documents

    store = mongomock_ng.store.CollectionStore
    if not getattr(store.__delitem__, "_mia_locked", False) and not embedded_index.ORIGINALS:
        def delete(self: Any, key: Any) -> None:  # TTL expiry runs inside reads, beside a locked delete
            with self._rwlock.writer():
                documents = self._documents
                if type(documents) is Documents:
                    documents.discard(key)  # no decoding of what goes
                else:
                    documents.pop(key, None)

        delete._mia_locked = True  # type: ignore[attr-defined]
        setattr(store, "__delitem__", delete)  # noqa: B010 - mypy refuses assigning to a method
    embedded_documents.install()  # documents kept as BSON bytes (every store created from now on)
    embedded_fast.install()
    embedded_ttl.install()
    embedded_index.install()  # after the two above: it keeps their store methods underneath its own
    modules = (mongomock_ng.collection, mongomock_ng.database, mongomock_ng.mongo_client)
    for class_name, methods in _WRITES.items():
        cls = next(getattr(m, class_name) for m in modules if hasattr(m, class_name))
        for name in methods:
            method = cls.__dict__.get(name)
            if callable(method) and not getattr(method, "_mia_locked", False):
                setattr(cls, name, _locked(method, class_name))
