"""The broadcast bus: WebSocket messages reach every worker process and every server through MongoDB.

Two transports, chosen from the deployment (``hello``, core.data.consistency.deployment):

* **change stream** on a replica set or sharded cluster: a publisher inserts
  ``{channel, text, to, origin, created}`` into ``wsBroadcasts`` (majority write concern, so a
  failover cannot undo a message another process already delivered); each process with sockets
  open watches the collection's inserts, resuming after the last event it delivered (its resume
  token), so nothing is delivered twice or skipped across a reconnect. The server pushes: no
  queries while nothing is published (one ``getMore`` per ``maxAwaitTimeMS``, 1 s).
* **polling** on a standalone server and the embedded store, which have no change streams. The
  insert *is* the numbering: a publisher inserts ``_id = n + 1`` where ``n`` is the highest number
  it can see (``wsBroadcasts``, or the high-water mark kept in ``wsBroadcastSequence`` after the
  messages expired); a duplicate key means another publisher took it, so it retries with the next.
  A number therefore exists only once its message does, and ``n + 1`` can only be inserted after
  ``n`` is visible: readers see an unbroken sequence in commit order, read ``_id > last`` and never
  wait for a hole (the old counter was taken before the insert: a slow insert arrived after the
  reader had given it up, and a rolled-back counter re-issued a number). The poller waits
  ``pollInterval`` (0.1 s) after a message and backs off to ``idleInterval`` (1 s) while nothing
  comes; on the embedded store (one process) a publish wakes the poller directly, so it never
  polls while idle.

Both: ``created`` carries a TTL index (``retention`` s, changed in place with collMod), a process
skips its own messages (its hub delivered them in-process), and a process without sockets neither
polls nor watches.
"""
from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from core.data.consistency import deployment, guarded_writes
from core.data.databases import is_embedded

log = logging.getLogger("mia.broadcast")

READY_WAIT = 1.0  # seconds start() waits for the reader to read from "now" (once per outage, then none)
MESSAGES = "wsBroadcasts"
SEQUENCE = "wsBroadcastSequence"
PRUNE_EVERY = 200
MAX_ATTEMPTS = 1000  # numbering retries of one publish (each a duplicate key another publisher won)
DEFAULTS: dict[str, Any] = {"pollInterval": 0.1, "idleInterval": 1.0, "retention": 60, "batch": 500}
_PUBLISHED = threading.Condition()  # the embedded store lives in this process: a publish wakes its pollers
_GENERATION = [0]  # publishes in this process so far (under _PUBLISHED): a reader never sleeps through one
_STREAMS: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()  # client -> change streams work


