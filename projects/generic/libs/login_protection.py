"""Account protection for logins (``generic-loginProtection``): lockout and the password policy.

Why: without a limit, an attacker tries passwords until one works, and with a check-then-count
limit 50 parallel guesses are all checked before the first failure is counted. So every attempt
*reserves* its place first: one ``find_one_and_update`` per counter that adds 1 only while the
count is below the limit (a counter at the limit makes the upsert collide on ``_id``: locked).
Only a reserved attempt checks a password, so at most ``lockout.maxFailures`` hashes per login
(``acct``, whether or not the login exists, so the answer does not tell) and
``lockout.maxFailuresPerIp`` per client IP are computed per ``lockout.window``; everything else
answers 429 ``TooManyFailedLogins`` with ``Retry-After`` at once, the right password too. A failed
attempt keeps its place (a counter that reached its limit lives on for ``lockout.duration``); a successful
one clears its login's counter and gives the IP's place back; an attempt that ended otherwise
(503, 500) gives both back. Counters are documents of ``loginFailures`` shared by every worker
and server (MongoDB or the embedded store). Every failure writes one log line (login, group, IP;
never the password).

Every login path goes through ``guard``: generic-users (device login, password reset), the JWT
login of a project (demo-jwtLogin), third-party logins (generic-fbLoginProvider).
"""
from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

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
    """The counters of an attempt: its login (unless the path has none, e.g. a token) and its IP."""
    settings = _settings()
    keys = []
    if login is not None:
        keys.append((f"acct|{group}|{str(login).lower()}", int(settings.get("maxFailures") or 5)))
    if ip:
        keys.append((f"ip|{ip}", int(settings.get("maxFailuresPerIp") or 50)))
    return keys


def request_ip() -> str | None:
    """The client IP of the request being served (for libs called without ``req``)."""
    from flask import has_request_context, request

    if not has_request_context():
        return None
    return getattr(getattr(request, "mia", None), "client_ip", None) or request.remote_addr


@dataclass
class Attempt:
    """One reserved login attempt: what it is for and which counters hold a place for it."""

    group: Any
    login: Any
    ip: Any
    keys: list[tuple[str, int]] = field(default_factory=list)


class LoginProtection(Lib):
    identity = "generic-loginProtection"
    version = "1.0"
    request_ip = staticmethod(request_ip)

    def reserve(self, group: Any, login: Any, ip: Any) -> Attempt:
        """A place for one attempt in every counter, or 429 TooManyFailedLogins (nothing reserved)."""
        now = datetime.now(UTC)
        window = timedelta(seconds=int(_settings().get("window") or 900))
        collection, attempt = _collection(), Attempt(group, login, ip)
        for key, limit in _keys(group, login, ip):
            collection.delete_one({"_id": key, "expires": {"$lte": now}})  # an old window starts over
            try:
                reserved = collection.find_one_and_update(
                    {"_id": key, "count": {"$lt": limit}},
                    {"$inc": {"count": 1}, "$setOnInsert": {"expires": now + window}},
                    upsert=True, return_document=ReturnDocument.AFTER)
            except DuplicateKeyError:  # the counter exists and is at its limit
                reserved = None
            if reserved is None:
                self.release(attempt)
                raise self._locked(key, now)
            attempt.keys.append((key, limit))
        return attempt

    @staticmethod
    def _locked(key: str, now: datetime) -> MiaError:
        document = _collection().find_one({"_id": key}) or {}
        until = parse_date(document.get("expires"))
        wait = (until - now).total_seconds() if until is not None else 1.0
        return MiaError(429, code="TooManyFailedLogins", headers={"Retry-After": str(max(1, math.ceil(wait)))})

    def failed(self, attempt: Attempt, what: str = "login") -> None:
        """The attempt failed: it keeps its place; a counter at its limit stays locked for ``duration``."""
        now = datetime.now(UTC)
        duration = int(_settings().get("duration") or 900)
        log.warning("failed %s for %r in group %s from %s", what, str(attempt.login)[:200], attempt.group,
                    attempt.ip)
        for key, limit in attempt.keys:
            locked = _collection().update_one({"_id": key, "count": {"$gte": limit}},
                                              {"$set": {"expires": now + timedelta(seconds=duration)}})
            if locked.matched_count:
                log.warning("logins locked for %ss: %s", duration, key.split("|", 1)[0])
                Shared.libs("generic-auditTrail").record("login.lockout", login=attempt.login,
                                                         scope=key.partition("|")[0])
        attempt.keys = []

    def succeeded(self, attempt: Attempt) -> None:
        """Right credentials: the login's failures are forgiven, the IP's place is given back."""
        for key, _limit in attempt.keys:
            if key.startswith("acct|"):
                _collection().delete_one({"_id": key})
        attempt.keys = [(k, limit) for k, limit in attempt.keys if not k.startswith("acct|")]
        self.release(attempt)

    @staticmethod
    def release(attempt: Attempt) -> None:
        """The attempt did not test the credentials after all (busy, error): give its places back."""
        for key, _limit in attempt.keys:
            _collection().update_one({"_id": key, "count": {"$gt": 0}}, {"$inc": {"count": -1}})
        attempt.keys = []

    @contextmanager
    def guard(self, group: Any, login: Any, ip: Any, what: str = "login") -> Iterator[Attempt]:
        """``with protection.guard(group, login, ip): <check the credentials>``.

        Reserves first (429 when locked); a 401 raised inside counts as a failure, a normal end as
        a success, any other error gives the place back.
        """
        attempt = self.reserve(group, login, ip)
        try:
            yield attempt
        except MiaError as err:
            if err.status == 401:
                self.failed(attempt, what)
            else:
                self.release(attempt)
            raise
        except BaseException:
            self.release(attempt)
            raise
        self.succeeded(attempt)

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
