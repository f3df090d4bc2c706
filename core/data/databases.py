"""Database handles: pymongo against a real server, or the embedded in-process default.

Configuration (environment file)::

    defaultMongoDatabase: "mia"
    mongoDatabases: {"mia": {"url": "mongodb://host/mia", "options": {...}, "database": None}}
    skipDatabaseIndexingOnNewCollections: False     # read by core.data.indexes
    embedded: {"path": ".mia-data/local.json"}      # optional snapshot of the embedded store

``MIA_MONGO_URL`` / ``MIA_MONGO_URL_<NAME>`` override the URLs (core.startup.config). A ``mongodb://`` or
``mongodb+srv://`` URL uses one ``pymongo.MongoClient`` per URL and process, created lazily on first
use (so gunicorn workers never share a client made before the fork), with timeouts that outlast a
replica-set election (:data:`DEFAULT_CLIENT_OPTIONS`); a database that stays down answers 503
``DatabaseUnavailable``, as do write-concern timeouts, time limits, killed cursors and step-downs.
Reads go to the primary (``mongo.readPreference``) unless a route opts in; collections that guard
security or coordination write with ``mongo.guardedWriteConcern`` (:func:`guarded_writes`).
Replica sets and sharded clusters are selected through the URL alone. No URL -> the
embedded store (mongomock-ng, pymongo's API), which lives in this process only: with
``server.workers`` > 1 start-up is refused.

The database name is the entry's ``database`` option, else the path of its URL, else the entry's key.
"""
from __future__ import annotations

import atexit
import logging
import os
import re
import threading
import weakref
from pathlib import Path
from typing import Any

from bson.errors import InvalidDocument

from core.data.consistency import mongo_settings
from core.errors import MiaError, ServiceUnavailable, StartupError, register_translator
from core.shared import Shared

log = logging.getLogger("mia.db")

# Chosen to survive a replica-set election: a new primary is elected within about 12 s (10 s
# electionTimeoutMillis to notice, then the vote), so server selection waits 15 s, and pymongo's
# retryable reads and writes retry once on the new primary. A 2 s selection timeout turned every
# election into ~10 s of 503s. Index builds do not run under socketTimeoutMS: core.data.index_builds
# gives them ``mongo.indexBuildTimeout``. Options of ``mongoDatabases.<name>.options`` win.
DEFAULT_CLIENT_OPTIONS: dict[str, Any] = {
    "serverSelectionTimeoutMS": 15000,
    "connectTimeoutMS": 5000,
    "socketTimeoutMS": 30000,
    "retryWrites": True,
    "retryReads": True,
    "tz_aware": True,
}

DUPLICATE_KEY_MSG = "Data record already exist in database"
# Server answers that mean "not now" rather than "wrong": a step-down, a primary being elected, a
# write concern not reached in time, a time limit, a killed cursor. They answer 503, never 500.
TRANSIENT = frozenset({
    6, 7, 89, 91, 189,        # HostUnreachable, HostNotFound, NetworkTimeout, ShutdownInProgress, PrimarySteppedDown
    43, 50, 262,              # CursorNotFound, MaxTimeMSExpired, ExceededTimeLimit
    64, 100,                  # WriteConcernFailed (wtimeout), UnsatisfiableWriteConcern
    9001, 10107, 10058,       # SocketException, NotWritablePrimary, LegacyNotPrimary
    11600, 11602,             # InterruptedAtShutdown, InterruptedDueToReplStateChange
    13435, 13436,             # NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary
})
_EMBEDDED = "embedded"


def is_embedded(obj: Any) -> bool:
    """Whether a client, database or collection belongs to the embedded store."""
    return type(obj).__module__.startswith("mongomock")


