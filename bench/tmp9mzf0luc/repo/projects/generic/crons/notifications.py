"""The notification jobs: the processor delivers the queue, the cleanup removes finished items.

generic-notificationProcessor runs every 5 s like mia.js's; many instances may run at once (on one
server and across servers), because each claims items with a lease in MongoDB. Processor settings
(attempts, backoff, lease, batch) are the environment config's ``notifications`` key.
generic-notificationCleanup runs every minute at second 20 and deletes finished items and status
documents older than ``notifications.cleanupAfter`` seconds.
"""
from __future__ import annotations

from core import BaseCronJob
from core.notifications import Processor, cleanup

EVERY = {"hour": "0-23", "minute": "0-59", "dayOfMonth": "0-31", "dayOfWeek": "0-7", "month": "0-12",
         "timezone": "CET"}


class NotificationProcessor(BaseCronJob):
    identity = "generic-notificationProcessor"
    version = "1.0"
    time = {**EVERY, "second": "0-59/5"}
    max_instance_number_total = 0  # unlimited: claims are leases, so instances never share an item
    max_instance_number_per_server = 10

    def worker(self) -> dict[str, int]:
        return Processor().run()


class NotificationCleanup(BaseCronJob):
    identity = "generic-notificationCleanup"
    version = "1.0"
    time = {**EVERY, "second": "20"}
    max_instance_number_total = 1
    max_instance_number_per_server = 1

    def worker(self) -> dict[str, int]:
        return cleanup()
