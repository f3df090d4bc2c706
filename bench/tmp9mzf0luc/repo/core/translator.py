"""Translated texts with mia.js's fallback chain (spec §6.3).

``translate(group, key, language, region)`` looks in the root ``config/translations.py`` for group
``system`` (or none), else in the ``translations`` of the project config whose identity is
``group``. Fallback: (language, region) -> (default language, region) -> default culture ->
built-in English -> ``Missing translation for key <key>``.
"""
from __future__ import annotations

import re
from typing import Any

from core.shared import Shared

BUILTIN_EN = {
    "BadRequest": "Something is not ok with your request",
    "Unauthorized": "You are not allowed to access this service",
    "Forbidden": "You are not allowed to access this service",
    "NotFound": "Whatever you are looking for it is not here",
    "Gone": "This resource is gone or never was there. Try another one.",
    "ExternalDataRequestError": "Unexpected data structure received from external API",
    "InternalServerError": "Oops - I'm sorry but something went wrong",
}
_PLACEHOLDER = re.compile(r"\[(\d)\]")
CULTURE_PATTERN = re.compile(r"([a-zA-Z]{2})-([a-zA-Z]{2})")


def _dictionary(group: str | None) -> dict[str, Any] | None:
    if not group or group == "system":
        return Shared.translations
    if not Shared.configs.has(group):
        return None
    value = getattr(Shared.configs.get(group), "translations", None)
    return value if isinstance(value, dict) else None


def _pick(entry: Any, language: str | None, region: str | None) -> str | None:
    if not isinstance(entry, dict) or not language:
        return None
    value = entry.get(language)
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and region:
        text = value.get(region)
        return text if isinstance(text, str) else None
    return None


def translate(group: str | None, key: str, language: str | None = None, region: str | None = None,
              replacements: Any = None) -> str:
    """The text for ``key`` in the best matching culture, with ``[0]``..``[9]`` replaced."""
    dictionary = _dictionary(group)
    if dictionary is None:
        return f"group {group} is not found"
    default = Shared.system.get("defaultCulture") or {"language": "en", "region": "gb"}
    entry = dictionary.get(key)
    text = (_pick(entry, language, region)
            or _pick(entry, default.get("language"), region)
            or _pick(entry, default.get("language"), default.get("region"))
            or BUILTIN_EN.get(key)
            or f"Missing translation for key {key}")
    if replacements is not None:
        values = replacements if isinstance(replacements, (list, tuple)) else [replacements]

        def _sub(match: re.Match[str]) -> str:
            index = int(match.group(1))
            return str(values[index]) if index < len(values) and values[index] else match.group(0)

        text = _PLACEHOLDER.sub(_sub, text)
    return text


def parse_culture_code(value: Any) -> tuple[str, str] | None:
    """``"de-DE"`` -> ``("de", "de")``; lower-cased so that ``DE-de`` finds the ``de`` texts."""
    if not isinstance(value, str):
        return None
    match = CULTURE_PATTERN.search(value)
    return (match.group(1).lower(), match.group(2).lower()) if match else None
