"""The demo's clean-up job: deletes todos that were checked (done) more than five minutes ago.

mia.js's demo (``removeToDosMarkedAsDoneCron``, every 10 s) deleted *every* todo older than five
minutes, although its name and comment say done ones; here the status is checked.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core import BaseCronJob, Shared


class RemoveDoneTodos(BaseCronJob):
    identity = "removeToDosMarkedAsDoneCron"
    time = {"second": "*/10", "minute": "*", "hour": "*", "dayOfMonth": "*", "month": "*", "dayOfWeek": "*",
            "timezone": "CET"}
    max_instance_number_total = 1
    max_instance_number_per_server = 1

    def worker(self) -> int:
        cutoff = datetime.now(UTC) - timedelta(minutes=5)
        result = Shared.models("demo-todos").collection().delete_many(
            {"status": "checked", "lastModified": {"$lte": cutoff}})
        return int(result.deleted_count)
