"""v2 signature nonces already seen: collection ``accessKeyNonces``.

Used only when no memcached is configured (or it is down). ``_id`` is a digest of device id and
nonce, so a second insert of the same pair is a duplicate-key error; MongoDB's TTL monitor drops
old entries, and readers also compare ``expires`` because the embedded store has no TTL monitor.
"""
from __future__ import annotations

from datetime import datetime

from core import BaseModel

# Kept a little longer than the longest replay window (2 x 300 s): expiry is re-checked on read.
TTL_SECONDS = 900


class NonceModel(BaseModel):
    identity = "generic-nonce-model"
    version = "1.0"
    collection_name = "accessKeyNonces"
    data = {
        "created": {"type": datetime, "required": True,
                    "index": True, "indexOptions": {"expireAfterSeconds": TTL_SECONDS}},
        "expires": {"type": datetime, "required": True},
    }
