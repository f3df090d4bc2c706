"""Health for load balancers and orchestrators: liveness and readiness, answered before routing.

* ``GET /_mia/health/live``: the process runs and answers (``{"process": "up"}``, always 200). A
  liveness probe that fails restarts the process, so it checks nothing outside it.
* ``GET /_mia/health/ready``: 200 while the database answers; 503 when it does not. memcached is
  reported (``ok``, ``unavailable``; ``local`` without one) but makes the instance not ready only
  with ``memcached.required: True``: every request still answers during a cache outage (``Cached``
  calls its function, rate limits are not enforced), so pulling every instance from the load
  balancer would turn a cache outage into a service outage. Set ``required`` where unenforced rate
  limits are worse than no service.
* ``GET /_mia/health``: the same answer as ``ready`` (what load balancers were pointed at before).

No answer carries URLs, hosts or secrets; every answer is ``Cache-Control: no-store``.
"""
from __future__ import annotations

import json
import logging
from typing import Any

HEALTH_PATH = "/_mia/health"
LIVE_PATH = HEALTH_PATH + "/live"
READY_PATH = HEALTH_PATH + "/ready"
PATHS = frozenset((HEALTH_PATH, LIVE_PATH, READY_PATH))
log = logging.getLogger("mia.health")


def environment_of(app: Any) -> dict[str, Any]:
    databases = app.config.get("mia.databases")
    return dict(getattr(databases, "environment", None) or {})


def memcached_required(app: Any) -> bool:
    return (environment_of(app).get("memcached") or {}).get("required") is True


def database_state(app: Any) -> str:
    """``ok``, ``embedded`` (in this process: up while the process is), ``none`` or ``unavailable``."""
    databases = app.config.get("mia.databases")
    try:
        if databases is None:
            return "none"
        if databases.mode() == "embedded":
            return "embedded"
        databases.client().admin.command("ping")
        return "ok"
    except Exception:  # noqa: BLE001 - any failure means unreachable; details stay in the log
        log.warning("database unreachable", exc_info=True)
        return "unavailable"


def cache_state(app: Any) -> str:
    """``ok`` (memcached answers), ``local`` (in-process cache, none configured) or ``unavailable``."""
    backend = app.config.get("mia.cache")
    if backend is None or getattr(backend, "kind", "") != "memcached":
        return "local"
    try:
        backend.get("mia-health-check")
        return "ok"
    except Exception:  # noqa: BLE001
        log.warning("cache unreachable", exc_info=True)
        return "unavailable"


def readiness(app: Any) -> tuple[int, dict[str, Any]]:
    """``(status, body)`` for ``/_mia/health/ready`` and ``/_mia/health``."""
    checks = {"database": database_state(app), "cache": cache_state(app)}
    failing = ["database"] if checks["database"] == "unavailable" else []
    if checks["cache"] == "unavailable" and memcached_required(app):
        failing.append("cache")
    status = 503 if failing else 200
    body: dict[str, Any] = {"status": status, "response": checks}
    if failing:
        body["errors"] = [{"code": "ServiceUnavailable", "msg": f"{name} unreachable"} for name in failing]
    return status, body


def answer(app: Any, path: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """The WSGI status line, headers and body for one of :data:`PATHS`."""
    if path == LIVE_PATH:
        code, body = 200, {"status": 200, "response": {"process": "up"}}
    else:
        code, body = readiness(app)
    data = json.dumps(body).encode()
    return (f"{code} {'OK' if code == 200 else 'Service Unavailable'}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(data))), ("Cache-Control", "no-store")],
            data)


def describe_cache(app: Any) -> str:
    """The start-up summary's line about the cache and its state now."""
    settings = environment_of(app).get("memcached") or {}
    state = cache_state(app)
    if state == "local":
        return "mia: cache: in-process (no memcached configured; each process counts rate limits alone)"
    servers = settings.get("servers")
    where = servers if isinstance(servers, str) else ",".join(
        ":".join(map(str, item)) if isinstance(item, (list, tuple)) else str(item) for item in servers or [])
    required = settings.get("required") is True
    if state == "ok":
        return f"mia: cache: memcached at {where} (reachable{', required' if required else ''})"
    if required:
        return f"mia: cache: memcached at {where} (UNREACHABLE, required: /_mia/health/ready answers 503 until it is)"
    return (f"mia: cache: memcached at {where} (UNREACHABLE now: requests still answer, Cached calls its "
            "function and rate limits are not enforced until it is back)")
