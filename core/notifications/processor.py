"""The processor: claims due queue items one at a time, delivers them and records the outcome.

``Processor(worker_id).run()`` drains up to ``batch`` due items and returns counts. A claim is a
lease (``queue.claim``), so several processors (threads, processes, servers) share one queue and
each item is delivered once; an item whose worker died is claimed again after its lease. A
delivery that fails with a permanent error is rejected at once; other failures go back to pending
with ``backoff`` seconds of delay until ``maxAttempts`` deliveries were tried, then the item is
rejected with its last error and reason. ``cleanup()`` removes finished items and status
documents older than ``cleanupAfter`` seconds.
"""
from __future__ import annotations

import logging
import os
import secrets
import socket
from datetime import timedelta
from typing import Any

import core.notifications.queue as queue
import core.notifications.status as status
from core.notifications.connectors import DeliveryError
from core.notifications.connectors.smtp import Mailer
from core.notifications.dispatch import deliver
from core.notifications.settings import collection, database, processor_settings

log = logging.getLogger("mia.notifications")


def new_worker_id() -> str:
    """host:pid:random, so a log line names the server and process that sent an item."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def backoff(settings: dict[str, Any], attempts: int) -> float:
    steps = settings.get("backoff")
    if isinstance(steps, (int, float)):
        return float(steps)
    steps = list(steps or [60])
    return float(steps[min(max(attempts, 1), len(steps)) - 1])


class Processor:
    """One worker of the queue; ``settings`` overrides the processor settings, ``db`` the database."""

    def __init__(self, worker_id: str | None = None, settings: dict[str, Any] | None = None, db: Any = None) -> None:
        self.worker_id = worker_id or new_worker_id()
        self.settings = processor_settings(settings)
        self.db = db if db is not None else database(self.settings)
        self.items = collection(self.settings, "queue", self.db)
        self.statuses = collection(self.settings, "status", self.db)
        self._mailer: Mailer | None = None
        queue.ensure_indexes(self.items)
        status.ensure_indexes(self.statuses)

    def run(self, limit: int | None = None) -> dict[str, int]:
        """Claim and process due items until none is due or ``limit`` (default ``batch``) were claimed."""
        counts = {"claimed": 0, "fulfilled": 0, "retried": 0, "rejected": 0, "lost": 0}
        limit = int(limit if limit is not None else self.settings.get("batch") or 100)
        with Mailer() as self._mailer:  # one SMTP connection per server for the whole batch
            while counts["claimed"] < limit:
                item = queue.claim(self.items, self.worker_id, float(self.settings["lease"]))
                if item is None:
                    break
                counts["claimed"] += 1
                counts[self.process(item)] += 1
        self._mailer = None
        if counts["claimed"]:
            log.info("notification processor %s: %s", self.worker_id, counts)
        return counts

    def process(self, item: dict[str, Any]) -> str:
        """Deliver one claimed item; returns fulfilled, retried, rejected, or lost (lease taken over)."""
        try:
            platform = deliver(item, self.settings, self.db, self._mailer)
        except DeliveryError as error:
            return self._failed(item, error)
        except Exception as error:  # noqa: BLE001 - a bug or an odd document must not stop the queue
            log.exception("notification %s: unexpected error", item["_id"])
            return self._failed(item, DeliveryError(type(error).__name__, str(error)))
        if not queue.fulfil(self.items, item, self.worker_id, platform):
            return self._lost(item)
        status.record(self.statuses, item.get("statusId"), platform, True)
        return "fulfilled"

    def _failed(self, item: dict[str, Any], error: DeliveryError) -> str:
        platform = getattr(error, "platform", None)
        attempts = int(item.get("attempts") or 1)
        if not error.permanent and attempts < int(self.settings["maxAttempts"]):
            delay = backoff(self.settings, attempts)
            if not queue.retry_later(self.items, item, self.worker_id, str(error), error.reason, delay):
                return self._lost(item)
            log.info("notification %s: attempt %d failed (%s), retry in %ss", item["_id"], attempts, error, delay)
            return "retried"
        text = str(error) if error.permanent else f"{error} (gave up after {attempts} attempts)"
        if not queue.reject(self.items, item, self.worker_id, text, error.reason, platform):
            return self._lost(item)
        status.record(self.statuses, item.get("statusId"), platform, False, error.reason)
        log.warning("notification %s rejected: %s", item["_id"], text)
        return "rejected"

    def _lost(self, item: dict[str, Any]) -> str:
        log.warning("notification %s: lease expired before the result was written (worker %s)", item["_id"],
                    self.worker_id)
        return "lost"


def cleanup(settings: dict[str, Any] | None = None, db: Any = None) -> dict[str, int]:
    """Remove finished items and settled status documents older than ``cleanupAfter`` seconds."""
    settings = processor_settings(settings)
    db = db if db is not None else database(settings)
    before = queue.now() - timedelta(seconds=float(settings["cleanupAfter"]))
    return {"items": queue.remove_finished(collection(settings, "queue", db), before),
            "statuses": status.remove_finished(collection(settings, "status", db), before)}
