"""Generic start-up: seed the ``generic`` secret and make sure the indexes identity relies on exist.

The unique index on ``devices.id`` is what turns an id collision into a retry, so it is created
here even where start-up indexing of new collections is switched off (idempotent).
"""
from __future__ import annotations

from datetime import UTC, datetime

from core import Shared

# mia.js's shipped generic secret (spec §1.6). Public knowledge: replace it in production by
# inserting your own secrets and disabling this one ({"enabled": False}).
GENERIC_SECRET = {"id": "6ff870ad33a86982550543e2f92623c5", "secret": "10f2bde9a138ef5aeed40812b0a1594b",
                  "groups": ["generic"], "description": "mia.js generic demo secret (public, replace it)"}


def seed_secret(values: dict) -> None:
    """Insert a secret unless one with that id exists (never overwrites an edited secret)."""
    secret = Shared.models("generic-secret-model")
    document = secret.validate({**values, "created": datetime.now(UTC)})
    secret.collection().update_one({"id": document["id"]}, {"$setOnInsert": document}, upsert=True)


def init() -> None:
    for identity in ("generic-device-model", "generic-secret-model", "generic-nonce-model"):
        model = Shared.models(identity)
        if hasattr(model, "ensure_indexes"):
            model.ensure_indexes()
    seed_secret(GENERIC_SECRET)
