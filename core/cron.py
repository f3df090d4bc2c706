"""Cron jobs: the base class project crons subclass.

The scheduler, cross-server coordination and the ``cron=`` run mode arrive with the cron issue;
the loader already registers jobs by identity so route files and tools can list them.
"""
from __future__ import annotations

from typing import Any, ClassVar

from core.base import Identified


class BaseCronJob(Identified):
    """A job with a mia-style ``time`` pattern and a ``worker(self)`` function."""

    time: ClassVar[dict[str, str]] = {}
    is_suspended: ClassVar[bool] = False
    allowed_hosts: ClassVar[list[str]] = []
    environment: ClassVar[list[str]] = []
    max_instance_number_total: ClassVar[int] = 0
    max_instance_number_per_server: ClassVar[int] = 0

    def worker(self) -> Any:  # pragma: no cover - overridden by every job
        raise NotImplementedError