class Databases:
    """Owns the clients of this process and hands out ``Database`` objects by configured name."""

    def __init__(self, environment: dict[str, Any], root: Path | str | None = None) -> None:
        self.environment = environment
        self.root = Path(root) if root is not None else Path.cwd()
        self._clients: dict[str, Any] = {}
        self._snapshot: Any = None
        self._journal: Any = None
        self._lock = threading.Lock()

    # -- configuration ------------------------------------------------------------------------
    def settings(self, name: str | None = None) -> tuple[str, dict[str, Any]]:
        """``(key, settings)`` of the configured database ``name`` (default: defaultMongoDatabase)."""
        name = name or self.environment.get("defaultMongoDatabase")
        if not name:
            raise StartupError("no database name given and no defaultMongoDatabase configured")
        databases = self.environment.get("mongoDatabases") or {}
        return name, databases.get(name) or {}

    def names(self) -> list[str]:
        """Every configured database key, the default first."""
        names = list((self.environment.get("mongoDatabases") or {}).keys())
        default = self.environment.get("defaultMongoDatabase")
        if default and default not in names:
            names.insert(0, default)
        return names

    def mode(self, name: str | None = None) -> str:
        """``"mongodb"`` or ``"embedded"`` for the database ``name``."""
        _, settings = self.settings(name)
        return "mongodb" if settings.get("url") else _EMBEDDED

    def database_name(self, name: str | None = None) -> str:
        key, settings = self.settings(name)
        if settings.get("database"):
            return str(settings["database"])
        url = settings.get("url")
        if url:
            path = re.sub(r"^mongodb(\+srv)?://[^/]*/?", "", str(url)).split("?")[0]
            if path:
                return path
        return key

    def snapshot_path(self) -> Path | None:
        """Where the embedded store is saved and loaded (``embedded.path``), relative to the root."""
        path = (self.environment.get("embedded") or {}).get("path")
        if not path:
            return None
        path = Path(os.path.expanduser(str(path)))
        return path if path.is_absolute() else self.root / path

    def check(self) -> None:
        """Refuse bad URLs and the embedded store with several workers (it lives in one process)."""
        for name in self.names():
            url = self.settings(name)[1].get("url")
            if url and not str(url).startswith(("mongodb://", "mongodb+srv://")):
                raise StartupError(f"database '{name}': the URL must start with mongodb:// or mongodb+srv://, "
                                   f"got {str(url).split(':')[0]}:...")
        workers = (self.environment.get("server") or {}).get("workers") or 1
        try:
            workers = int(workers)
        except (TypeError, ValueError):
            raise StartupError(f"server.workers must be a number, got {workers!r}") from None
        embedded = [n for n in self.names() if self.mode(n) == _EMBEDDED]
        if workers > 1 and embedded:
            raise StartupError(
                f"server.workers is {workers} but database(s) {', '.join(embedded)} use the embedded "
                "in-process store, which cannot be shared between processes: set MIA_MONGO_URL "
                "(or mongoDatabases.<name>.url) to a MongoDB server, or use one worker")

    # -- handles -------------------------------------------------------------------------------
    def client(self, name: str | None = None) -> Any:
        _, settings = self.settings(name)
        url = settings.get("url")
        key = str(url) if url else _EMBEDDED
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    client = self._clients[key] = self._make_client(url, settings.get("options") or {})
        return client

    def database(self, name: str | None = None) -> Any:
        return self.client(name)[self.database_name(name)]

    def _make_client(self, url: str | None, options: dict[str, Any]) -> Any:
        if not url:
            import mongomock_ng

            from core.data import update_rules
            from core.data.embedded import make_thread_safe

            make_thread_safe()  # the threaded server writes from several threads at once
            update_rules.install()  # refuse what MongoDB refuses (conflicting paths, _id, 16 MiB, $where)
            client: Any = mongomock_ng.MongoClient(tz_aware=True)
            path = self.snapshot_path()
            if path is not None:
                self._open_embedded(client, path)
            return client
        import pymongo

        query = str(url).partition("?")[2]  # read without parse_uri: a +srv URL would ask DNS here
        in_url = {part.partition("=")[0].lower() for part in re.split(r"[&;]", query) if part}
        opts = {k: v for k, v in DEFAULT_CLIENT_OPTIONS.items() if k.lower() not in in_url}  # a URL's choice wins
        opts["readPreference"] = mongo_settings(self.environment)["readPreference"]  # pinned, over the URL's
        opts.update(options)
        return pymongo.MongoClient(url, **opts)

    def _open_embedded(self, client: Any, path: Path) -> None:
        """Lock the data file, load the snapshot, replay the journal, compact, then journal every write."""
        from core.data.embedded import attach_journal, reload
        from core.data.embedded_snapshot import JSON_OPTIONS, Snapshot
        from core.data.journal import Journal

        settings = self.environment.get("embedded") or {}
        journal = Journal(path, JSON_OPTIONS, settings.get("journalMaxBytes"), settings.get("fsync", True) is not False)
        journal.open_locked(float(settings.get("lockWait", 3)))  # StartupError: another process has it
        try:
            self._snapshot = Snapshot(path)
            self._snapshot.load(client)
            replayed = journal.replay(client, self._snapshot.journal_seq)
        except BaseException:
            journal.close()
            raise
        self._journal = journal
        if replayed:
            log.warning("embedded store: replayed %d journaled write(s) after an unclean stop", replayed)
            try:
                self.compact(client)
            except OSError as exc:  # a full disk: the journal keeps the writes until a later compaction
                log.error("embedded store: compacting at start failed (%s)", exc)
        attach_journal(client, journal, lambda: self.compact(client),
                       lambda: reload(client, self._snapshot, journal))

    def compact(self, client: Any | None = None) -> bool:
        """Fold the journal into a fresh snapshot and empty it (start, clean shutdown, journal too big)."""
        client = client if client is not None else self._clients.get(_EMBEDDED)
        if client is None or self._snapshot is None:
            return False
        journal = getattr(self, "_journal", None)
        from core.data.embedded_lock import WRITE_LOCK

        with WRITE_LOCK:
            saved = bool(self._snapshot.save(client, journal.seq if journal else 0))
            if saved and journal is not None:
                journal.reset()
        return saved

    def save_snapshot(self) -> bool:
        """Write the embedded store to ``embedded.path`` (if it was used in this process)."""
        return self.compact()

    def close_all(self) -> None:
        """Clean shutdown: save the embedded snapshot, then close every client."""
        with self._lock:
            try:
                self.save_snapshot()
            except Exception:  # a failed save must not hide the shutdown; it is logged loudly
                log.exception("embedded store: saving the snapshot failed")
            journal = getattr(self, "_journal", None)
            if journal is not None:
                from core.data.embedded import detach_journal

                detach_journal(self._clients.get(_EMBEDDED))
                journal.close()  # releases the data file's lock
                self._journal = None
            for client in self._clients.values():
                try:
                    client.close()
                except Exception:  # closing an already broken client is harmless
                    log.debug("error closing a database client", exc_info=True)
            self._clients.clear()
            self._snapshot = None

    def forget_server_clients(self) -> None:
        """After ``fork``: a child must not use the parent's pymongo clients (the embedded one stays)."""
        self._clients = {k: c for k, c in self._clients.items() if k == _EMBEDDED}


