"""CORS for route files that declare ``corsHeaders`` (spec §2.10).

Configured headers are set as given; ``Access-Control-Allow-Origin: *`` echoes the request's
Origin, except with ``Access-Control-Allow-Credentials: true``: then ``*`` stays a literal ``*`` and
credentials are dropped (browsers refuse them for ``*``; reflecting any Origin with credentials would
let every site read a user's answers). For credentials, list the origins:
``"Access-Control-Allow-Origin": ["https://app.example"]`` answers a listed Origin only.
``Access-Control-Allow-Methods`` is the request's verb, and a preflight OPTIONS answers 204 with
``GET, POST, PUT, DELETE, OPTIONS`` before anything else runs.
"""
from __future__ import annotations

from typing import Any

from werkzeug.datastructures import Headers

PREFLIGHT_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
CACHE_SIZE = 256  # answers kept per route; a flood of made-up Origins only empties and refills it


def _credentials(configured: dict[str, Any]) -> bool:
    value = next((v for k, v in configured.items() if k.lower() == "access-control-allow-credentials"), None)
    return value is True or str(value).lower() == "true"


def cors_headers(configured: dict[str, Any], origin: str | None, verb: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    credentials = _credentials(configured)
    for name, value in configured.items():
        lower = name.lower()
        if lower == "access-control-allow-origin" and isinstance(value, (list, tuple)):
            headers["Vary"] = "Origin"
            if origin and origin in value:
                headers[name] = origin
            else:
                credentials = False  # no origin granted: no credentials either
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, (str, int, float)):
            continue
        value = str(value)
        if lower == "access-control-allow-origin" and value == "*" and origin:
            if credentials:
                credentials = False  # "*" with credentials: never reflect the Origin
            else:
                value = origin
                headers["Vary"] = "Origin"
        if lower in ("access-control-allow-methods", "access-control-allow-credentials"):
            continue
        headers[name] = value
    if credentials:
        headers["Access-Control-Allow-Credentials"] = "true"
    headers["Access-Control-Allow-Methods"] = PREFLIGHT_METHODS if verb == "OPTIONS" else verb
    return headers


def cached_headers(configured: dict[str, Any], answers: dict[tuple[str | None, str], tuple[dict[str, str], bool]],
                   origin: str | None, verb: str) -> tuple[dict[str, str], bool]:
    """:func:`cors_headers` kept in the route's ``answers`` per ``(Origin, verb)``, and whether the names
    differ even in case (then adding them is setting them). Callers must not change the returned dict."""
    answer = answers.get((origin, verb))
    if answer is None:
        headers = cors_headers(configured, origin, verb)
        Headers(headers)  # werkzeug's value check (no newline in a reflected Origin), once per answer
        answer = (headers, len({name.lower() for name in headers}) == len(headers))
        if len(answers) >= CACHE_SIZE:
            answers.clear()
        answers[(origin, verb)] = answer
    return answer
