"""Per-culture templates and ``[name]`` replacements (spec §6.2, §6.4).

Templates are found along mia's fallback chain: the culture (``de-at``), its language (``de``), the
config's ``defaultLanguage``, the system's default culture language, ``en``, then a template kept
outside any culture (``templates.<name>``). Placeholders match their replacement's key in any case
(``[NAME]`` = ``[name]``); values are HTML-escaped where they land in an html body, so a user's
name cannot inject markup into a mail. Unknown placeholders stay as they are.
"""
from __future__ import annotations

import html
import re
from typing import Any

from core.notifications.headers import body_value
from core.shared import Shared
from core.translator import parse_culture_code

_PLACEHOLDER = re.compile(r"\[([^\[\]\s]{1,64})\]")


def culture_chain(culture: Any, default_language: Any = None) -> list[str]:
    """Culture keys to try, most specific first, without repeats."""
    keys: list[str] = []
    parsed = parse_culture_code(culture)
    if parsed:
        keys += [f"{parsed[0]}-{parsed[1]}", parsed[0]]
    elif isinstance(culture, str) and culture.strip():
        keys.append(culture.strip().lower())
    system_default = (Shared.system.get("defaultCulture") or {}).get("language")
    for key in (default_language, system_default, "en"):
        if isinstance(key, str) and key:
            keys.append(key.lower())
    return list(dict.fromkeys(keys))


def _channel(node: Any, kind: str, channels: tuple[str, ...]) -> dict[str, Any] | None:
    """``node[kind][channel]`` for the first channel present (mia nests mail under ``smtp``)."""
    section = node.get(kind) if isinstance(node, dict) else None
    if not isinstance(section, dict):
        return None
    for channel in channels:
        if isinstance(section.get(channel), dict):
            return section[channel]
    return section if kind == "mail" and ("subject" in section or "text" in section) else None


def find(templates: Any, name: Any, kind: str, channels: tuple[str, ...], culture: Any = None,
         default_language: Any = None) -> dict[str, Any] | None:
    """The template ``name`` of ``kind`` (mail/push) for the first culture in the chain that has it."""
    if not isinstance(templates, dict) or not isinstance(name, str):
        return None
    for key in culture_chain(culture, default_language):
        found = _channel((templates.get(key) or {}).get(name) if isinstance(templates.get(key), dict) else None,
                         kind, channels)
        if found is not None:
            return found
    return _channel(templates.get(name), kind, channels)


def _lowered(replacements: Any) -> dict[str, str]:
    if not isinstance(replacements, dict):
        return {}
    return {str(key).lower(): "" if value is None else str(value) for key, value in replacements.items()}


def replace(text: Any, replacements: Any, escape: bool = False, body: bool = False) -> Any:
    """``[key]`` -> its value, case-insensitively; HTML-escaped when ``escape``; a ``body`` value has its
    line endings normalised and control characters removed (``headers.body_value``)."""
    values = _lowered(replacements)
    if not isinstance(text, str) or not values:
        return text

    def sub(match: re.Match[str]) -> str:
        value = values.get(match.group(1).lower())
        if value is None:
            return match.group(0)
        if body or escape:
            value = body_value(value)
        return html.escape(value) if escape else value

    return _PLACEHOLDER.sub(sub, text)


def replace_all(value: Any, replacements: Any) -> Any:
    """Every string inside a push payload, replaced (keys stay as they are)."""
    if isinstance(value, str):
        return replace(value, replacements)
    if isinstance(value, dict):
        return {key: replace_all(item, replacements) for key, item in value.items()}
    if isinstance(value, list):
        return [replace_all(item, replacements) for item in value]
    return value


def render_mail(template: dict[str, Any], replacements: Any) -> dict[str, Any]:
    """Subject, sender, reply-to, custom ``headers`` and text replaced plainly, the html body with
    escaped values. Header values are checked when the message is built (``headers.header_value``)."""
    sender = replace(template.get("sender") or template.get("from"), replacements)
    given = template.get("headers")
    custom: dict[str, Any] = given if isinstance(given, dict) else {}
    return {
        "subject": replace(template.get("subject") or "", replacements),
        "text": replace(template.get("text"), replacements, body=True),
        "html": replace(template.get("html"), replacements, escape=True),
        "sender": sender,
        "replyTo": replace(template.get("replyTo"), replacements) or sender,
        "headers": {name: replace(value, replacements) for name, value in custom.items()},
    }


def render_apns(template: dict[str, Any], notification: dict[str, Any], message_id: str) -> dict[str, Any]:
    """The APNs JSON payload: ``aps`` from the template, the custom payload beside it, plus ``messageId``."""
    replacements = notification.get("replacements")
    aps: dict[str, Any] = {}
    alert = template.get("alert")
    if alert is not None:
        aps["alert"] = replace_all(alert, replacements)
    badge = notification.get("badge") if notification.get("badge") is not None else template.get("badge")
    if badge is not None:
        aps["badge"] = int(badge)
    for key in ("sound", "category", "thread-id", "mutable-content", "content-available"):
        if template.get(key) is not None:
            aps[key] = template[key]
    payload = {**(template.get("payload") or {}), **(notification.get("payload") or {})}
    body = {**replace_all(payload, replacements), "aps": aps, "messageId": message_id}
    return body


def fcm_from_apns(template: dict[str, Any]) -> dict[str, Any]:
    """An FCM template made from an APNs one, so one push template serves both platforms."""
    alert = template.get("alert")
    if isinstance(alert, str):
        alert = {"body": alert}
    out: dict[str, Any] = {"payload": template.get("payload") or {}}
    if isinstance(alert, dict):
        out["notification"] = {k: alert[k] for k in ("title", "body") if alert.get(k) is not None}
    return out


def render_fcm(template: dict[str, Any], notification: dict[str, Any], message_id: str) -> dict[str, Any]:
    """An FCM v1 ``message`` (without its token): notification, data as strings, platform blocks."""
    replacements = notification.get("replacements")
    message: dict[str, Any] = {}
    if template.get("notification"):
        message["notification"] = replace_all(template["notification"], replacements)
    data = {**(template.get("data") or {}), **(template.get("payload") or {}), **(notification.get("payload") or {})}
    data = replace_all(data, replacements)
    message["data"] = {str(k): v if isinstance(v, str) else _json(v) for k, v in data.items()}
    message["data"]["messageId"] = message_id
    for key in ("android", "webpush", "fcm_options"):
        if template.get(key):
            message[key] = replace_all(template[key], replacements)
    return message


def _json(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"), default=str)
