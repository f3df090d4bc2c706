"""Notifications: mail and push queued in MongoDB and delivered exactly once by a processor job.

What lives here: the manager API controllers and jobs queue with (``manager``), the queue collection
with its states, indexes and atomic lease-based claim (``queue``), one status document per send with
counts per platform (``status``), per-culture templates and ``[name]`` replacements (``templates``),
the project-config reading with secrets from the process environment (``settings``), the processor
that claims, delivers and records the outcome (``processor``, ``dispatch``) and the SMTP, APNs and FCM
connectors (``connectors/``). It may import the foundations (core.shared, core.errors,
core.translator, core.cron), core.validation and core.data, nothing above them: the generic lib
``generic-notificationManager`` and the jobs ``generic-notificationProcessor`` and
``generic-notificationCleanup`` in projects/generic wrap what is here.
"""
from core.notifications.manager import NotificationManager
from core.notifications.processor import Processor, cleanup

__all__ = ["NotificationManager", "Processor", "cleanup"]
