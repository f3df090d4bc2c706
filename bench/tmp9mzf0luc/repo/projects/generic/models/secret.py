"""Client secrets: collection ``secrets`` (generic spec §1.6, §7.2).

A secret is shipped inside an app; its ``id`` travels in every signed key, the ``secret`` never
does. ``groups`` lists the route-file groups the secret may call.
"""
from __future__ import annotations

from datetime import UTC, datetime

from core import BaseModel

HEX32 = {"type": str, "minLength": 32, "maxLength": 32, "required": True, "unique": True, "convert": "lower"}


class SecretModel(BaseModel):
    identity = "generic-secret-model"
    version = "1.0"
    collection_name = "secrets"
    data = {
        "id": HEX32,
        "secret": HEX32,
        "groups": {"type": list, "subType": str, "convert": "lower"},
        "description": {"type": str},
        "enabled": {"type": bool, "default": True},
        "created": {"type": datetime, "default": lambda: datetime.now(UTC)},
    }