class BroadcastBus:
    """Publishes to and reads from the broadcast collection of one database, for one hub (``origin``)."""

    def __init__(self, database: Callable[[], Any], origin: str, settings: dict[str, Any] | None = None) -> None:
        merged = {**DEFAULTS, **(settings or {})}
        self._database = database  # called on use: the client is made after a fork, on first use
        self.origin = origin
        self.poll_interval = float(merged["pollInterval"])
        self.idle_interval = max(float(merged["idleInterval"]), self.poll_interval)
        self.retention = int(merged["retention"])
        self.batch = int(merged["batch"])
        self.queries = 0  # reads this bus made (polls, getMores are the server's): for tests and bench/
        self._indexed = False
        self._floor: int | None = None  # None: not caught up (a reader starts from "now")
        self.ready = threading.Event()  # set once the reader reads from "now" (tests wait for it)
        self._ready_wait = READY_WAIT  # 0 while the database does not answer: sockets then open at once
        self._wanted = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    # -- the collection -------------------------------------------------------------------------
    def _collections(self) -> tuple[Any, Any]:
        database = self._database()
        messages = database[MESSAGES]
        if not self._indexed:  # a changed websocket.retention is a collMod, never error 85
            from core.data.index_builds import ensure_ttl

            ensure_ttl(messages, "created", self.retention)
            self._indexed = True
        return messages, database[SEQUENCE]

    def streaming(self) -> bool:
        """Whether this deployment offers change streams: a replica set or sharded cluster whose server
        opens one (asked once per client; every process asks the same server, so all agree)."""
        messages, _ = self._collections()
        client = messages.database.client
        if deployment(client) not in ("replicaSet", "sharded"):
            return False
        known = _STREAMS.get(client)
        if known is None:
            from pymongo.errors import OperationFailure

            try:
                with messages.watch([], max_await_time_ms=1):
                    known = True
            except (OperationFailure, NotImplementedError, TypeError):  # 40573, or a stand-in without them
                log.warning("broadcast: the server offers no change streams; polling wsBroadcasts")
                known = False
            _STREAMS[client] = known
        return known

    # -- publishing ------------------------------------------------------------------------------
    def publish(self, channel: str, text: str | bytes, to: dict[str, Any] | None) -> Any:
        """Store one message for every other process; returns its ``_id`` (a number when polling)."""
        messages, sequence = self._collections()
        now = datetime.now(UTC)
        doc = {"channel": channel, "text": text, "to": to or None, "origin": self.origin, "created": now}
        if self.streaming():
            return guarded_writes(messages).insert_one(doc).inserted_id
        number = self._insert_numbered(messages, sequence, doc)
        if number % PRUNE_EVERY == 0:  # the TTL index does this on MongoDB; the embedded store needs a hand
            messages.delete_many({"created": {"$lt": now - timedelta(seconds=self.retention)}})
        with _PUBLISHED:
            _GENERATION[0] += 1
            _PUBLISHED.notify_all()
        return number

    def _insert_numbered(self, messages: Any, sequence: Any, doc: dict[str, Any]) -> int:
        from pymongo.errors import DuplicateKeyError

        number = self._mark(sequence)
        for _ in range(MAX_ATTEMPTS):
            number += 1
            try:
                messages.insert_one({"_id": number, **doc})
            except DuplicateKeyError:  # another publisher has it (so it is visible): try the next one
                continue
            sequence.update_one({"_id": "messages"}, {"$max": {"n": number}}, upsert=True)
            return number
        raise RuntimeError(f"broadcast: no free number after {MAX_ATTEMPTS} attempts")

    @staticmethod
    def _mark(sequence: Any) -> int:
        """The high-water mark: the highest number whose publisher has finished (lags by those in flight)."""
        doc = sequence.find_one({"_id": "messages"})
        return int(doc["n"]) if doc else 0

    def _highest(self, messages: Any, sequence: Any) -> int:
        """The highest visible number: the mark, then the messages just above it (their $max is pending)."""
        number = self._mark(sequence)
        while messages.find_one({"_id": number + 1}, {"_id": 1}) is not None:
            number += 1
        return number

    def current(self) -> int:
        """The highest number published so far (0 before the first message; polling mode)."""
        messages, sequence = self._collections()
        return self._highest(messages, sequence)

    # -- reading ---------------------------------------------------------------------------------
    def start(self, deliver: Callable[[dict[str, Any]], None]) -> None:
        """Read while :meth:`idle` has not been called; idempotent, and restarted in a forked child.

        Returns once the reader reads from "now" (at most ``READY_WAIT`` s; not at all after a wait that ran
        out, until the reader gets through): a socket registered before this call then misses no message
        published after it (the reader takes its starting point on its own thread)."""
        self._wanted.set()
        if not (self._pid == os.getpid() and self._thread is not None and self._thread.is_alive()):
            with self._lock:
                if not (self._pid == os.getpid() and self._thread is not None and self._thread.is_alive()):
                    self._pid = os.getpid()
                    self._stopped.clear()
                    self._thread = threading.Thread(target=self._run, args=(deliver,),
                                                    name="mia-broadcast-reader", daemon=True)
                    self._thread.start()
        if not self.ready.wait(self._ready_wait):
            self._ready_wait = 0.0

    def idle(self) -> None:
        """No socket left in this process: stop reading until :meth:`start` is called again."""
        self._wanted.clear()
        self._floor = None
        self.ready.clear()

    def stop(self) -> None:
        self._stopped.set()
        self._wanted.set()
        with _PUBLISHED:
            _PUBLISHED.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._thread = None

    def _active(self) -> bool:
        return self._wanted.is_set() and not self._stopped.is_set()

    def _run(self, deliver: Callable[[dict[str, Any]], None]) -> None:
        while not self._stopped.is_set():
            if not self._wanted.is_set():
                self._wanted.wait()
                continue
            try:
                if self.streaming():
                    self._watch(deliver)
                else:
                    self._poll_loop(deliver)
            except Exception:  # noqa: BLE001 - a database outage must not end the reader
                log.warning("broadcast reader failed; retrying", exc_info=True)
                self._stopped.wait(1.0)

    def _watch(self, deliver: Callable[[dict[str, Any]], None], token: Any = None) -> None:
        """Deliver inserts from now on, resuming after the last delivered one across errors."""
        from pymongo.errors import PyMongoError

        messages, _ = self._collections()
        while self._active():
            try:
                with messages.watch([{"$match": {"operationType": "insert"}}], resume_after=token,
                                    max_await_time_ms=1000) as stream:
                    self.ready.set()
                    self._ready_wait = READY_WAIT
                    while self._active():
                        change = stream.try_next()
                        if change is not None:
                            doc = change.get("fullDocument") or {}
                            if doc.get("origin") != self.origin:
                                deliver(doc)
                        token = stream.resume_token
            except PyMongoError:
                if token is None:
                    raise
                log.warning("broadcast change stream interrupted; resuming", exc_info=True)
                self._stopped.wait(0.5)

    def _poll_loop(self, deliver: Callable[[dict[str, Any]], None]) -> None:
        if self._floor is None:
            self.catch_up()  # messages sent while nobody here listened are nobody's here
        self.ready.set()
        self._ready_wait = READY_WAIT
        interval = self.poll_interval
        while self._active():
            with _PUBLISHED:
                seen = _GENERATION[0]
            found = self.poll()
            for doc in found:
                deliver(doc)
            interval = self.poll_interval if found else min(interval * 2, self.idle_interval)
            with _PUBLISHED:  # a publish in this process wakes it at once (the embedded store's case)
                if _GENERATION[0] == seen and self._active():
                    _PUBLISHED.wait(interval)

    def catch_up(self) -> None:
        """Read only what is published from now on (what a reader does when its first socket opens)."""
        self._floor = self.current()

    def poll(self) -> list[dict[str, Any]]:
        """One read: the new messages of other origins, in number order (also used by tests)."""
        messages, sequence = self._collections()
        floor = self._floor if self._floor is not None else self._highest(messages, sequence)
        self.queries += 1
        docs: list[dict[str, Any]] = []
        if is_embedded(messages):  # numbers are dense: equality probes are its fast path (a range scans)
            while len(docs) < self.batch:
                doc = messages.find_one({"_id": floor + len(docs) + 1})
                if doc is None:
                    break
                docs.append(doc)
        else:
            docs = list(messages.find({"_id": {"$gt": floor, "$type": "number"}}).sort("_id", 1)
                        .limit(self.batch))
        self._floor = int(docs[-1]["_id"]) if docs else floor
        return [d for d in docs if d.get("origin") != self.origin]
