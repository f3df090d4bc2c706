"""User accounts: collection ``users`` (generic spec §7.3).

``login`` is unique per ``group``; devices are "logged in" by an entry in ``accessTokens``
(one per device and appId). ``passHash`` is an argon2id hash (a legacy mia.js md5 hash is
accepted once and replaced). Tokens in ``inspectTokens`` and ``messaging`` carry a
``tokenIssueDate`` and expire (config ``generic-identity.tokenLifetimes``). ``nameKeys`` and
``deviceKeys`` are the unique claims of an active account (its names, third-party ids and device
logins) and ``sessionEpoch`` goes up whenever every session of the account must end.
"""
from __future__ import annotations

from datetime import datetime

from core import BaseModel

TOKEN = {"token": {"type": str, "unique": True, "sparse": True}, "tokenIssueDate": {"type": datetime}}


class UserModel(BaseModel):
    identity = "generic-user-model"
    version = "1.0"
    collection_name = "users"
    guarded = True  # majority write concern: a failover must not undo it (core.data.models)
    data = {
        "name": {"type": str, "index": True},
        "login": {"type": str, "required": True},  # indexed as the prefix of (login, group)
        "nativeLoginIsSet": {"type": bool, "default": False},
        "messaging": [{
            "type": {"type": str, "allow": ["email"], "required": True},
            "value": {"type": str, "required": True},
            "validated": {"type": bool, "default": False},
            "inspectTokens": {"validateToken": TOKEN},
        }],
        "group": {"type": str, "required": True},
        "passHash": {"type": str},
        "etag": {"type": str},
        "status": {"type": str, "allow": ["active", "inactive", "deleted"], "default": "active"},
        "validated": {"type": bool, "default": False},
        "deviceCounts": [{
            "appId": {"type": str, "required": True},
            "deviceCount": {"type": int, "default": 0},
        }],
        "thirdParty": [{"provider": {"type": str, "allow": ["fb"]}, "id": {"type": str}}],
        "inspectTokens": {"invalidateToken": TOKEN, "passwordResetToken": TOKEN},
        "accessTokens": [{
            "token": {"type": str, "required": True, "unique": True, "sparse": True},
            "appId": {"type": str},
            "device": {"id": {"type": str}, "name": {"type": str}},
            "tokenIssueDate": {"type": datetime},
        }],
        # Unique claims (generic-userAuthManager): a name or device held by one active account only. Only
        # documents holding a key are indexed: an empty array would be one shared key on MongoDB.
        "nameKeys": {"type": list, "unique": True,
                     "indexOptions": {"partialFilterExpression": {"nameKeys": {"$type": "string"}}}},
        "deviceKeys": {"type": list, "unique": True,
                       "indexOptions": {"partialFilterExpression": {"deviceKeys": {"$type": "string"}}}},
        "sessionEpoch": {"type": int},
    }
    compound_indexes = [
        {"fields": ["login", "group"], "unique": True},
        {"fields": ["accessTokens.appId", "accessTokens.device.id"], "unique": True, "sparse": True},
        {"fields": ["group", "thirdParty.provider", "thirdParty.id"], "sparse": True},
        {"fields": ["group", "messaging.type", "messaging.value"]},
        # The clean-up jobs' reads (generic-removeUserAccounts, generic-removeSessions), every minute.
        # (accessTokens.appId, accessTokens.device.id, status) was a non-unique copy of the unique pair.
        {"fields": ["status"]},
        {"fields": ["messaging.inspectTokens.validateToken.tokenIssueDate"], "sparse": True},
        {"fields": ["accessTokens.tokenIssueDate"]},
        {"fields": ["accessTokens.lastUsed"]},
    ]
