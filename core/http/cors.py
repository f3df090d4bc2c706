"""CORS for route files that declare ``corsHeaders`` (spec §2.10).

Configured headers are set as given; ``Access-Control-Allow-Origin: *`` echoes the request's
Origin; ``Access-Control-Allow-Methods`` is the request's verb, and a preflight OPTIONS answers
204 with ``GET, POST, PUT, DELETE, OPTIONS`` before anything else runs.
"""
from __future__ import annotations

from typing import Any

PREFLIGHT_METHODS = "GET, POST, PUT, DELETE, OPTIONS"


def cors_headers(configured: dict[str, Any], origin: str | None, verb: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in configured.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, (str, int, float)):
            continue
        value = str(value)
        if name.lower() == "access-control-allow-origin" and value == "*" and origin:
            value = origin
            headers["Vary"] = "Origin"
        if name.lower() == "access-control-allow-methods":
            continue
        headers[name] = value
    headers["Access-Control-Allow-Methods"] = PREFLIGHT_METHODS if verb == "OPTIONS" else verb
    return headers
