"""The generic clean-up jobs (generic spec §6.5), under mia.js's identities and schedules (time zone CET).

Each runs on one server at a time (``max_instance_number_total = 1``). Their presets are written to
``cronJobExecution`` on the first start; edit that document to change a schedule on every server.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core import BaseCronJob, Shared

HOUR = 3600
DAY = 24 * HOUR


def _now() -> datetime:
    return datetime.now(UTC)


class RemoveDevices(BaseCronJob):
    """Deletes devices that never became active within an hour, and any device untouched for a year."""

    identity = "generic-removeDevices"
    time = {"second": "0", "minute": "0", "hour": "0-23/2", "dayOfMonth": "*", "month": "*", "dayOfWeek": "*",
            "timezone": "CET"}
    max_instance_number_total = 1
    max_instance_number_per_server = 1

    def worker(self) -> int:
        now = _now()
        result = Shared.models("generic-device-model").collection().delete_many({"$or": [
            {"status": "inactive", "lastModified": {"$lte": now - timedelta(hours=1)}},
            {"lastModified": {"$lte": now - timedelta(days=365)}},
        ]})
        if result.deleted_count:
            Shared.libs("generic-auditTrail").record("device.remove", actor=f"cron:{self.identity}",
                                                     count=int(result.deleted_count), reason="inactive or unused")
        return int(result.deleted_count)


class RemoveSessions(BaseCronJob):
    """Ends the deprecated device sessions (generic-generateSession) older than their lifetime.

    mia.js meant to do this every minute after 10 minutes but compared a number with a date, so
    sessions never expired. Here: devices whose ``session.expireable`` is not False and whose
    ``session.created`` is older than ``generic-identity.tokenLifetimes.session`` seconds (600) lose
    ``session.id``, ``session.created`` and ``session.cidr``; their ``session`` header then answers
    403 SessionTokenNotValid. Non-expireable sessions are left alone. It also removes the user logins
    past ``generic-identity.loginLifetime`` (idle or absolute; generic-userSessions), which are already
    refused at request time."""

    identity = "generic-removeSessions"
    time = {"second": "0", "minute": "*", "hour": "*", "dayOfMonth": "*", "month": "*", "dayOfWeek": "*",
            "timezone": "CET"}
    max_instance_number_total = 1
    max_instance_number_per_server = 1

    def worker(self) -> int:
        lifetime = int(Shared.config("generic-identity.tokenLifetimes.session") or 600)
        result = Shared.models("generic-device-model").collection().update_many(
            {"session.expireable": {"$ne": False}, "session.created": {"$lte": _now() - timedelta(seconds=lifetime)}},
            {"$unset": {"session.id": "", "session.created": "", "session.cidr": ""}})
        logins = Shared.libs("generic-userSessions").remove_expired_logins()  # loginLifetime: idle and absolute
        return int(result.modified_count) + int(logins)


class RemoveUserAccounts(BaseCronJob):
    """Deletes user accounts for good: those marked ``deleted`` (mia.js: deleteAccount, invalidateUser)
    and native sign-ups that were never validated before their deadline.

    The deadline is ``generic-identity.accountValidationDeadline`` seconds after the account's
    validation token was issued (default: the validate token's lifetime, after which it can no
    longer be validated); None keeps unvalidated accounts (mia.js). Accounts with a third-party
    login or any validated email are never removed by the deadline."""

    identity = "generic-removeUserAccounts"
    time = {"second": "0", "minute": "*", "hour": "*", "dayOfMonth": "*", "month": "*", "dayOfWeek": "*",
            "timezone": "CET"}
    max_instance_number_total = 1
    max_instance_number_per_server = 1

    def worker(self) -> int:
        users = Shared.models("generic-user-model").collection()
        removed = int(users.delete_many({"status": "deleted"}).deleted_count)
        deadline = self.deadline()
        if deadline is None:
            return removed
        cutoff = _now() - timedelta(seconds=deadline)
        candidates = users.find({"status": {"$ne": "deleted"}, "validated": {"$ne": True},
                                 "messaging.inspectTokens.validateToken.tokenIssueDate": {"$lte": cutoff}},
                                {"messaging": 1, "thirdParty": 1})
        expired = [doc["_id"] for doc in candidates if _past_deadline(doc, cutoff)]
        if expired:
            removed += int(users.delete_many({"_id": {"$in": expired}, "validated": {"$ne": True}}).deleted_count)
        return removed

    @staticmethod
    def deadline() -> int | None:
        configured = Shared.config("generic-identity")
        if configured is not None and hasattr(configured, "accountValidationDeadline"):
            value = configured.accountValidationDeadline
            return None if value is None else int(value)
        return int(Shared.config("generic-identity.tokenLifetimes.validate") or 14 * DAY)


def _past_deadline(user: dict[str, Any], cutoff: datetime) -> bool:
    if user.get("thirdParty"):
        return False
    entries = user.get("messaging") or []
    if not entries or any(entry.get("validated") is True for entry in entries):
        return False
    issued = [((entry.get("inspectTokens") or {}).get("validateToken") or {}).get("tokenIssueDate")
              for entry in entries]
    return all(isinstance(when, datetime) and _aware(when) <= cutoff for when in issued)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
