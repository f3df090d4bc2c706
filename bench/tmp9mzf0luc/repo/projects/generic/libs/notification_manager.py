"""generic-notificationManager: queue templated mail and push from any controller or job.

    Shared.libs("generic-notificationManager").mail(config_id="notification-templates", template="welcome",
        replacements={"name": "Ada"}).address("ada@example.com")

The API and the queue live in core.notifications (spec §6.1); the jobs in ../crons deliver.
"""
from __future__ import annotations

from core import Lib
from core.notifications import NotificationManager


class NotificationManagerLib(Lib, NotificationManager):
    identity = "generic-notificationManager"
    version = "1.0"
