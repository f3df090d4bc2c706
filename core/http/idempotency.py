"""Idempotency keys (IETF httpapi ``Idempotency-Key``): a retried POST gets the first answer again.

Why: a flaky mobile network retries writes; without this a retry creates a second document. A route
opts in with ``"idempotent": True`` (or ``{"retention": "24h", "lockTimeout": 60, "required": False}``)
in its route file. The stage has two halves, both placed by :mod:`core.http.pipeline`:

* **claim** (a chain step, compiled at start-up right after the controllers that identify the caller,
  so a replay is never handed to someone who could not call the route): one ``insert_one`` whose
  ``_id`` is a digest of key + caller (device id, user id) decides, across every worker and server,
  who runs the chain. A duplicate finds the stored record: same method, path and body hash and an
  answer stored -> the answer again with ``Idempotency-Replayed: true`` (the rest of the chain does
  not run); another method, path or body -> 422 ``IdempotencyKeyMismatch``; still running -> 409
  ``IdempotencyKeyInUse`` with ``Retry-After``; its runner's lease ran out (the process died between
  the chain's write and the answer) -> one atomic update hands the key to this request, which runs
  the chain again (see README "Idempotent requests": at least once after a crash; a controller makes
  its write exactly-once with ``req.mia.idempotency.id``).
* **settle** (after the response is built): a 2xx-4xx answer is stored (status, the headers that
  describe the resource, the body bytes) until ``expires``; a 5xx or a streamed answer releases the key
  so the retry runs the chain again.

Collection ``idempotencyKeys``: ``{_id, key, scope, method, path, bodyHash, state: running|done, owner,
lockedUntil, created, expires, response: {status, headers: [[name, value]], body: <binary>}}`` with a
TTL index on ``expires`` (``expireAfterSeconds: 0``); readers also compare ``expires``.
"""
from __future__ import annotations

import hashlib
import math
import re
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Response

from core.errors import MiaError, StartupError
from core.http.chain import ChainStep
from core.shared import Shared

COLLECTION = "idempotencyKeys"
HEADER = "Idempotency-Key"
REPLAYED = "Idempotency-Replayed"
DEFAULT_RETENTION = 24 * 3600
DEFAULT_LOCK = 60
OPTIONS = {"retention", "lockTimeout", "required"}
_KEY = re.compile(r'^"?([\x21\x23-\x7e]{1,255})"?$')  # an sf-string (quoted) or a bare token, visible ASCII
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)?\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# What a replay must not repeat: hop-by-hop and per-request headers, and anything secret.
_NOT_STORED = frozenset({"date", "server", "content-length", "connection", "transfer-encoding", "set-cookie",
                         "timestamp", "x-request-id", "retry-after", "vary", "x-rate-limit-limit",
                         "x-rate-limit-remaining", "x-rate-limit-reset", REPLAYED.lower()})


@dataclass(frozen=True)
class Rule:
    """A route's compiled ``idempotent`` option."""

    retention: int = DEFAULT_RETENTION
    lock_timeout: int = DEFAULT_LOCK
    required: bool = False


def _seconds(value: Any, name: str, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _DURATION.match(str(value)) if isinstance(value, str) else None
    if match is None or int(match.group(1)) <= 0:
        raise StartupError(f"idempotent.{name} must be seconds or a duration like '24h', got {value!r}", where)
    return int(match.group(1)) * _UNITS[(match.group(2) or "s").lower()]


def compile_rule(spec: Any, where: str, label: str) -> Rule | None:
    """``idempotent`` of a route method (or its file) -> :class:`Rule`; a bad value stops start-up."""
    if spec is None or spec is False:
        return None
    if spec is True:
        return Rule()
    if not isinstance(spec, dict) or set(spec) - OPTIONS:
        raise StartupError(f"idempotent of {label} must be True or a dict with {', '.join(sorted(OPTIONS))}", where)
    return Rule(retention=_seconds(spec.get("retention", DEFAULT_RETENTION), "retention", where),
                lock_timeout=_seconds(spec.get("lockTimeout", DEFAULT_LOCK), "lockTimeout", where),
                required=spec.get("required") is True)


def with_idempotency(steps: list[ChainStep], rule: Rule | None, verb: str, where: str, label: str
                     ) -> list[ChainStep]:
    """The chain with the claim step after the last controller that identifies the caller.

    A controller identifies the caller when its class says ``authenticates = True`` or
    ``sets_session = True`` (generic-validateAccessKey, generic-validateJWT, generic-validateUserLogin).
    """
    if rule is None:
        return steps
    if verb not in ("POST", "PUT", "DELETE", "PATCH"):
        raise StartupError(f"idempotent applies to POST, PUT and DELETE routes, not {verb} ({label})", where)
    position = 0
    for index, step in enumerate(steps):
        if getattr(step.controller, "authenticates", False) or getattr(step.controller, "sets_session", False):
            position = index + 1
    template = steps[min(position, len(steps) - 1)]
    stage = Stage(rule)
    claim = replace(template, name="idempotency", function="claim", call=stage.claim, precondition=None,
                    index=template.index)
    return steps[:position] + [claim] + steps[position:]


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: Any) -> datetime:
    if isinstance(moment, datetime) and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)  # pymongo without tz_aware gives naive UTC
    return moment if isinstance(moment, datetime) else _now()


def collection() -> Any:
    """``idempotencyKeys`` of the default database, with its TTL index (created once per database)."""
    database = Shared.db()
    store = database[COLLECTION]
    if getattr(database, "_mia_idempotency_indexed", False) is not True:
        store.create_index([("expires", 1)], name="expires", expireAfterSeconds=0)
        try:
            database._mia_idempotency_indexed = True
        except AttributeError:  # a Database that refuses attributes: create_index is idempotent anyway
            pass
    return store


