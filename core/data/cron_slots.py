"""Cron coordination through MongoDB: the one source of truth for which server runs which job.

Every scheduler is a *server* with a heartbeat document; every job has one execution document
holding its effective config (mia.js's keys) and its running instances. A tick runs only after one
atomic ``find_one_and_update`` reserved a slot under the job's limits, so any number of servers
(processes, machines) on one database never exceed them. Collections keep mia.js's names
(spec mia-core-behaviour §5.3); the differences are deliberate:

``cronServerHeartbeat``: ``{_id: serverId, status: 'active', hostName, pid, startedAt,
lastStatusUpdateAt, leaseUntil, isSuspended, restartCount}``. The server renews ``leaseUntil``
(now + ``deadServerInterval``) while it lives; a server whose lease ran out is dead, and any live
server pulls its running entries from every job (so a crashed server's slots free themselves)
and deletes its heartbeat. A live server that finds its own heartbeat gone registers anew.

``cronJobExecution``: ``{typeName (unique), createdAt, config: {time, isSuspended, debugOutput,
allowedHosts, environment, maxInstanceNumberTotal, maxInstanceNumberPerServer, forceRun, stopJob},
runningJobsOverall: [{id, serverId, startedAt}], runningJobsByServer: {<serverId>: [{id,
startedAt}]}, tick: {at, runs}, stats: {lastStarted, lastEnded, lastError, lastResult,
lastDuration, timesStarted, timesFinished, timesFailed, totalExecutionTime}}``.
``runningJobsByServer`` is keyed by server id (mia.js: a list), so the per-server limit is a plain
dotted path. ``tick`` records the scheduled fire time of the latest tick and how many runs it
started: with ``maxInstanceNumberTotal`` n, at most n runs start per tick across all servers, even
when a run ends before a slower server's tick arrives. mia.js got that by delaying the release to
the next full second; a fire time is exact and tolerates clock skew between servers.
"""
from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from core.cron import PatternError, normalise_config
from core.data.consistency import guarded_writes

log = logging.getLogger("mia.cron")

HEARTBEATS = "cronServerHeartbeat"
EXECUTIONS = "cronJobExecution"
DEAD_SERVER_INTERVAL = 120.0  # seconds without a heartbeat before a server counts as dead (mia.js's default)
ORPHAN_AGE = 3600  # seconds before the document of a job no server knows any more is deleted (mia.js)


def now_utc() -> datetime:
    return datetime.now(UTC)


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


@dataclass
class Slot:
    """One reserved run: released exactly once."""

    identity: str
    id: str
    server_id: str
    started: datetime
    forced: bool = False
    released: bool = field(default=False, compare=False)


