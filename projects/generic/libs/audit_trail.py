"""The audit trail of security events (``generic-auditTrail``): who did what, when, from where.

Why: a security review asks who logged in, from which address, who changed a password or a key, and
who suspended a cron job. Data-change logs do not answer that; this collection does. One call records
one event: ``Shared.libs("generic-auditTrail").record("login.failure", req, login=...)``. Outside a
request (a cron job, the CLI) pass ``actor="cli:<who>"``; inside one, ``req`` (or Flask's current
request) gives the address, device, route and request id.

Collection ``auditTrail`` (model ``generic-auditEvent-model``), one flat document per event:
``{event, at, actor, userId, login, deviceId, keyId, ip, userAgent, requestId, method, path, group,
details, expires}``. ``details`` never holds a password, token, key, secret, hash, nonce or session:
fields with such names are dropped (:func:`scrub`), and no caller passes one. ``expires`` is ``at`` +
``generic-audit.retentionDays`` (TTL index). Recording never fails the request: a database error is
logged and the request goes on.

Key or secret use from a new address: :meth:`note_address` remembers every (key, address) pair in
``auditKnownAddresses`` (a unique ``_id``: one insert decides across workers) and records
``key.newAddress`` the first time a static key or an app secret is used from an address.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import OrderedDict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from threading import Lock
from typing import IO, Any, cast

from core import Lib, Shared

log = logging.getLogger("mia.generic.audit")
KNOWN_ADDRESSES = "auditKnownAddresses"
CONFIG_STATE = "auditConfigState"
EVENTS = {
    "login.success", "login.failure", "login.lockout", "user.signup", "user.delete",
    "password.change", "password.resetRequested", "password.reset",
    "session.revoke", "token.revoke", "token.reuse",
    "device.register", "device.remove", "device.attested", "device.attestationFailed",
    "key.newAddress",
    "cron.suspend", "cron.resume", "cron.run", "cron.stop", "config.change", "audit.export",
}
_EVENT = re.compile(r"^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)+$")  # project events: "shop.refund"
_SECRET_NAME = re.compile(r"pass|token|secret|key|hash|nonce|session|authorization|cookie|signature|otp|pin$",
                          re.IGNORECASE)
_FIELDS = ("actor", "userId", "login", "deviceId", "keyId", "ip", "userAgent", "requestId")


def scrub(value: Any, depth: int = 0) -> Any:
    """A copy without fields whose names say they hold a credential; strings cut at 500 characters."""
    if depth > 5:
        return None
    if isinstance(value, dict):
        return {str(k): scrub(v, depth + 1) for k, v in value.items() if not _SECRET_NAME.search(str(k))}
    if isinstance(value, (list, tuple)):
        return [scrub(v, depth + 1) for v in list(value)[:50]]
    if isinstance(value, str):
        return value[:500]
    if value is None or isinstance(value, (bool, int, float, datetime)):
        return value
    return str(value)[:500]


def _current_request() -> Any:
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover - flask is a dependency
        return None
    return cast(Any, request)._get_current_object() if has_request_context() else None


def _request_ip(req: Any) -> Any:
    """The client's address: the one the proxy rules resolved, else the socket's."""
    return getattr(getattr(req, "mia", None), "client_ip", None) or getattr(req, "remote_addr", None)


def _from_request(req: Any) -> dict[str, Any]:
    """What the request tells: address, agent, request id, route, the verified device and user."""
    mia = getattr(req, "mia", None)
    environ = getattr(req, "environ", {}) or {}
    found: dict[str, Any] = {"ip": _request_ip(req),
                             "userAgent": (environ.get("HTTP_USER_AGENT") or "")[:300] or None,
                             "requestId": environ.get("mia.request_id"), "method": getattr(req, "method", None),
                             "path": getattr(req, "path", None)}
    route = getattr(mia, "route", None)
    if route is not None:
        found["group"] = route.group
    device = getattr(mia, "device", None)
    if isinstance(device, dict) and device.get("id"):
        found["deviceId"] = device["id"]
    user = getattr(mia, "user_data", None)
    if isinstance(user, dict) and user.get("_id") is not None:
        found["userId"] = str(user["_id"])
        if user.get("login"):
            found["login"] = user["login"]
    session = getattr(mia, "session", None)
    if "login" not in found and isinstance(session, dict) and session.get("sub"):
        found["login"] = str(session["sub"])
    return found


class AuditTrail(Lib):
    identity = "generic-auditTrail"
    version = "1.0"

    def __init__(self) -> None:
        super().__init__()
        self._seen: OrderedDict[tuple[str, str, str], None] = OrderedDict()  # (kind, key, address) seen here
        self._lock = Lock()

    @staticmethod
    def model() -> Any:
        return Shared.models("generic-auditEvent-model")

    @staticmethod
    def retention() -> timedelta:
        return timedelta(days=float(Shared.config("generic-audit.retentionDays") or 180))

    # -- writing ------------------------------------------------------------------------------------
    def record(self, event: str, req: Any = None, *, details: dict[str, Any] | None = None,
               **fields: Any) -> dict[str, Any] | None:
        """Write one event; returns the stored document (None when the database refused it).

        ``fields`` are the schema's top-level names (``userId``, ``login``, ``deviceId``, ``keyId``,
        ``ip``, ``actor``, ...) and win over what ``req`` tells. Unknown names go into ``details``.
        """
        if event not in EVENTS and not _EVENT.match(event):
            raise ValueError(f"audit event names are dotted lower-camel words like 'login.failure', not {event!r}")
        req = req if req is not None else _current_request()
        now = datetime.now(UTC)
        document: dict[str, Any] = {"event": event, "at": now, "expires": now + self.retention()}
        if req is not None:
            document.update({k: v for k, v in _from_request(req).items() if v is not None})
        extra = dict(details or {})
        for name, value in fields.items():
            if name in _FIELDS or name in ("method", "path", "group"):
                if value is not None:
                    document[name] = str(value)[:300]
            else:
                extra[name] = value
        if extra:
            document["details"] = scrub(extra)
        try:
            self.model().collection().insert_one(document)
        except Exception:  # noqa: BLE001 - an audit write never turns a request into an error
            log.exception("audit event %s could not be written", event)
            return None
        return document

    def note_address(self, kind: str, key_id: str, req: Any = None, **fields: Any) -> bool:
        """Record ``key.newAddress`` the first time ``key_id`` (a secret id, a static key's device) is
        used from the request's address; True when the address was new."""
        req = req if req is not None else _current_request()
        ip = fields.pop("ip", None) or (_request_ip(req) if req is not None else None)
        if not ip:
            return False
        seen = (kind, str(key_id), str(ip))  # hashed only for the database: most calls stop here
        with self._lock:
            if seen in self._seen:
                self._seen.move_to_end(seen)
                return False
        pair = hashlib.sha256(f"{kind}\n{key_id}\n{ip}".encode()).hexdigest()
        from pymongo.errors import DuplicateKeyError

        now = datetime.now(UTC)
        try:
            Shared.db()[KNOWN_ADDRESSES].insert_one({"_id": pair, "kind": kind, "keyId": key_id, "ip": ip,
                                                     "first": now, "expires": now + self.retention()})
            new = True
        except DuplicateKeyError:
            new = False
        except Exception:  # noqa: BLE001 - the request goes on; the next one tries again
            log.exception("known addresses could not be read")
            return False
        with self._lock:
            self._seen[seen] = None
            if len(self._seen) > 10000:
                self._seen.popitem(last=False)
        if new:
            self.record("key.newAddress", req, keyId=key_id, ip=ip, kind=kind, **fields)
        return new

    def note_configuration(self, environment: dict[str, Any], mode: str | None = None) -> list[str]:
        """At start-up: record ``config.change`` naming the environment keys whose value changed since the
        last start of this environment (names only). One ``find_one_and_update`` swaps the fingerprints,
        so of several workers starting together exactly one records the change. Each fingerprint is 8 hex
        digits of a SHA-256: enough to see a change, too short to test guesses of a secret value against."""
        mode = mode or str(Shared.mode or "")
        prints = {str(k): hashlib.sha256(repr(v).encode()).hexdigest()[:8] for k, v in environment.items()
                  if "." not in str(k) and not str(k).startswith("$")}
        try:
            before = Shared.db()[CONFIG_STATE].find_one_and_update(
                {"_id": mode}, {"$set": {"keys": prints, "at": datetime.now(UTC)}}, upsert=True)
        except Exception:  # noqa: BLE001 - start-up goes on; the next start compares again
            log.exception("configuration fingerprints could not be written")
            return []
        if before is None:
            return []  # the first start of this environment: nothing to compare with
        old = before.get("keys") or {}
        changed = sorted(k for k in set(old) | set(prints) if old.get(k) != prints.get(k))
        if changed:
            self.record("config.change", actor="startup", mode=mode, changed=changed)
        return changed

    def ensure_indexes(self) -> None:
        """The TTL index of the known addresses (the events' indexes come from their model)."""
        Shared.db()[KNOWN_ADDRESSES].create_index("expires", expireAfterSeconds=0)

    def forget_addresses(self) -> None:
        """Drop this process's memory of known addresses (tests; the database stays the authority)."""
        with self._lock:
            self._seen.clear()

    # -- reading ------------------------------------------------------------------------------------
    @staticmethod
    def _filter(event: Any = None, since: datetime | None = None, until: datetime | None = None,
                user_id: Any = None, device_id: Any = None, ip: Any = None, login: Any = None) -> dict[str, Any]:
        flt: dict[str, Any] = {}
        if event:
            if isinstance(event, str) and event.endswith(".*"):
                flt["event"] = {"$regex": "^" + re.escape(event[:-1])}
            else:
                flt["event"] = {"$in": list(event)} if isinstance(event, (list, tuple)) else event
        moments: dict[str, Any] = {}
        if since is not None:
            moments["$gte"] = since
        if until is not None:
            moments["$lt"] = until
        if moments:
            flt["at"] = moments
        for name, value in (("userId", user_id), ("deviceId", device_id), ("ip", ip), ("login", login)):
            if value is not None:
                flt[name] = str(value)
        return flt

    def query(self, event: Any = None, since: datetime | None = None, until: datetime | None = None,
              user_id: Any = None, device_id: Any = None, ip: Any = None, login: Any = None,
              limit: int = 100, skip: int = 0) -> list[dict[str, Any]]:
        """Events newest first; ``event`` is a name, a list of names or a prefix like ``"login.*"``."""
        flt = self._filter(event, since, until, user_id, device_id, ip, login)
        cursor = self.model().collection().find(flt, {"expires": 0}).sort([("at", -1), ("_id", -1)])
        return [self.public(doc) for doc in cursor.skip(max(0, int(skip))).limit(max(1, min(int(limit), 1000)))]

    def iter_range(self, since: datetime, until: datetime, event: Any = None) -> Iterator[dict[str, Any]]:
        """Every event of ``[since, until)`` oldest first (for exports)."""
        flt = self._filter(event, since, until)
        for doc in self.model().collection().find(flt, {"expires": 0}).sort([("at", 1), ("_id", 1)]):
            yield self.public(doc)

    def export(self, since: datetime, until: datetime, out: IO[str], event: Any = None) -> int:
        """Write ``[since, until)`` as JSON lines to ``out``; returns the number of lines."""
        count = 0
        for line in self.export_lines(since, until, event):
            out.write(line)
            count += 1
        return count

    def export_lines(self, since: datetime, until: datetime, event: Any = None) -> Iterator[str]:
        for doc in self.iter_range(since, until, event):
            yield json.dumps(doc, separators=(",", ":"), sort_keys=True) + "\n"

    @staticmethod
    def public(doc: dict[str, Any]) -> dict[str, Any]:
        """A stored event as JSON-ready data: ``id`` instead of ``_id``, ISO dates."""
        out: dict[str, Any] = {"id": str(doc.get("_id"))}
        for name, value in doc.items():
            if name in ("_id", "expires"):
                continue
            out[name] = _jsonable(value)
        return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value
