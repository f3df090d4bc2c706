"""Consistency choices on MongoDB: which deployment this is, which writes wait for a majority, where reads go.

Why a module of its own: these are decisions about MongoDB's semantics (write concern, read
preference, what ``hello`` says the deployment offers), used by the models, the cron slots, the
notification claims, the index builds, the broadcast bus and the request pipeline alike.
"""
from __future__ import annotations

import weakref
from contextvars import ContextVar
from typing import Any

from core.shared import Shared

# The environment's ``mongo`` section (shown by ``server.py ENV config``, overridable there):
# readPreference: every read goes to the primary (a URL's readPreference=secondary* no longer makes
#   ETags and cron reaping stale); a route opts in with its ``readPreference`` key.
# guardedWriteConcern: writes that guard security or coordination (nonces, refresh tokens, lockouts,
#   cron slots and leases, notification claims) wait for a majority, so a failover cannot undo them.
MONGO_DEFAULTS: dict[str, Any] = {
    "readPreference": "primary",
    "guardedWriteConcern": {"w": "majority", "wtimeout": 10000},
    "indexBuildTimeout": 3600,
    "commitQuorum": "votingMembers",
}
READ_MODES = ("primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest")


def mongo_settings(environment: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``mongo`` section of the environment over :data:`MONGO_DEFAULTS`."""
    env = environment if environment is not None else (getattr(Shared, "environment", None) or {})
    return {**MONGO_DEFAULTS, **(env.get("mongo") or {})}


def guarded_writes(collection: Any) -> Any:
    """``collection`` with the guarded write concern (``mongo.guardedWriteConcern``, majority by default).

    For writes another process must never see undone after a failover: nonces, refresh tokens,
    lockouts, cron slots and leases, notification claims. Models declare it with ``guarded = True``."""
    from pymongo import WriteConcern

    concern = mongo_settings().get("guardedWriteConcern") or {}
    return collection.with_options(write_concern=WriteConcern(**concern))


# The read preference a route opted into (its ``readPreference`` key), set by core.http.pipeline for
# the request; None: the client's (primary). Model reads (core.data.models) follow it.
ROUTE_READ_PREFERENCE: ContextVar[str | None] = ContextVar("mia_route_read_preference", default=None)


def read_from(collection: Any, mode: str | None = None) -> Any:
    """``collection`` reading with ``mode`` (default: the route's opt-in), or as it is for the primary."""
    mode = mode if mode is not None else ROUTE_READ_PREFERENCE.get()
    if not mode or mode == "primary":
        return collection
    from pymongo.read_preferences import make_read_preference, read_pref_mode_from_name

    return collection.with_options(read_preference=make_read_preference(read_pref_mode_from_name(mode), None))


_DEPLOYMENTS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def deployment(client: Any) -> str:
    """``embedded``, ``standalone``, ``replicaSet`` or ``sharded``, from the server's ``hello`` (asked once
    per client): change streams, ``commitQuorum`` and retryable writes need one of the last two."""
    if type(client).__module__.startswith("mongomock"):
        return "embedded"
    known = _DEPLOYMENTS.get(client)
    if known is None:
        hello = client.admin.command("hello")
        known = "sharded" if hello.get("msg") == "isdbgrid" else "replicaSet" if hello.get("setName") else "standalone"
        _DEPLOYMENTS[client] = known
    return known
