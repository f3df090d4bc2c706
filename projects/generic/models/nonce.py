"""v2 signature nonces already seen: collection ``accessKeyNonces``.

The collection always decides whether a nonce was seen (memcached, when configured, only refuses
repeats quickly). ``_id`` is a digest of device id and nonce, so a second insert of the same pair is
a duplicate-key error. MongoDB's TTL monitor drops an entry at its own ``expires`` time (a TTL index
with ``expireAfterSeconds: 0``), so a longer ``accessKey.window`` never drops nonces early; readers
also compare ``expires`` because the embedded store has no TTL monitor.
"""
from __future__ import annotations

from datetime import datetime

from core import BaseModel


class NonceModel(BaseModel):
    identity = "generic-nonce-model"
    version = "1.0"
    collection_name = "accessKeyNonces"
    guarded = True  # majority write concern: a failover must not undo it (core.data.models)
    data = {
        "created": {"type": datetime, "required": True},
        "expires": {"type": datetime, "required": True, "index": True, "indexOptions": {"expireAfterSeconds": 0}},
    }