_current: weakref.ReferenceType[Databases] | None = None


def current() -> Databases | None:
    """The ``Databases`` installed for this process, if any."""
    return _current() if _current is not None else None


def install(environment: dict[str, Any], root: Path | str | None = None) -> Databases:
    """Make ``Shared.db(name)`` work for this process (clients are created on first use)."""
    global _current
    databases = Databases(environment, root)
    databases.check()
    Shared._handles["databases"] = databases
    Shared.provide("db", lambda name=None: databases.database(name))
    _current = weakref.ref(databases)
    return databases


def shutdown() -> None:
    """Clean shutdown of this process's databases (atexit, SIGTERM in server.py, tests)."""
    databases = current()
    if databases is not None:
        databases.close_all()


def _after_fork_in_child() -> None:
    databases = current()
    if databases is not None:
        databases.forget_server_clients()
    for key in [k for k in Shared._handles if k == "db" or k.startswith("db:")]:
        Shared._handles.pop(key, None)


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(shutdown)


# -- database errors as mia errors ----------------------------------------------------------------
def _duplicate_fields(err: Any) -> list[str]:
    details = getattr(err, "details", None) or {}
    if not details.get("keyPattern") and isinstance(details.get("writeErrors"), list):
        details = next((e for e in details["writeErrors"] if e.get("code") == 11000), {})
    pattern = details.get("keyPattern")
    if isinstance(pattern, dict) and pattern:
        return [str(k) for k in pattern]
    text = str(details.get("errmsg") or err)
    match = re.search(r"dup key: \{ ?([^}]*)\}", text)
    if not match:
        return []
    return [part.split(":")[0].strip().strip('"') for part in match.group(1).split(",") if ":" in part]


