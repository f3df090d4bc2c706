"""What route options add to an operation of the OpenAPI document: idempotency keys (``idempotent``).

Kept apart from :mod:`core.app.docs.openapi` so each option's documentation sits in one place.
"""
from __future__ import annotations

from typing import Any

from core.http.idempotency import HEADER, REPLAYED
from core.startup.routes import RouteMethod

IDEMPOTENCY_ERRORS: dict[int, list[str]] = {
    400: ["IdempotencyKeyInvalid", "IdempotencyKeyMissing"],
    409: ["IdempotencyKeyInUse"],
    422: ["IdempotencyKeyMismatch"],
}


def idempotency_parameter(route: RouteMethod) -> dict[str, Any] | None:
    """The ``Idempotency-Key`` request header of an ``idempotent`` route."""
    rule = route.idempotency
    if rule is None:
        return None
    return {"in": "header", "name": HEADER, "required": rule.required,
            "description": f"A unique key per intended write (IETF httpapi Idempotency-Key, e.g. a UUID). A retry "
                           f"with the same key and request within {rule.retention} s gets the first answer again "
                           f"with `{REPLAYED}: true`; the chain does not run twice.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 257, "pattern": r'^"?[\x21\x23-\x7e]+"?$'}}


def add_idempotency(route: RouteMethod, merged: dict[int, list[str]]) -> None:
    """The refusals an ``idempotent`` route adds to its responses."""
    if route.idempotency is None:
        return
    for status, codes in IDEMPOTENCY_ERRORS.items():
        target = merged.setdefault(status, [])
        target.extend(code for code in codes if code not in target)


def idempotency_headers(route: RouteMethod, responses: dict[str, Any]) -> None:
    """``Idempotency-Replayed`` on every stored answer, ``Retry-After`` on the 409."""
    if route.idempotency is None:
        return
    replayed = {REPLAYED: {"description": "`true` when this is the stored answer of an earlier request with "
                                          "the same Idempotency-Key", "schema": {"type": "string", "enum": ["true"]}}}
    for status, entry in responses.items():
        if status.isdigit() and int(status) < 500 and status != "422":
            entry.setdefault("headers", {}).update(replayed)
    if "409" in responses:
        responses["409"].setdefault("headers", {})["Retry-After"] = {
            "description": "Seconds until the first request's lease ends", "schema": {"type": "integer"}}
