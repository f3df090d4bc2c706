"""Cron jobs: the base class project crons subclass, and the one-off run mode.

``python server.py local cron=JobName`` builds the app (database, indexes, init), runs each named
job's ``worker()`` once, now, and exits: 0 when every job succeeded, 1 when one raised, 2 for an
unknown job name (mia.js dropped unknown names silently). The scheduler and the cross-server
coordination through MongoDB arrive with the cron issue; the loader already registers jobs.
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from core.shared import Identified, RegistryError, Shared

log = logging.getLogger("mia.cron")


class BaseCronJob(Identified, ABC):
    """A job with a mia-style ``time`` pattern and a ``worker(self)`` function."""

    time: ClassVar[dict[str, str]] = {}
    is_suspended: ClassVar[bool] = False
    allowed_hosts: ClassVar[list[str]] = []
    environment: ClassVar[list[str]] = []
    max_instance_number_total: ClassVar[int] = 0
    max_instance_number_per_server: ClassVar[int] = 0
    force_run: bool = False

    @abstractmethod
    def worker(self) -> Any:
        """The job's work; its exception (if any) marks the run as failed."""


def run_once(names: list[str]) -> int:
    """Run the named jobs one after another, now; the exit code tells success."""
    jobs = []
    for name in names:
        try:
            jobs.append(Shared.crons(name))
        except RegistryError:
            known = sorted(identity for identity, _, _ in Shared.cron_registry.items())
            log.error("unknown cron job %r; known jobs: %s", name, ", ".join(known) or "none")
            return 2
    for job_class in jobs:
        job = job_class()
        job.force_run = True
        try:
            job.worker()
        except Exception:  # noqa: BLE001 - reported through the exit code
            log.exception("cron job %s failed", job_class.identity)
            return 1
        log.info("cron job %s finished", job_class.identity)
    return 0
