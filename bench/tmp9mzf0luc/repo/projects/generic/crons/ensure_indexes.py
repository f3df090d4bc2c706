"""generic-ensureIndexes: make every model's collection carry exactly the model's indexes (daily, 03:00 CET).

It drops indexes a model no longer declares (never ``_id_``), recreates those whose options
changed and creates the missing ones. Scheduled runs only act when
``cronJobs.ensureIndexes.enabled`` is true; a forced run (``python server.py <env>
cron=generic-ensureIndexes`` or ``config.forceRun`` in its execution document) always acts, and
``cronJobs.ensureIndexes.startUp`` forces one run when the scheduler starts. mia.js read other key
names than its env files set (``autoStart``/``runOnStartup`` vs ``enabled``/``startUp``), so it never
ran by itself; those old names are accepted as aliases.
"""
from __future__ import annotations

import logging
from typing import Any

from core import BaseCronJob, Shared
from core.data.indexes import sync_indexes
from core.shared import flag

log = logging.getLogger("mia.cron")


def _settings() -> dict[str, Any]:
    return dict(((Shared.environment.get("cronJobs") or {}).get("ensureIndexes")) or {})


class EnsureIndexes(BaseCronJob):
    identity = "generic-ensureIndexes"
    time = {"second": "0", "minute": "0", "hour": "3", "dayOfMonth": "*", "month": "*", "dayOfWeek": "*",
            "timezone": "CET"}
    max_instance_number_total = 1
    max_instance_number_per_server = 1

    def initialize(self) -> None:
        settings = _settings()
        if flag(settings.get("startUp", settings.get("runOnStartup"))):
            self.start_up = True

    start_up = False

    def worker(self) -> dict[str, Any]:
        settings = _settings()
        forced = self.force_run or self.config.get("forceRun") or self.start_up
        self.start_up = False
        if not (forced or flag(settings.get("enabled", settings.get("autoStart")))):
            log.info("generic-ensureIndexes: cronJobs.ensureIndexes.enabled is off; nothing done")
            return {}
        done: dict[str, Any] = {}
        for _, _, model in Shared.model_registry.items():
            if getattr(model, "disabled", False) or not getattr(model, "collection_name", None):
                continue
            changes = sync_indexes(model)
            if any(changes.values()):
                log.info("generic-ensureIndexes: %s %s", model.identity, changes)
            done[model.identity] = changes
        return done
