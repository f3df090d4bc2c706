"""Where the notification settings come from: the environment config, a project config, the process env.

Processor settings (attempts, backoff, lease, batch, cleanup age, collection names) are the
environment config's ``notifications`` key over ``PROCESSOR_DEFAULTS``, so a test environment can
retry in milliseconds. Connectors and templates live in a project config named by ``configId``
(mia's ``notification-templates``; spec §6.4). Secrets may stay out of the repository: the
variables in ``SECRET_VARIABLES`` override the config's values when set.
"""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from core.data.consistency import guarded_writes
from core.shared import Shared

PROCESSOR_DEFAULTS: dict[str, Any] = {
    "maxAttempts": 5,  # deliveries tried before an item is rejected with its last error
    "backoff": [60, 300, 900, 3600],  # seconds before attempt n+1 (the last value repeats)
    "lease": 120,  # seconds a claim holds an item; a crashed worker's item is claimed again after it
    "batch": 100,  # items one processor run claims at most
    "cleanupAfter": 24 * 3600,  # seconds finished items (and their status documents) are kept
    "database": None,  # a key of mongoDatabases; None = defaultMongoDatabase
    "collections": {"queue": "notifications", "status": "notificationStatus",
                    "devices": "devices", "users": "users"},
}

# Process environment variables that override connector settings (any connector config).
SECRET_VARIABLES: dict[str, dict[str, str]] = {
    "smtp": {"MIA_SMTP_HOST": "host", "MIA_SMTP_PORT": "port", "MIA_SMTP_USER": "user",
             "MIA_SMTP_PASSWORD": "password"},
    "apns": {"MIA_APNS_KEY": "key", "MIA_APNS_KEY_FILE": "keyFile", "MIA_APNS_KEY_ID": "keyId",
             "MIA_APNS_TEAM_ID": "teamId"},
    "fcm": {"MIA_FCM_SERVICE_ACCOUNT": "serviceAccount"},
}


def processor_settings(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """PROCESSOR_DEFAULTS < environment ``notifications`` < ``overrides`` (collections merged key by key)."""
    settings = copy.deepcopy(PROCESSOR_DEFAULTS)
    for layer in (Shared.config("environment.notifications"), overrides):
        if isinstance(layer, dict):
            for key, value in layer.items():
                if key == "collections" and isinstance(value, dict):
                    settings["collections"].update(value)
                else:
                    settings[key] = value
    return settings


def database(settings: dict[str, Any]) -> Any:
    return Shared.db(settings.get("database"))


def collection(settings: dict[str, Any], kind: str, db: Any = None) -> Any:
    found = (db if db is not None else database(settings))[settings["collections"][kind]]
    return guarded_writes(found) if kind in ("queue", "status") else found  # claims: majority write concern


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def notification_config(config_id: Any) -> dict[str, Any] | None:
    """The ``{connectors, templates, defaultLanguage}`` a configId names, or None.

    Both mia spellings work: ``"notification-templates"`` (the config holding ``notifications``) and
    ``"notification-templates.notifications"`` (the demo's, pointing at it directly).
    """
    if not isinstance(config_id, str) or not config_id:
        return None
    found = Shared.config(config_id)
    if found is None:
        return None
    if _get(found, "templates") is None and _get(found, "connectors") is None:
        found = _get(found, "notifications")
    if not found:
        return None
    keys = ("connectors", "templates", "defaultLanguage")
    return {key: _get(found, key) for key in keys}


def connector(config: dict[str, Any], kind: str, variant: str | None = None) -> dict[str, Any] | None:
    """One connector's settings with the process environment's overrides; None when not configured.

    A connector may be flat or keyed by variant (smtp by environment mode as in mia.js, apns by
    ``production``/``sandbox``): the variant's entry is merged over the flat keys.
    """
    connectors = config.get("connectors") or {}
    base = connectors.get(kind)
    if not isinstance(base, dict):
        return None
    settings = {k: v for k, v in base.items() if not isinstance(v, dict) or k in ("serviceAccount", "endpoints")}
    for key in (variant, Shared.mode) if kind == "smtp" else (variant,):
        if key and isinstance(base.get(key), dict):
            settings.update(base[key])
            break
    for variable, key in SECRET_VARIABLES.get(kind, {}).items():
        value = os.environ.get(variable)
        if value:
            settings[key] = value
    return settings or None


def read_secret_file(value: Any) -> str | None:
    """A PEM or JSON text given inline or as a path to a file."""
    if not isinstance(value, str) or not value:
        return None
    if value.lstrip().startswith(("-----BEGIN", "{")):
        return value
    return Path(value).expanduser().read_text(encoding="utf-8")


def service_account(settings: dict[str, Any]) -> dict[str, Any]:
    """FCM's service-account JSON from ``serviceAccount`` (dict, JSON text or file path) or ``serviceAccountFile``."""
    value = settings.get("serviceAccount") or settings.get("serviceAccountFile")
    if isinstance(value, dict):
        return value
    text = read_secret_file(value)
    if not text:
        raise ValueError("fcm connector: serviceAccount is missing")
    return json.loads(text)
