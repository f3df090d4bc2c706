"""``python server.py <env> migrate``: a database written by mia.js, brought to the shapes mia.py reads.

Why a command: most of what mia.js wrote is read as it is (devices, users with their md5 hashes,
secrets, cron configs; core.data.cron_slots adopts its execution documents by itself), but a few
shapes would stay silently unserved: queued notifications in mia.js's ``retry`` state (never
claimed: the queue knows ``pending`` with a ``schedule``), ``processing`` ones a stopped mia.js
worker held (no lease to expire), device dates stored as millisecond numbers (``session.created``
from the ``session.set`` virtual, ``created`` from the model default: a date range never matches a
number, so those sessions never expire), and mia.js's index names on the queue (the same keys under
another name are error 85 when the queue creates its own). The models' indexes are made what the
models declare (core.data.indexes.sync_indexes: new ones built before old ones go).

Every step is a filter on the old shape, so a second run changes nothing; :func:`migrate` returns
one line per step saying what it changed.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from core.data.cron_slots import EXECUTIONS

MIA_QUEUE_INDEXES = ("status_schedule_worker", "statusscheduleworker", "statusschedule", "statusretry",
                     "statusprocessedschedule", "workerId", "type", "status", "schedule", "processed", "created")


def _epoch_ms(value: Any) -> datetime:
    return datetime.fromtimestamp(float(value) / 1000.0, UTC)


def cron_documents(database: Any) -> str:
    result = database[EXECUTIONS].update_many({"runningJobsByServer": {"$type": "array"}},
                                              {"$set": {"runningJobsByServer": {}}})
    return f"{EXECUTIONS}: {result.modified_count} document(s): runningJobsByServer list -> map"


def queued_notifications(database: Any, queue: str) -> str:
    items = database[queue]
    retry = items.update_many({"status": "retry"}, {"$set": {"status": "pending", "workerId": None}})
    held = items.update_many({"status": "processing", "leaseUntil": {"$exists": False}},
                             {"$set": {"status": "pending", "workerId": None}})
    dropped = []
    for name in items.index_information():
        if name in MIA_QUEUE_INDEXES:  # mia.js's names; the queue creates its own (core.notifications.queue)
            items.drop_index(name)
            dropped.append(name)
    return (f"{queue}: {retry.modified_count} 'retry' and {held.modified_count} stuck 'processing' item(s) -> "
            f"'pending'; mia.js index(es) dropped: {', '.join(dropped) or 'none'}")


def device_dates(database: Any, devices: str = "devices") -> str:
    collection = database[devices]
    changed = 0
    for field in ("session.created", "created", "lastModified"):
        for doc in collection.find({field: {"$type": "number"}}, {field: 1}):
            value: Any = doc
            for part in field.split("."):
                value = value[part]
            collection.update_one({"_id": doc["_id"], field: value}, {"$set": {field: _epoch_ms(value)}})
            changed += 1
    return f"{devices}: {changed} millisecond date(s) -> dates (session.created, created, lastModified)"


def model_indexes(models: Iterable[Any]) -> list[str]:
    from core.data.indexes import sync_indexes

    lines = []
    for model in models:
        changes = sync_indexes(model)
        done = ", ".join(f"{k} {', '.join(v)}" for k, v in changes.items() if v)
        lines.append(f"{model.collection_name}: indexes {done or 'as declared'}")
    return lines


def migrate(database: Any, models: Iterable[Any], queue: str = "notifications") -> list[str]:
    """Run every step (idempotent); one line per step saying what changed."""
    return [cron_documents(database), queued_notifications(database, queue), device_dates(database),
            *model_indexes(models)]
