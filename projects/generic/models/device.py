"""Device profiles: collection ``devices`` (generic spec §7.1).

A device is what a mobile app registers once; every signed request names it by ``id``. Virtual
fields derive stored ones: ``culture.code`` -> language/region, ``device.userAgent`` -> group and
OS, ``device.screen.resolution`` -> height/width, ``session.set`` -> a new session id.
"""
from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any

from core import BaseModel

VERSION_PATTERN = r"^([\d]{1,3}\.)?([\d]{1,3}\.)?([\d]{1,3}\.)?[\d]{1,3}$"
_VERSION = re.compile(VERSION_PATTERN)
_ANDROID = re.compile(r"Android\s+([\d.]+)")
_IOS = re.compile(r"(?:iPhone|iPad|iPod).*?OS\s+([\d_]+)")
_WINDOWS_PHONE = re.compile(r"Windows Phone(?: OS)?\s+([\d.]+)")
_TABLET = re.compile(r"iPad|Kindle|Playbook|Silk-Accelerated")
_PHONE = re.compile(r"Mobile|iPhone|iPod|Windows Phone|BlackBerry")


def new_device_id() -> str:
    """32 lower-case hex characters from the OS CSPRNG (mia.js hashed Math.random())."""
    return secrets.token_hex(16)


def now() -> datetime:
    return datetime.now(UTC)


def _version(value: str) -> str | None:
    """A version only if it fits the model's pattern, so an odd User-Agent never fails registration."""
    value = value.strip(".")
    return value if len(value) <= 7 and _VERSION.match(value) else None


def user_agent_fields(ua: Any) -> dict[str, Any]:
    """``device.group`` and ``device.os.*`` derived from a User-Agent, as mia.js's virtual did."""
    if not isinstance(ua, str):
        return {}
    out: dict[str, Any] = {}
    if "Android" in ua:
        out["device.group"] = "tablet" if "Mobile" not in ua or "Kindle" in ua else "phone"
    else:
        group = "desktop"
        if _TABLET.search(ua):
            group = "tablet"
        if _PHONE.search(ua):  # mia.js checks phones second, so an iPad UA with "Mobile" is a phone
            group = "phone"
        out["device.group"] = group
    for pattern, os_type, fix in ((_ANDROID, "android", str), (_IOS, "ios", lambda v: v.replace("_", ".")),
                                  (_WINDOWS_PHONE, "windows phone", str)):
        match = pattern.search(ua)
        if match:
            out["device.os.type"] = os_type
            version = _version(fix(match.group(1)))
            if version:
                out["device.os.version"] = version
            break
    return out


def culture_fields(code: Any) -> dict[str, Any]:
    if not isinstance(code, str) or len(code) < 5:
        return {}
    return {"culture.language": code[0:2].lower(), "culture.region": code[3:5].lower()}


def resolution_fields(value: Any) -> dict[str, Any]:
    match = re.search(r"(?<!\d)(\d{1,6})x(\d{1,6})(?!\d)", value, re.IGNORECASE) if isinstance(value, str) else None
    if not match:  # (also: no absurd numbers that would not even fit a database integer)
        return {}
    # mia.js quirk kept for data compatibility: "AxB" stores height=A and width=B.
    return {"device.screen.height": int(match.group(1)), "device.screen.width": int(match.group(2))}


def app_id_fields(value: Any) -> dict[str, Any]:
    return {"this": value.replace(" ", "", 1)} if isinstance(value, str) else {}


def session_fields(value: Any) -> dict[str, Any]:
    if value is not True:
        return {}
    return {"session.id": secrets.token_hex(32), "session.created": now()}


READ_ONLY = {"set": False, "get": True}
WRITE_ONLY = {"set": True, "get": False}
VERSION = {"type": str, "minLength": 1, "maxLength": 16, "match": VERSION_PATTERN}
ID_5_50 = {"type": str, "minLength": 5, "maxLength": 50, "convert": "lower"}


class DeviceModel(BaseModel):
    identity = "generic-device-model"
    version = "1.0"
    collection_name = "devices"
    guarded = True  # session ids: majority write concern, a failover must not undo them (core.data.models)
    data = {
        "id": {"type": str, "minLength": 32, "maxLength": 32, "required": True, "unique": True, "index": True,
               "convert": "lower", "default": new_device_id},
        "session": {
            "set": {"type": bool, "virtual": session_fields, "public": WRITE_ONLY},
            "id": {"type": str, "minLength": 64, "maxLength": 64, "unique": True, "sparse": True,
                   "convert": "lower", "nullable": True, "public": READ_ONLY},
            "cidr": {"type": list, "subType": "cidr"},
            "expireable": {"type": bool, "default": True},
            "created": {"type": datetime, "public": READ_ONLY, "index": True, "sparse": True},  # removeSessions
            "groups": {"type": list, "subType": str, "convert": "lower"},
        },
        "rateLimit": {"interval": {"type": int, "min": 0}, "maxRequests": {"type": int, "min": 0}},
        "access": {
            "key": {"type": str, "minLength": 32, "maxLength": 32, "unique": True, "sparse": True,
                    "convert": "lower"},
            "cidr": {"type": list, "subType": "cidr"},
            "blockcidr": {"type": list, "subType": "cidr"},
            "groups": {"type": list, "subType": str, "convert": "lower"},
            "exipires": {"type": datetime, "nullable": True},  # sic, mia.js's field name; never checked
        },
        "culture": {
            "language": {"type": str, "minLength": 2, "maxLength": 2, "required": True, "public": READ_ONLY},
            "region": {"type": str, "minLength": 2, "maxLength": 2, "required": True, "public": READ_ONLY},
            "code": {"type": str, "minLength": 5, "maxLength": 5, "match": r"[a-zA-Z]{2}-[a-zA-Z]{2}",
                     "default": "de-de", "virtual": culture_fields, "public": WRITE_ONLY},
        },
        "app": {
            "id": {**ID_5_50, "virtual": app_id_fields},
            "version": VERSION,
            "vendor": {"id": ID_5_50},
            "advertiser": {"id": ID_5_50},
        },
        "device": {
            "model": {"type": str, "minLength": 1, "maxLength": 50, "convert": "lower"},
            "group": {"type": str, "allow": ["phone", "tablet", "tv", "desktop"]},
            "userAgent": {"type": str, "minLength": 5, "virtual": user_agent_fields},
            "os": {
                "type": {"type": str, "minLength": 2, "maxLength": 50, "convert": "lower"},
                "version": {"type": str, "minLength": 1, "maxLength": 7, "match": VERSION_PATTERN},
            },
            "carrier": {"type": {"type": str, "minLength": 1, "maxLength": 50, "convert": "lower"}},
            "screen": {
                "height": {"type": int, "public": READ_ONLY},
                "width": {"type": int, "public": READ_ONLY},
                "resolution": {"type": str, "match": r"/(\d+)x(\d+)/i", "virtual": resolution_fields,
                               "public": WRITE_ONLY},
            },
            "notification": {
                "token": {"type": str},
                "environment": {"type": str, "allow": ["sandbox", "production"], "default": "production"},
            },
        },
        "user": {"id": {"type": str}, "token": {"type": str}, "tokenIssueDate": {"type": datetime}},
        "created": {"type": datetime, "required": True, "default": now},
        "lastModified": {"type": datetime, "required": True, "index": True, "default": now},
        "status": {"type": str, "allow": ["active", "inactive", "disabled"], "default": "inactive", "index": True},
    }