def duplicate_key_error(err: BaseException) -> MiaError:
    """409 ``DuplicateKey`` naming the fields of the violated unique index (never their values)."""
    fields = _duplicate_fields(err)
    extra: dict[str, Any] = {"id": ",".join(fields)} if fields else {}
    return MiaError(409, code="DuplicateKey", msg=DUPLICATE_KEY_MSG, **extra)


def _too_large(code: Any, message: Any) -> bool:
    """The server's answer to a document over 16 MiB that pymongo let through (it refuses only past
    16 MiB + 16 KiB): BSONObjectTooLarge, 17419/17420 for updates, BadValue "... too large" for inserts."""
    return code in (10334, 17419, 17420) or (code == 2 and "too large" in str(message or ""))


def translate_db_error(err: BaseException) -> MiaError | None:
    """pymongo's failures as mia errors: duplicates 409, a value BSON cannot hold (an integer past
    64 bits, a set) 400, an unreachable server 503 (never a 500)."""
    try:
        from pymongo import errors as pe
    except ImportError:  # pragma: no cover - pymongo is a pinned dependency
        return None
    if isinstance(err, pe.DuplicateKeyError):
        return duplicate_key_error(err)
    if isinstance(err, pe.BulkWriteError):
        write_errors = (err.details or {}).get("writeErrors") or []
        if any(e.get("code") == 11000 for e in write_errors):
            return duplicate_key_error(err)
        if any(_too_large(e.get("code"), e.get("errmsg")) for e in write_errors):
            return MiaError(413, code="DocumentTooLarge")
        return None
    if isinstance(err, pe.DocumentTooLarge) or (isinstance(err, pe.OperationFailure)
                                                and _too_large(err.code, str(err))):
        return MiaError(413, code="DocumentTooLarge")
    if isinstance(err, InvalidDocument) or (isinstance(err, OverflowError) and "8-byte ints" in str(err)):
        return MiaError(400, code="ValueNotStorable")  # what BSON cannot hold (never echoing the value)
    if isinstance(err, (pe.ConnectionFailure, pe.ServerSelectionTimeoutError, pe.AutoReconnect,
                        pe.NetworkTimeout, pe.ExecutionTimeout, pe.WTimeoutError, pe.CursorNotFound)):
        return ServiceUnavailable(code="DatabaseUnavailable", retry_after=1)
    if isinstance(err, pe.WriteConcernError) or (isinstance(err, pe.OperationFailure) and err.code in TRANSIENT):
        return ServiceUnavailable(code="DatabaseUnavailable", retry_after=1)
    if isinstance(err, pe.PyMongoError) and err.has_error_label("RetryableWriteError"):
        return ServiceUnavailable(code="DatabaseUnavailable", retry_after=1)
    return None


register_translator(translate_db_error)


class _DbErrors:
    """``with db_errors():`` as a plain context manager: every model call enters one, and a
    generator-based one cost a generator per call."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, err: BaseException | None, trace: Any) -> None:  # None: never swallows
        if err is None or isinstance(err, MiaError) or not isinstance(err, Exception):
            return
        translated = translate_db_error(err)
        if translated is None:
            return
        if translated.status >= 500:
            log.warning("database unavailable: %s", err)
        raise translated from err


_DB_ERRORS = _DbErrors()


def db_errors() -> _DbErrors:
    """Raise pymongo failures as their mia error (409/503) so callers can catch ``MiaError``."""
    return _DB_ERRORS
