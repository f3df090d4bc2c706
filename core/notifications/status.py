"""One status document per send (Parse Server's ``_PushStatus``), in collection ``notificationStatus``.

A send is one manager call: a mail to an address, a push to one device or to every device of a
user. Its document counts the targets, and as the processor finishes items it counts ``numSent``
and ``numFailed``, per platform (``sentPerType.ios``, ``failedPerType.email``, ...) and failures per
reason (``errorsByReason.BadDeviceToken``). ``status`` goes ``pending`` -> ``running`` (first item
finished, more to go) -> ``succeeded`` (all finished, at least one delivered) | ``failed`` (all
finished, none delivered).
Counting uses ``$inc`` and is called once per item, after the item's own final write succeeded.
"""
from __future__ import annotations

import re
from typing import Any

from pymongo import ReturnDocument

from core.notifications.queue import new_id, now

_UNSAFE_KEY = re.compile(r"[^A-Za-z0-9_-]")


def create(collection: Any, *, config_id: str, kind: str, template: str, target: dict[str, Any],
           num_targets: int, schedule: Any) -> str:
    document = {"_id": new_id(), "configId": config_id, "type": kind, "template": template, "target": target,
                "status": "pending", "numTargets": num_targets, "numSent": 0, "numFailed": 0,
                "sentPerType": {}, "failedPerType": {}, "errorsByReason": {}, "schedule": schedule,
                "created": now(), "updated": now(), "finished": None}
    collection.insert_one(document)
    return document["_id"]


def ensure_indexes(collection: Any) -> None:
    """The clean-up's ``{status: {$in: [succeeded, failed]}, finished: {$lt}}`` reads an index, not the
    whole collection (once per process and collection; create_index is idempotent)."""
    mark = (id(collection.database.client), collection.database.name, collection.name)
    if mark not in _indexed:
        collection.create_index([("status", 1), ("finished", 1)], name="status_1_finished_1")
        _indexed.add(mark)


_indexed: set[tuple[int, str, str]] = set()


def key(value: Any) -> str:
    """A field-name-safe key (no dots or dollars) for a platform or reason."""
    return _UNSAFE_KEY.sub("_", str(value or "unknown"))[:64] or "unknown"


def record(collection: Any, status_id: Any, platform: str | None, delivered: bool, reason: str | None = None) -> None:
    """Count one finished item; settle the status once every target is finished."""
    if status_id is None:
        return
    kind = key(platform)
    inc = {"numSent": 1, f"sentPerType.{kind}": 1} if delivered else {
        "numFailed": 1, f"failedPerType.{kind}": 1, f"errorsByReason.{key(reason)}": 1}
    after = collection.find_one_and_update({"_id": status_id}, {"$inc": inc, "$set": {"updated": now()}},
                                           return_document=ReturnDocument.AFTER)
    if not after or after["status"] not in ("pending", "running"):
        return
    if after["numSent"] + after["numFailed"] >= after["numTargets"]:
        settled = "succeeded" if after["numSent"] > 0 else "failed"
        collection.update_one({"_id": status_id, "status": {"$in": ["pending", "running"]}},
                              {"$set": {"status": settled, "finished": now()}})
    elif after["status"] == "pending":
        collection.update_one({"_id": status_id, "status": "pending"}, {"$set": {"status": "running"}})


def remove_finished(collection: Any, older_than: Any) -> int:
    return collection.delete_many({"status": {"$in": ["succeeded", "failed"]},
                                   "finished": {"$lt": older_than}}).deleted_count
