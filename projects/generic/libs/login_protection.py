"""Account protection for logins (``generic-loginProtection``): lockout and the password policy.

Why: without a limit, an attacker tries passwords until one works. Failures are counted per login
(``acct``, whether or not the login exists, so the answer does not tell) and per client IP in the
``loginFailures`` collection: one document per counter, changed with atomic upserts, so every
worker and server sees the same counts (MongoDB or the embedded store; no memcached needed).
After ``lockout.maxFailures`` (per login) or ``lockout.maxFailuresPerIp`` failures within
``lockout.window`` seconds, logins answer 429 ``TooManyFailedLogins`` with ``Retry-After`` until
``lockout.duration`` has passed; a successful login clears its login's counter. Every failure
writes one log line (login, group, IP; never the password).
"""
from __future__ import annotations

import logging
import math
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from core import Lib, MiaError, Shared
from core.data.consistency import guarded_writes
from core.validation.coercion import parse_date

log = logging.getLogger("mia.generic.logins")
COLLECTION = "loginFailures"


def _settings() -> dict[str, Any]:
    return Shared.config("generic-identity.lockout") or {}


def _collection() -> Any:
    return guarded_writes(Shared.db()[COLLECTION])  # a failover must not undo a lockout


@lru_cache(maxsize=32)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _keys(group: Any, login: Any, ip: Any) -> list[tuple[str, int]]:
    settings = _settings()
    keys = [(f"acct|{group}|{str(login or '').lower()}", int(settings.get("maxFailures") or 5))]
    if ip:
        keys.append((f"ip|{ip}", int(settings.get("maxFailuresPerIp") or 50)))
    return keys


class LoginProtection(Lib):
    identity = "generic-loginProtection"
    version = "1.0"

    def check(self, group: Any, login: Any, ip: Any) -> None:
        """429 TooManyFailedLogins (with Retry-After) while the login or the IP is locked."""
        now = datetime.now(UTC)
        ids = [key for key, _limit in _keys(group, login, ip)]
        wait = 0.0
        for document in _collection().find({"_id": {"$in": ids}}):
            until = parse_date(document.get("lockedUntil"))
            if until is not None and until > now:
                wait = max(wait, (until - now).total_seconds())
        if wait > 0:
            raise MiaError(429, code="TooManyFailedLogins", headers={"Retry-After": str(max(1, math.ceil(wait)))})

    def failed(self, group: Any, login: Any, ip: Any) -> None:
        """Count one failure for the login and the IP; lock those that reached their limit."""
        from pymongo import ReturnDocument

        settings = _settings()
        now = datetime.now(UTC)
        window, duration = int(settings.get("window") or 900), int(settings.get("duration") or 900)
        log.warning("failed login for %r in group %s from %s", str(login)[:200], group, ip)
        collection = _collection()
        for key, limit in _keys(group, login, ip):
            collection.delete_one({"_id": key, "expires": {"$lte": now}})  # an old window starts over
            document = collection.find_one_and_update(
                {"_id": key}, {"$inc": {"count": 1}, "$setOnInsert": {"expires": now + timedelta(seconds=window)}},
                upsert=True, return_document=ReturnDocument.AFTER)
            if document and int(document.get("count") or 0) >= limit:
                until = now + timedelta(seconds=duration)
                collection.update_one({"_id": key}, {"$set": {"lockedUntil": until, "count": 0,
                                                              "expires": until}})
                log.warning("logins locked for %ss: %s", duration, key.split("|", 1)[0])
                Shared.libs("generic-auditTrail").record("login.lockout", login=login, scope=key.partition("|")[0])

    def succeeded(self, group: Any, login: Any) -> None:
        _collection().delete_one({"_id": _keys(group, login, None)[0][0]})

    @staticmethod
    def check_password(password: Any, *names: Any) -> None:
        """400 PasswordPolicy unless ``password`` meets ``generic-identity.passwordPolicy``."""
        policy = Shared.config("generic-identity.passwordPolicy") or {}
        ok = isinstance(password, str) and password.strip() != ""
        if ok:
            ok = int(policy.get("minLength") or 0) <= len(password) <= int(policy.get("maxLength") or 256)
        if ok and policy.get("pattern"):
            ok = _compiled(str(policy["pattern"])).search(password) is not None
        if ok and policy.get("notEqualLogin", True) is not False:
            ok = all(password.strip().lower() != str(n).strip().lower() for n in names if n)
        if not ok:
            raise MiaError(400, code="PasswordPolicy")

    def ensure_indexes(self) -> None:
        """A TTL index so old counters go away on MongoDB (the embedded store checks ``expires`` itself)."""
        _collection().create_index("expires", expireAfterSeconds=0)