def caller_scope(req: Any) -> str:
    """Who the key belongs to: the verified device and the logged-in user, or ``anonymous``."""
    mia = req.mia
    device = (mia.device or {}).get("id") if isinstance(mia.device, dict) else None
    user = None
    if isinstance(mia.user_data, dict):
        user = mia.user_data.get("userId") or mia.user_data.get("_id")
    if user is None and isinstance(mia.session, dict):
        user = mia.session.get("sub") or mia.session.get("userId")
    return f"device:{device or '-'}|user:{user or '-'}" if (device or user) else "anonymous"


def parse_key(req: Any, rule: Rule) -> str | None:
    raw = req.headers.get(HEADER)
    if raw is None:
        if rule.required:
            raise MiaError(400, code="IdempotencyKeyMissing", msg=req.mia.translator(None, "IdempotencyKeyMissing"))
        return None
    match = _KEY.match(raw.strip())
    if match is None:
        raise MiaError(400, code="IdempotencyKeyInvalid", msg=req.mia.translator(None, "IdempotencyKeyInvalid"))
    return match.group(1)


@dataclass
class Claim:
    """This request's hold on a key (``req.mia.idempotency``): ``id`` is stable across retries."""

    id: str
    key: str
    owner: str
    retention: int
    replayed: bool = False


class Stage:
    """The claim step of one route (its rule compiled at start-up)."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule

    def claim(self, req: Any, res: Any) -> None:
        key = parse_key(req, self.rule)
        if key is None:
            return
        scope = caller_scope(req)
        record_id = hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest()
        body_hash = hashlib.sha256(bytes(req.mia.raw_body or b"")).hexdigest()
        now = _now()
        owner = secrets.token_hex(12)
        document = {"_id": record_id, "key": key, "scope": scope, "method": req.method, "path": req.path,
                    "bodyHash": body_hash, "state": "running", "owner": owner,
                    "lockedUntil": now + timedelta(seconds=self.rule.lock_timeout), "created": now,
                    "expires": now + timedelta(seconds=self.rule.retention)}
        claim = Claim(id=record_id, key=key, owner=owner, retention=self.rule.retention)
        if self._insert(document, now):
            req.mia.idempotency = claim
            return
        stored = collection().find_one({"_id": record_id})
        if stored is None or _aware(stored.get("expires")) <= now:  # gone meanwhile: one more try, then busy
            if self._insert(document, now):
                req.mia.idempotency = claim
                return
            stored = collection().find_one({"_id": record_id}) or document
        if (stored.get("method"), stored.get("path"), stored.get("bodyHash")) != (req.method, req.path, body_hash):
            raise MiaError(422, code="IdempotencyKeyMismatch", msg=req.mia.translator(None, "IdempotencyKeyMismatch"))
        if stored.get("state") == "done":
            replay(stored, req, res)
            return
        locked = _aware(stored.get("lockedUntil"))
        if locked <= now and self._take_over(stored, document, now):
            req.mia.idempotency = claim
            return
        wait = max(1, math.ceil((locked - now).total_seconds()))
        raise MiaError(409, code="IdempotencyKeyInUse", msg=req.mia.translator(None, "IdempotencyKeyInUse"),
                       headers={"Retry-After": str(wait)})

    @staticmethod
    def _insert(document: dict[str, Any], now: datetime) -> bool:
        """The one atomic claim: a new ``_id`` wins, or an expired record the TTL monitor left is taken over."""
        from pymongo.errors import DuplicateKeyError

        try:
            collection().insert_one(document)
            return True
        except DuplicateKeyError:
            taken = collection().replace_one({"_id": document["_id"], "expires": {"$lte": now}}, document)
            return taken.modified_count == 1

    @staticmethod
    def _take_over(stored: dict[str, Any], document: dict[str, Any], now: datetime) -> bool:
        """The runner died (its lease ran out without an answer): exactly one retry gets the key."""
        taken = collection().update_one(
            {"_id": stored["_id"], "state": "running", "owner": stored.get("owner"), "lockedUntil": {"$lte": now}},
            {"$set": {"owner": document["owner"], "lockedUntil": document["lockedUntil"]}})
        return taken.modified_count == 1


def replay(stored: dict[str, Any], req: Any, res: Any) -> None:
    """Send the stored answer; the headers the chain set so far (CORS, ``timestamp``) stay on top."""
    answer = stored.get("response") or {}
    response = Response(bytes(answer.get("body") or b""), status=int(answer.get("status") or 200))
    response.headers.clear()
    for name, value in answer.get("headers") or []:
        response.headers.add(name, value)
    response.headers[REPLAYED] = "true"
    req.mia.idempotency = Claim(id=stored["_id"], key=stored.get("key", ""), owner="", retention=0, replayed=True)
    res.send(response, status=response.status_code)


def settle(req: Any, response: Response) -> None:
    """After the answer is built: store it (2xx-4xx) for the retention, or release the key (5xx, streamed)."""
    claim = getattr(req.mia, "idempotency", None)
    if not isinstance(claim, Claim) or claim.replayed:
        return
    mine = {"_id": claim.id, "owner": claim.owner, "state": "running"}
    if response.status_code >= 500 or response.is_streamed or response.direct_passthrough:
        collection().delete_one(mine)
        return
    headers = [[name, value] for name, value in response.headers.items() if name.lower() not in _NOT_STORED]
    now = _now()
    collection().update_one(mine, {"$set": {
        "state": "done", "expires": now + timedelta(seconds=claim.retention), "settled": now,
        "response": {"status": response.status_code, "headers": headers, "body": response.get_data()}}})