class CronStore:
    """The database side of one server's cron jobs (thread-safe: pymongo and the embedded store are)."""

    def __init__(self, database: Any, *, mode: str = "local", host_name: str | None = None,
                 server_id: str | None = None, dead_after: float = DEAD_SERVER_INTERVAL) -> None:
        self.db = database
        self.mode = mode
        self.host_name = host_name or socket.gethostname()
        self.server_id = server_id or secrets.token_hex(12)
        if "." in self.server_id or self.server_id.startswith("$"):
            raise ValueError(f"a cron server id is used in field paths: no '.' or leading '$' ({self.server_id!r})")
        self.dead_after = float(dead_after)
        self.suspended = False  # heartbeat's isSuspended: this server skips its ticks
        self.restart_count = 0
        self._indexed = False
        self._handles: dict[tuple[int, str], Any] = {}

    @property
    def heartbeats(self) -> Any:
        return self._guarded(HEARTBEATS)

    @property
    def executions(self) -> Any:
        return self._guarded(EXECUTIONS)

    def _guarded(self, name: str) -> Any:
        """Slots and leases wait for a majority: a failover must not hand one slot out twice."""
        key = (id(self.db), name)
        cached = self._handles.get(key)
        if cached is None:
            cached = self._handles[key] = guarded_writes(self.db[name])
        return cached

    def ensure_indexes(self) -> None:
        if not self._indexed:
            self.executions.create_index([("typeName", 1)], name="typeName", unique=True)
            self.executions.create_index([("typeName", 1), ("createdAt", 1)], name="deleteMissingCronJobs")
            self.adopt_mia_documents()
            self._indexed = True

    def adopt_mia_documents(self) -> int:
        """Read mia.js's execution documents as they are: its ``runningJobsByServer`` is a list of
        ``{serverId, jobs}`` (``[]`` when idle), and ``$push`` to ``runningJobsByServer.<id>`` on a list is
        error 28 (PathNotViable) on MongoDB, so that job would never run again. The list becomes our
        map in one idempotent update; its entries belonged to mia.js servers, which the reaper frees
        from ``runningJobsOverall`` as servers without a live heartbeat. Returns the documents changed."""
        result = self.executions.update_many({"runningJobsByServer": {"$type": "array"}},
                                             {"$set": {"runningJobsByServer": {}}})
        if result.modified_count:
            log.warning("cron: %d mia.js execution document(s) adopted (runningJobsByServer list -> map)",
                        result.modified_count)
        return int(result.modified_count)

    # -- servers -----------------------------------------------------------------------------------
    def register(self) -> str:
        """Insert this server's heartbeat (status active); returns the server id."""
        self.ensure_indexes()
        now = now_utc()
        self.heartbeats.replace_one({"_id": self.server_id}, {
            "_id": self.server_id, "status": "active", "hostName": self.host_name, "pid": os.getpid(),
            "startedAt": now, "lastStatusUpdateAt": now, "leaseUntil": now + timedelta(seconds=self.dead_after),
            "isSuspended": False, "restartCount": self.restart_count}, upsert=True)
        return self.server_id

    def beat(self) -> bool:
        """Renew this server's lease; False when it had been declared dead (then it registers anew)."""
        now = now_utc()
        doc = self.heartbeats.find_one_and_update(
            {"_id": self.server_id, "status": "active"},
            {"$set": {"lastStatusUpdateAt": now, "leaseUntil": now + timedelta(seconds=self.dead_after)}})
        if doc is not None:
            self.suspended = doc.get("isSuspended") is True
            return True
        old = self.server_id
        self.server_id = secrets.token_hex(12)
        self.restart_count += 1
        self.register()
        log.warning("cron: this server was assigned a new unique id %s (%s had no heartbeat)", self.server_id, old)
        return False

    def unregister(self) -> None:
        """Remove this server's heartbeat and every entry it still holds (a clean stop)."""
        self._pull_servers([self.server_id])
        self.heartbeats.delete_one({"_id": self.server_id})

    def reap_dead_servers(self) -> list[str]:
        """Servers whose lease ran out are dead: free their slots and delete their heartbeats."""
        now = now_utc()
        silent = now - timedelta(seconds=self.dead_after)  # mia.js heartbeats have no lease: their last beat counts
        self.heartbeats.update_many(
            {"status": "active", "$or": [{"leaseUntil": {"$lt": now}},
                                         {"leaseUntil": {"$exists": False}, "lastStatusUpdateAt": {"$lt": silent}}]},
            {"$set": {"status": "no heartbeat", "lastStatusUpdateAt": now}})
        # Holders are read before the live servers: a server inserts its heartbeat before it takes a
        # slot, so every holder seen here that is alive is in the list read next.
        holders = {e.get("serverId") for doc in self.executions.find(
            {"runningJobsOverall.0": {"$exists": True}}, {"runningJobsOverall": 1})
            for e in doc.get("runningJobsOverall") or []}
        dead = [d["_id"] for d in self.heartbeats.find({"status": {"$ne": "active"}}, {"_id": 1})]
        live = {d["_id"] for d in self.heartbeats.find({"status": "active"}, {"_id": 1})}
        dead += list(holders - live)  # entries of servers whose heartbeat is gone (deleted by hand, reaped)
        dead = sorted({d for d in dead if d is not None and d not in live}, key=str)  # mia.js ids are ObjectIds
        if dead:
            self._pull_servers(dead)
            self.heartbeats.delete_many({"_id": {"$in": dead}, "status": {"$ne": "active"}})
            log.warning("cron: freed the slots of %d server(s) without heartbeat", len(dead))
        return dead

    def _pull_servers(self, server_ids: list[str]) -> None:
        update: dict[str, Any] = {"$pull": {"runningJobsOverall": {"serverId": {"$in": server_ids}}}}
        update["$unset"] = {f"runningJobsByServer.{sid}": "" for sid in server_ids}
        self.executions.update_many({}, update)

    def delete_orphans(self, known: list[str]) -> int:
        """Delete execution documents of jobs no longer in the code, an hour after their creation (mia.js)."""
        cutoff = _epoch(now_utc()) - ORPHAN_AGE
        result = self.executions.delete_many({"typeName": {"$nin": known}, "createdAt": {"$lte": cutoff}})
        return int(result.deleted_count)

    # -- jobs ----------------------------------------------------------------------------------------
    def ensure_job(self, identity: str, preset: dict[str, Any], defaults: dict[str, Any] | None = None) -> dict:
        """The job's effective config: the database copy if there is one, else the preset (now stored).

        ``defaults`` fills an empty ``allowedHosts``/``environment`` of the preset from
        ``cronJobs.allowedHosts``/``environment`` (only when the document is first created, as mia.js)."""
        from pymongo.errors import DuplicateKeyError

        self.ensure_indexes()
        if self.executions.find_one({"typeName": identity}, {"_id": 1}) is None:
            config = dict(preset)
            for key in ("allowedHosts", "environment"):
                if not config.get(key) and (defaults or {}).get(key):
                    config[key] = list(defaults[key])  # type: ignore[index]
            try:
                self.executions.insert_one({
                    "typeName": identity, "createdAt": int(_epoch(now_utc())), "config": config,
                    "runningJobsOverall": [], "runningJobsByServer": {},
                    "stats": {"timesStarted": 0, "timesFinished": 0, "timesFailed": 0, "totalExecutionTime": 0}})
            except DuplicateKeyError:  # another server created it a moment ago: use theirs (mia.js gave up)
                pass
        return self.read_config(identity, preset)

    def read_config(self, identity: str, preset: dict[str, Any]) -> dict[str, Any]:
        """The database config, checked; a broken one is logged and the preset used instead (mia.js)."""
        doc = self.executions.find_one({"typeName": identity}, {"config": 1})
        if doc is None:
            return dict(preset)
        try:
            return normalise_config(doc.get("config") or {})
        except PatternError as exc:
            log.error("cron: '%s' has erroneous database config (%s); using the preset config instead",
                      identity, exc)
            return dict(preset)

    def document(self, identity: str) -> dict[str, Any] | None:
        return self.executions.find_one({"typeName": identity})

    def reserve(self, identity: str, config: dict[str, Any], tick: datetime | None) -> Slot | None:
        """Atomically take a slot for one run, or None (limits full, suspended, not for this host/tick).

        ``tick`` is the scheduled fire time; None for a forced run, which is not counted per tick."""
        per = int(config.get("maxInstanceNumberPerServer") or 0)
        total = int(config.get("maxInstanceNumberTotal") or 0)
        sid = self.server_id
        query: dict[str, Any] = {"typeName": identity, "config.isSuspended": {"$ne": True}}
        if per:
            query[f"runningJobsByServer.{sid}.{per - 1}"] = {"$exists": False}
        if total:
            query[f"runningJobsOverall.{total - 1}"] = {"$exists": False}
        conditions: list[dict[str, Any]] = [
            {"$or": [{"config.allowedHosts": {"$exists": False}}, {"config.allowedHosts": {"$size": 0}},
                     {"config.allowedHosts": self.host_name}]},
            {"$or": [{"config.environment": {"$exists": False}}, {"config.environment": {"$size": 0}},
                     {"config.environment": self.mode}]},
        ]
        now = now_utc()
        slot = Slot(identity, secrets.token_hex(16), sid, now, forced=tick is None)
        push = {"runningJobsOverall": {"id": slot.id, "serverId": sid, "startedAt": now},
                f"runningJobsByServer.{sid}": {"id": slot.id, "startedAt": now}}
        started = {"serverId": sid, "hostName": self.host_name, "time": now}
        attempts: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = []
        if tick is None or not total:
            attempts.append(({}, {}, {}))
        else:  # a new tick starts counting at 1; the same tick may start up to `total` runs
            attempts.append(({"$or": [{"tick.at": {"$exists": False}}, {"tick.at": {"$lt": tick}}]},
                             {"tick": {"at": tick, "runs": 1}}, {}))
            if total > 1:
                attempts.append(({"tick.at": tick, "tick.runs": {"$lt": total}}, {}, {"tick.runs": 1}))
        for extra, sets, incs in attempts:
            filter_ = dict(query, **{"$and": conditions + ([extra] if extra else [])})
            update = {"$push": push, "$set": {"stats.lastStarted": started, **sets},
                      "$inc": {"stats.timesStarted": 1, **incs}}
            if self.executions.find_one_and_update(filter_, update, {"_id": 1}) is not None:
                return slot
        return None

    def release(self, slot: Slot, error: BaseException | None = None, result: str | None = None) -> None:
        """Free the slot and record the run (also when the worker raised); idempotent."""
        if slot.released:
            return
        slot.released = True
        now = now_utc()
        duration = int((now - slot.started).total_seconds() * 1000)
        outcome = result or ("failed" if error is not None else "success")
        ended = {"serverId": slot.server_id, "hostName": self.host_name, "time": now}
        sets: dict[str, Any] = {"stats.lastEnded": ended, "stats.lastResult": outcome,
                                "stats.lastDuration": duration, "config.stopJob": False}
        if slot.forced:
            sets["config.forceRun"] = False
        incs = {"stats.timesFinished": 1, "stats.totalExecutionTime": duration}
        if error is not None or outcome != "success":
            incs["stats.timesFailed"] = 1
            message = f"{type(error).__name__}: {error}" if error is not None else outcome
            sets["stats.lastError"] = {"serverId": slot.server_id, "hostName": self.host_name, "time": now,
                                       "message": message[:2000]}
        self.executions.update_one({"typeName": slot.identity}, {
            "$pull": {"runningJobsOverall": {"id": slot.id}, f"runningJobsByServer.{slot.server_id}": {"id": slot.id}},
            "$set": sets, "$inc": incs})

    def stop_requested(self, identity: str) -> bool:
        """Whether an operator set ``config.stopJob`` on the job (read by ``BaseCronJob.should_stop``)."""
        doc = self.executions.find_one({"typeName": identity}, {"config.stopJob": 1})
        return bool(doc and (doc.get("config") or {}).get("stopJob") is True)

    def counts(self, identity: str) -> tuple[int, int]:
        """(running on this server, running overall) for debug output and listings."""
        doc = self.document(identity) or {}
        return (len((doc.get("runningJobsByServer") or {}).get(self.server_id) or []),
                len(doc.get("runningJobsOverall") or []))
