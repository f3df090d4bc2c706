"""The default per-app profile model of a user (``generic-userProfile-model``, spec §7.4).

Projects pass their own model in ``req.mia.user_service["userProfileModel"]`` to store custom
profile fields under ``profile.<appId>``; with this default, custom profile data is refused.
"""
from __future__ import annotations

from datetime import datetime

from core import BaseModel


class UserProfileModel(BaseModel):
    identity = "generic-userProfile-model"
    version = "1.0"
    collection_name = "userProfile"
    data = {
        "createdAt": {"type": datetime},
        "updatedAt": {"type": datetime},
    }
