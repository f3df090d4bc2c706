"""The notification queue: collection ``notifications``, its states, indexes and the atomic claim.

States: ``pending`` (waiting for its ``schedule``) -> ``processing`` (claimed by one worker until
``leaseUntil``) -> ``fulfilled`` | ``rejected``; a failed attempt that may be retried goes back to
``pending`` with a later ``schedule``. A worker claims one due item with ``find_one_and_update``,
so two processors (threads, processes or servers on one MongoDB) never hold the same item; every
later write names the claiming ``workerId`` and ``status: processing``, so a worker whose lease ran
out cannot overwrite what the next claimant did. An item whose lease expired (its worker crashed
mid-send) is due again. Only pymongo features the embedded store shares are used.
"""
from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument

PENDING, PROCESSING, FULFILLED, REJECTED = "pending", "processing", "fulfilled", "rejected"
STATES = (PENDING, PROCESSING, FULFILLED, REJECTED)
FINISHED = (FULFILLED, REJECTED)

# The processor's claim query ($or of the two branches), the cleanup and the status lookups.
INDEXES: list[tuple[list[tuple[str, int]], str]] = [
    ([("status", ASCENDING), ("schedule", ASCENDING)], "status_1_schedule_1"),
    ([("status", ASCENDING), ("leaseUntil", ASCENDING)], "status_1_leaseUntil_1"),
    ([("status", ASCENDING), ("processed", ASCENDING)], "status_1_processed_1"),
    ([("statusId", ASCENDING)], "statusId_1"),
]
_indexed: set[tuple[int, str, str]] = set()
_indexed_lock = threading.Lock()


def now() -> datetime:
    return datetime.now(UTC)


def ensure_indexes(collection: Any) -> None:
    """Create the queue's indexes once per process and collection (create_index is idempotent)."""
    key = (id(collection.database.client), collection.database.name, collection.name)
    if key in _indexed:
        return
    with _indexed_lock:
        if key not in _indexed:
            for keys, name in INDEXES:
                collection.create_index(keys, name=name)
            _indexed.add(key)


def new_id() -> str:
    """A queued or status id: 128 random bits as 32 hex characters, so ids cannot be guessed or counted
    (an ObjectId is a timestamp and a counter: one's own id told the neighbours' ids)."""
    return secrets.token_hex(16)


def new_item(config_id: str, kind: str, notification: dict[str, Any], schedule: datetime | None,
             status_id: Any, owner: str | None = None) -> dict[str, Any]:
    """A queue document (mia's shape, spec §7.5, plus attempts, lease, lastError and its owner)."""
    created = now()
    return {"_id": new_id(), "owner": owner, "configId": config_id, "type": kind, "notification": notification,
            "status": PENDING,
            "schedule": schedule or created, "attempts": 0, "workerId": None, "leaseUntil": None,
            "lastError": None, "reason": None, "processed": None, "created": created, "statusId": status_id}


def claim(collection: Any, worker_id: str, lease_seconds: float, at: datetime | None = None) -> dict[str, Any] | None:
    """Atomically take the oldest due item (pending and scheduled, or processing with an expired lease)."""
    at = at or now()
    due = {"$or": [{"status": PENDING, "schedule": {"$lte": at}},
                   {"status": PROCESSING, "leaseUntil": {"$lte": at}}]}
    update = {"$set": {"status": PROCESSING, "workerId": worker_id, "claimed": at,
                       "leaseUntil": at + timedelta(seconds=lease_seconds)},
              "$inc": {"attempts": 1}}
    return collection.find_one_and_update(due, update, sort=[("schedule", ASCENDING)],
                                          return_document=ReturnDocument.AFTER)


def _finish(collection: Any, item: dict[str, Any], worker_id: str, values: dict[str, Any]) -> bool:
    held = {"_id": item["_id"], "workerId": worker_id, "status": PROCESSING}
    return collection.update_one(held, {"$set": values}).modified_count == 1


def fulfil(collection: Any, item: dict[str, Any], worker_id: str, platform: str) -> bool:
    """Mark a delivered item; False if this worker no longer holds it."""
    return _finish(collection, item, worker_id, {"status": FULFILLED, "processed": now(), "workerId": None,
                                                 "leaseUntil": None, "platform": platform, "lastError": None,
                                                 "deliveredBy": worker_id})


def reject(collection: Any, item: dict[str, Any], worker_id: str, error: str, reason: str,
           platform: str | None) -> bool:
    return _finish(collection, item, worker_id, {"status": REJECTED, "processed": now(), "workerId": None,
                                                 "leaseUntil": None, "lastError": error, "reason": reason,
                                                 "platform": platform})


def retry_later(collection: Any, item: dict[str, Any], worker_id: str, error: str, reason: str,
                delay_seconds: float) -> bool:
    return _finish(collection, item, worker_id, {"status": PENDING, "workerId": None, "leaseUntil": None,
                                                 "schedule": now() + timedelta(seconds=delay_seconds),
                                                 "lastError": error, "reason": reason})


def remove_finished(collection: Any, older_than: datetime) -> int:
    """Delete fulfilled and rejected items finished before ``older_than``."""
    return collection.delete_many({"status": {"$in": list(FINISHED)},
                                   "processed": {"$lt": older_than}}).deleted_count
