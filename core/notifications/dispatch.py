"""Delivering one claimed queue item: resolve config, template, recipient and connector, then send.

Mail goes to the SMTP connector with the template for the item's culture. A push loads the device
(collection ``devices``, field ``id``), picks APNs for ``device.os.type`` ios (or none, as mia.js
did) and FCM for android, takes the template for the item's culture or else the device's language,
and sends to ``device.notification.token``. A connector's dead-token answer removes that token from
the device document (only if it is still the same token). Every failure is a DeliveryError carrying
the platform, so the status document can count it.
"""
from __future__ import annotations

from typing import Any

import core.notifications.templates as templates
from core.notifications.connectors import DeliveryError, smtp
from core.notifications.settings import collection, connector, notification_config

TOKEN_FIELD = "device.notification.token"


def _failed(platform: str | None, error: DeliveryError) -> DeliveryError:
    error.platform = platform  # type: ignore[attr-defined]
    return error


def deliver(item: dict[str, Any], settings: dict[str, Any], db: Any, mailer: smtp.Mailer | None = None) -> str:
    """Send ``item``; returns its platform (email, ios, android). Raises DeliveryError with ``.platform``.

    ``mailer`` holds the run's SMTP connections (one per server for a whole batch); without it a mail
    opens and closes its own connection.
    """
    platform = "email" if item.get("type") == "mail" else None
    try:
        config = notification_config(item.get("configId"))
        if config is None:
            raise DeliveryError("ConfigIdNotFound", f"notification config {item.get('configId')!r} not found",
                                permanent=True)
        if item.get("type") == "mail":
            _mail(item, config, mailer)
            return "email"
        if item.get("type") == "push":
            device = collection(settings, "devices", db).find_one({"id": (item.get("notification") or {}).get("to")})
            platform = _platform(device)
            _push(item, config, settings, db, device, platform)
            return platform
        raise DeliveryError("UnknownType", f"unknown notification type {item.get('type')!r}", permanent=True)
    except DeliveryError as error:
        raise _failed(platform, error) from None


def _mail(item: dict[str, Any], config: dict[str, Any], mailer: smtp.Mailer | None) -> None:
    notification = item.get("notification") or {}
    settings = connector(config, "smtp")
    if settings is None:
        raise DeliveryError("NoConnector", "no smtp connector configured", permanent=True)
    template = templates.find(config.get("templates"), notification.get("template"), "mail", ("smtp",),
                              notification.get("culture"), config.get("defaultLanguage"))
    if template is None:
        raise DeliveryError("TemplateNotFound", f"no mail template {notification.get('template')!r}", permanent=True)
    mail = templates.render_mail(template, notification.get("replacements"))
    if mailer is None:
        smtp.send(settings, mail, notification["to"])
    else:
        mailer.send(settings, mail, notification["to"])


def _platform(device: dict[str, Any] | None) -> str:
    if device is None:
        raise DeliveryError("DeviceNotFound", "device does not exist", permanent=True)
    os_type = str(((device.get("device") or {}).get("os") or {}).get("type") or "ios").lower()
    if os_type in ("ios", "ipados"):
        return "ios"
    if os_type == "android":
        return "android"
    raise DeliveryError("UnknownDeviceType", f"no push connector for device type {os_type!r}", permanent=True)


def _push(item: dict[str, Any], config: dict[str, Any], settings: dict[str, Any], db: Any,
          device: dict[str, Any], platform: str) -> None:
    notification = item.get("notification") or {}
    push = (device.get("device") or {}).get("notification") or {}
    token = push.get("token")
    if not isinstance(token, str) or not token:
        raise DeliveryError("MissingPushToken", "device is not registered for push", permanent=True)
    culture = notification.get("culture") or (device.get("culture") or {}).get("language")
    channels = ("apns",) if platform == "ios" else ("fcm", "android", "apns")
    template = templates.find(config.get("templates"), notification.get("template"), "push", channels, culture,
                              config.get("defaultLanguage"))
    if template is None:
        raise DeliveryError("TemplateNotFound", f"no push template {notification.get('template')!r} for {platform}",
                            permanent=True)
    message_id = str(item["_id"])
    try:
        if platform == "ios":
            _apns(config, template, notification, message_id, token, push.get("environment"))
        else:
            _fcm(config, template, notification, message_id, token)
    except DeliveryError as error:
        if error.clear_token:
            collection(settings, "devices", db).update_one({"id": device.get("id"), TOKEN_FIELD: token},
                                                           {"$unset": {TOKEN_FIELD: ""}})
        raise


def _apns(config: dict[str, Any], template: dict[str, Any], notification: dict[str, Any], message_id: str,
          token: str, environment: str | None) -> None:
    from core.notifications.connectors import apns  # with httpx (h2) and PyJWT: loaded by the first push, not at start

    settings = connector(config, "apns", environment or None)
    if settings is None:
        raise DeliveryError("NoConnector", "no apns connector configured", permanent=True)
    topic = template.get("topic") or template.get("bundleId") or settings.get("topic")
    if not topic:
        raise DeliveryError("NoTopic", "apns needs a topic (the app's bundle id)", permanent=True)
    payload = templates.render_apns(template, notification, message_id)
    aps = payload["aps"]
    background = "alert" not in aps and aps.get("content-available") == 1
    apns.client(settings, environment).send(token, payload, str(topic),
                                            push_type="background" if background else "alert",
                                            priority=5 if background else 10)


def _fcm(config: dict[str, Any], template: dict[str, Any], notification: dict[str, Any], message_id: str,
         token: str) -> None:
    from core.notifications.connectors import fcm  # as apns above: httpx and PyJWT load with the first push

    settings = connector(config, "fcm")
    if settings is None:
        raise DeliveryError("NoConnector", "no fcm connector configured", permanent=True)
    if "alert" in template and "notification" not in template:
        template = templates.fcm_from_apns(template)
    message = templates.render_fcm(template, notification, message_id)
    fcm.client(settings).send({**message, "token": token})
