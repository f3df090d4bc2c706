"""The broadcast bus: WebSocket messages reach every worker process and every server through MongoDB.

Why a plain collection polled by sequence number, and not a capped collection with a tailable
cursor or a change stream: change streams need a replica set, a capped collection cannot be
sharded (so a sharded cluster could not carry it), and the embedded store supports neither. A
numbered collection works on all of them with only what they share (``find_one_and_update`` with
``$inc``, an ``_id`` range query, a TTL index), so the embedded store runs the very code path that
production runs. The price is one indexed query per ``pollInterval`` (default 0.1 s) per process
that has sockets open; a process without sockets does not poll.

A publisher takes the next number from ``wsBroadcastSequence`` and inserts
``{_id: n, channel, text, to, origin, created}`` into ``wsBroadcasts`` (TTL: ``retention`` seconds).
Each process reads ``_id > floor`` in order. Two publishers can insert out of order (n+1 before n),
so a missing number is waited for up to ``gapTimeout`` seconds before it is given up (a publisher
that died between numbering and inserting). Messages a process published itself are skipped: its
hub already delivered them in-process, without waiting for the poll.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

log = logging.getLogger("mia.broadcast")

MESSAGES = "wsBroadcasts"
SEQUENCE = "wsBroadcastSequence"
PRUNE_EVERY = 200
DEFAULTS: dict[str, Any] = {"pollInterval": 0.1, "retention": 60, "gapTimeout": 5.0, "batch": 500}


class BroadcastBus:
    """Publishes to and polls the broadcast collection of one database, for one hub (``origin``)."""

    def __init__(self, database: Callable[[], Any], origin: str, settings: dict[str, Any] | None = None) -> None:
        merged = {**DEFAULTS, **(settings or {})}
        self._database = database  # called on use: the client is made after a fork, on first use
        self.origin = origin
        self.poll_interval = float(merged["pollInterval"])
        self.retention = int(merged["retention"])
        self.gap_timeout = float(merged["gapTimeout"])
        self.batch = int(merged["batch"])
        self._indexed = False
        self._floor = 0
        self._seen: set[int] = set()
        self._gaps: dict[int, float] = {}
        self._wanted = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    # -- publishing ------------------------------------------------------------------------------
    def _collections(self) -> tuple[Any, Any]:
        database = self._database()
        messages = database[MESSAGES]
        if not self._indexed:
            messages.create_index("created", expireAfterSeconds=self.retention)
            self._indexed = True
        return messages, database[SEQUENCE]

    def publish(self, channel: str, text: str | bytes, to: dict[str, Any] | None) -> int:
        """Store one message for every other process; returns its number."""
        from pymongo import ReturnDocument

        messages, sequence = self._collections()
        counter = sequence.find_one_and_update({"_id": "messages"}, {"$inc": {"n": 1}}, upsert=True,
                                               return_document=ReturnDocument.AFTER)
        number = int(counter["n"])
        now = datetime.now(UTC)
        messages.insert_one({"_id": number, "channel": channel, "text": text, "to": to or None,
                             "origin": self.origin, "created": now})
        if number % PRUNE_EVERY == 0:  # the TTL index does this on MongoDB; the embedded store needs a hand
            messages.delete_many({"created": {"$lt": now - timedelta(seconds=self.retention)}})
        return number

    def current(self) -> int:
        """The last number handed out (0 before the first message)."""
        _, sequence = self._collections()
        doc = sequence.find_one({"_id": "messages"})
        return int(doc["n"]) if doc else 0

    # -- polling ---------------------------------------------------------------------------------
    def start(self, deliver: Callable[[dict[str, Any]], None]) -> None:
        """Poll while :meth:`want` says so; idempotent, and restarted in a forked child."""
        self._wanted.set()
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._stopped.clear()
            self._thread = threading.Thread(target=self._run, args=(deliver,), name="mia-broadcast-poller",
                                            daemon=True)
            self._thread.start()

    def idle(self) -> None:
        """No socket left in this process: stop querying until :meth:`start` is called again."""
        self._wanted.clear()

    def stop(self) -> None:
        self._stopped.set()
        self._wanted.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2)
        self._thread = None

    def _run(self, deliver: Callable[[dict[str, Any]], None]) -> None:
        resume = True
        while not self._stopped.is_set():
            if not self._wanted.is_set():
                resume = True
                self._wanted.wait()
                continue
            try:
                if resume:  # messages sent while nobody here listened are nobody's here
                    self.catch_up()
                    resume = False
                for doc in self.poll():
                    deliver(doc)
            except Exception:  # noqa: BLE001 - a database outage must not end the poller
                log.warning("broadcast poll failed; retrying", exc_info=True)
                self._stopped.wait(1.0)
            self._stopped.wait(self.poll_interval)

    def _reset(self, floor: int) -> None:
        self._floor, self._seen, self._gaps = floor, set(), {}

    def catch_up(self) -> None:
        """Read only what is published from now on (what a poller does when its first socket opens)."""
        self._reset(self.current())

    def poll(self) -> list[dict[str, Any]]:
        """One read: the new messages of other origins, in number order (also used by tests)."""
        messages, _ = self._collections()
        docs = list(messages.find({"_id": {"$gt": self._floor}}).sort("_id", 1).limit(self.batch))
        fresh = [d for d in docs if d["_id"] not in self._seen]
        self._seen.update(d["_id"] for d in fresh)
        self._advance(time.monotonic())
        return [d for d in fresh if d.get("origin") != self.origin]

    def _advance(self, now: float) -> None:
        """Move the floor over every number seen, or missing for longer than ``gapTimeout``."""
        top = max(self._seen, default=self._floor)
        for number in range(self._floor + 1, top):
            if number not in self._seen:
                first = self._gaps.setdefault(number, now)
                if now - first >= self.gap_timeout:
                    log.warning("broadcast message %d never arrived; skipping it", number)
                    self._seen.add(number)
        while self._floor + 1 in self._seen:
            self._floor += 1
            self._seen.discard(self._floor)
            self._gaps.pop(self._floor, None)
