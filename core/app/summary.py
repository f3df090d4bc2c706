"""What the server says at start-up: environment, database mode, the cache and its state, every route.

``server.py <env> routes`` prints the same route table without starting anything.
"""
from __future__ import annotations

from flask import Flask

from core.app.health import describe_cache
from core.startup.loader import LoadResult
from core.startup.routes import RouteMethod


def route_table(routes: list[RouteMethod]) -> list[tuple[str, str, str, str]]:
    """(method, path, hosts, identity) rows for the start-up summary and ``server.py routes``; a
    WebSocket route's method is ``WS``."""
    return [("WS" if r.is_websocket else r.verb, r.path, ",".join(r.host_ids), r.info.identity or "-")
            for r in routes]


def format_route_table(routes: list[RouteMethod], indent: str = "") -> list[str]:
    """The rows of :func:`route_table` as aligned text lines, like ``flask routes``."""
    rows = route_table(routes)
    width = max((len(path) for _, path, _, _ in rows), default=10)
    return [f"{indent}{verb:<7}{path:<{width + 2}}{hosts:<10}{identity}" for verb, path, hosts, identity in rows]


def summary(app: Flask) -> str:
    """Human-readable start-up summary: environment, database mode and every mounted route."""
    routes: list[RouteMethod] = app.config["mia.routes"]
    loaded: LoadResult = app.config["mia.loaded"]
    databases = app.config["mia.databases"]
    lines = [f"mia: environment '{app.config['mia.mode']}', projects: {', '.join(loaded.projects)}"]
    if databases.mode() == "embedded":
        lines.append("mia: DATABASE: embedded in-process store (no MongoDB URL configured; single process, "
                     "set MIA_MONGO_URL to use a real MongoDB)")
    else:
        lines.append("mia: database: MongoDB at the configured URL")
    lines.append(describe_cache(app))
    lines.append(f"mia: {len(routes)} routes mounted")
    lines += format_route_table(routes, indent="  ")
    lines += [f"mia: {line}" for line in app.config.get("mia.notes") or []]
    lines += [f"mia: WARNING: {line}" for line in app.config.get("mia.warnings") or []]
    return "\n".join(lines)
