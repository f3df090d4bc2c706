"""Demo start-up: the demo secret and a device with a static key (spec §8.4). DEMO VALUES ONLY.

Both are published in mia.js's repository and this one: anyone can use them. They exist so that
``/demo-auth/v1`` can be tried at once (signed requests with the demo secret, or the header
``key: 9cd43d5622a2fa78b67b3412a2d8c614``). Seeded only where the environment sets ``allowDemo: True``
(local, test); production neither loads the demo project nor starts while these values are enabled
in its database (projects/generic/init/init.py).
"""
from __future__ import annotations

from datetime import UTC, datetime

from core import Shared

DEMO_SECRET = {"id": "91205b43c5144068ee9979b093925f77", "secret": "74168c7a1868ddeee3355fab9489914b",  # demo value
               "groups": ["demo"], "description": "demo secret (public, demo only)"}
DEMO_STATIC_KEY = "9cd43d5622a2fa78b67b3412a2d8c614"  # demo value: "Use key ... for protected api demo"


def init() -> None:
    if Shared.environment.get("allowDemo") is not True:  # the loader skips the demo then; belt and braces
        return
    secret = Shared.models("generic-secret-model")
    document = secret.validate({**DEMO_SECRET, "created": datetime.now(UTC)})
    secret.collection().update_one({"id": document["id"]}, {"$setOnInsert": document}, upsert=True)

    devices = Shared.models("generic-device-model")
    devices.collection().update_many({"access.key": DEMO_STATIC_KEY, "access.groups": {"$exists": False}},
                                     {"$set": {"access.groups": ["demo"]}})  # seeded by older versions
    if devices.collection().find_one({"access.key": DEMO_STATIC_KEY}) is None:
        device = devices.validate({
            "status": "active",
            "access": {"key": DEMO_STATIC_KEY, "cidr": ["0.0.0.0/0"], "groups": ["demo"]},  # the demo's routes only
            "session": {"cidr": ["0.0.0.0/0"], "expireable": False},
            "culture": {"code": "de-de"},
        })
        devices.collection().insert_one(device)
