"""Generic start-up: the indexes identity relies on, and the published demo credentials.

Where the environment sets ``allowDemo: True`` (local, test) mia.js's published ``generic`` secret
is seeded. Everywhere else start-up stops while a published secret or static key is enabled in the
database: they are public, so they prove nothing.

The unique index on ``devices.id`` is what turns an id collision into a retry, so it is created
here even where start-up indexing of new collections is switched off (idempotent).
"""
from __future__ import annotations

from datetime import UTC, datetime

from core import Shared
from core.errors import StartupError

# mia.js's shipped generic secret (spec §1.6). Public knowledge: replace it in production by
# inserting your own secrets and disabling this one ({"enabled": False}).
GENERIC_SECRET = {"id": "6ff870ad33a86982550543e2f92623c5", "secret": "10f2bde9a138ef5aeed40812b0a1594b",
                  "groups": ["generic"], "description": "mia.js generic demo secret (public, replace it)"}


def seed_secret(values: dict) -> None:
    """Insert a secret unless one with that id exists (never overwrites an edited secret)."""
    secret = Shared.models("generic-secret-model")
    document = secret.validate({**values, "created": datetime.now(UTC)})
    secret.collection().update_one({"id": document["id"]}, {"$setOnInsert": document}, upsert=True)


# Every key and secret published in mia.js's or this repository (demo values): never valid in production.
PUBLISHED_SECRET_IDS = [GENERIC_SECRET["id"], "91205b43c5144068ee9979b093925f77"]  # generic, demo
PUBLISHED_STATIC_KEYS = ["9cd43d5622a2fa78b67b3412a2d8c614"]  # the demo's static key


def refuse_published_credentials() -> None:
    """Stop start-up while a published demo secret or key is enabled in this (non-demo) environment's database."""
    secrets = Shared.models("generic-secret-model").collection()
    devices = Shared.models("generic-device-model").collection()
    found = [f"secret {d['id']}" for d in secrets.find({"id": {"$in": PUBLISHED_SECRET_IDS},
                                                        "enabled": {"$ne": False}})]
    found += [f"static key of device {d.get('id')}" for d in devices.find(
        {"access.key": {"$in": PUBLISHED_STATIC_KEYS}, "status": {"$ne": "disabled"}})]
    if found:
        raise StartupError(
            f"published demo credentials are enabled in the database: {', '.join(found)}. Anyone can use "
            "them. Disable them (secrets: {\"enabled\": False}; devices: {\"status\": \"disabled\"}) or "
            "delete them; only development environments may set allowDemo: True", __file__)


def init() -> None:
    for identity in ("generic-device-model", "generic-secret-model", "generic-nonce-model", "generic-auditEvent-model"):
        model = Shared.models(identity)
        if hasattr(model, "ensure_indexes"):
            model.ensure_indexes()
    Shared.libs("generic-loginProtection").ensure_indexes()
    Shared.libs("generic-auditTrail").ensure_indexes()
    Shared.libs("generic-auditTrail").note_configuration(Shared.environment)  # config.change: key names only
    if Shared.environment.get("allowDemo") is True:
        seed_secret(GENERIC_SECRET)
    else:
        refuse_published_credentials()
