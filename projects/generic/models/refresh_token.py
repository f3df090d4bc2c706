"""Refresh tokens of JWT sessions: collection ``jwtRefreshTokens``.

``_id`` is the SHA-256 of the token (the token itself is never stored). Every token belongs to a
``family``: the chain of tokens rotated from one login. ``status`` is ``active`` until the token is
used once (``used``); reusing a used token revokes the whole family (``revoked``). ``familyStarted``
is the family's login time (its absolute end is that plus ``refreshTokenLifetime``); ``userId`` and
``epoch`` tie the token to a generic-users account's ``sessionEpoch``. A TTL index drops
entries at ``expires``; readers compare ``expires`` too (the embedded store has no TTL monitor).
"""
from __future__ import annotations

from datetime import datetime

from core import BaseModel


class RefreshTokenModel(BaseModel):
    identity = "generic-refreshToken-model"
    version = "1.0"
    collection_name = "jwtRefreshTokens"
    guarded = True  # majority write concern: a failover must not undo it (core.data.models)
    data = {
        "family": {"type": str, "required": True, "index": True},
        "account": {"type": str},
        "username": {"type": str, "required": True},
        "groups": {"type": list},
        "status": {"type": str, "allow": ["active", "used", "revoked"], "default": "active"},
        "created": {"type": datetime, "required": True},
        "familyStarted": {"type": datetime},
        "userId": {"type": str, "index": True},
        "epoch": {"type": int},
        "expires": {"type": datetime, "required": True, "index": True, "indexOptions": {"expireAfterSeconds": 0}},
    }
