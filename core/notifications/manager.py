"""The manager API controllers and jobs queue notifications with (mia.js's generic-notificationManager).

    manager = Shared.libs("generic-notificationManager")   # or core.notifications.NotificationManager()
    manager.mail(config_id="notification-templates", template="welcome",
                 replacements={"name": "Ada"}, culture="de-de").address("ada@example.com")
    manager.mail({"configId": "notification-templates", "template": "welcome"}).address(...)  # the manual's
    manager.push(configId="notification-templates", template="welcome").device(device_id)  # camelCase too
    manager.push(config_id="notification-templates", template="welcome").user(user_id)

``mail`` and ``push`` take their fields as keywords (PEP 8 or mia's camelCase names) or as one dict,
as the manual writes them. ``address``/``device`` return the queued item's id (32 random hex
characters: unguessable, so a status route can take it; ``owner``, e.g. ``"device:<id>"``, is kept
on the item for such a route to compare), ``user`` one id per email address or logged-in device.
Bad input raises a 400 MiaError with mia's codes (ConfigIdNotFound, InvalidEmailAddress,
NotificationScheduleInvalid, EmptyDeviceId, EmptyUserId, NoUserDevices); a failed queue write
raises the data layer's 503. Nothing is delivered here: the processor job does that.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

import core.notifications.queue as queue
import core.notifications.status as status
from core.data.databases import db_errors
from core.errors import MiaError
from core.notifications.settings import collection, notification_config, processor_settings

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
QUEUED_ID = re.compile(r"^[0-9a-f]{32}$")


MAIL_FIELDS = ("config_id", "template", "replacements", "schedule", "culture", "owner")
PUSH_FIELDS = ("config_id", "template", "replacements", "payload", "badge", "schedule", "culture", "owner")
_CAMEL = {"configId": "config_id"}


def _bad(code: str, msg: str) -> MiaError:
    return MiaError(400, code=code, msg=msg)


def _fields(kind: str, args: tuple[Any, ...], keywords: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The call's fields from positional values, one dict (the manual's form) and keywords, by PEP 8 name.

    ``mail({"configId": ..., "template": ...})``, ``mail(configId=...)``, ``mail(config_id=...)`` and
    ``mail("notification-templates", "welcome")`` are the same call; an unknown name is a TypeError
    that names it, as Python's own would.
    """
    given: dict[str, Any] = {}
    if len(args) == 1 and isinstance(args[0], dict):
        pairs = list(args[0].items())
    else:
        if len(args) > len(names):
            raise TypeError(f"{kind}() takes at most {len(names)} positional arguments ({len(args)} given)")
        pairs = list(zip(names, args, strict=False))
    for name, value in pairs + list(keywords.items()):
        key = _CAMEL.get(name, name)
        if key not in names:
            raise TypeError(f"{kind}() got an unexpected field {name!r} (known: {', '.join(names)}, configId)")
        if key in given:
            raise TypeError(f"{kind}() got multiple values for {name!r}")
        given[key] = value
    return given


class _Send:
    """One prepared notification, waiting for its recipient."""

    kind = ""

    def __init__(self, manager: NotificationManager, config_id: str, fields: dict[str, Any],
                 schedule: datetime, owner: str | None = None) -> None:
        self.manager, self.config_id, self.fields, self.schedule = manager, config_id, fields, schedule
        self.owner = owner

    def _queue(self, recipients: list[str], target: dict[str, Any]) -> list[str]:
        settings = self.manager.settings()
        with db_errors():
            items = collection(settings, "queue")
            queue.ensure_indexes(items)
            status_id = status.create(collection(settings, "status"), config_id=self.config_id, kind=self.kind,
                                      template=self.fields["template"], target=target,
                                      num_targets=len(recipients), schedule=self.schedule)
            documents = [queue.new_item(self.config_id, self.kind, {**self.fields, "to": to}, self.schedule,
                                        status_id, self.owner) for to in recipients]
            result = items.insert_many(documents)
        return [str(inserted) for inserted in result.inserted_ids]

    def _user(self, user_id: Any) -> dict[str, Any]:
        if user_id is None or str(user_id).strip() == "":
            raise _bad("EmptyUserId", "User id is empty")
        ids: list[Any] = [str(user_id)]
        if ObjectId.is_valid(str(user_id)):
            ids.append(ObjectId(str(user_id)))
        with db_errors():
            user = collection(self.manager.settings(), "users").find_one({"_id": {"$in": ids}})
        return user or {}


class MailSend(_Send):
    kind = "mail"

    def address(self, to: str) -> str:
        """Queue the mail to one address; returns the queued id."""
        if not isinstance(to, str) or not EMAIL.match(to.strip()):
            raise _bad("InvalidEmailAddress", "Invalid email address")
        return self._queue([to.strip()], {"address": to.strip()})[0]

    def user(self, user_id: Any) -> list[str]:
        """Queue the mail to every email address in the user's ``messaging``."""
        addresses: list[str] = [entry["value"] for entry in self._user(user_id).get("messaging") or []
                                if isinstance(entry, dict) and entry.get("type") == "email"
                                and isinstance(entry.get("value"), str) and EMAIL.match(entry["value"])]
        if not addresses:
            raise _bad("NoUserDevices", "User has no email address")
        return self._queue(list(dict.fromkeys(addresses)), {"user": str(user_id)})


class PushSend(_Send):
    kind = "push"

    def device(self, device_id: str) -> str:
        """Queue the push to one device (by its ``id``); returns the queued id."""
        if not isinstance(device_id, str) or not device_id.strip():
            raise _bad("EmptyDeviceId", "Device id is empty")
        return self._queue([device_id.strip()], {"device": device_id.strip()})[0]

    def user(self, user_id: Any) -> list[str]:
        """Queue the push to every device the user is logged in on (``accessTokens[].device.id``)."""
        found = [((entry.get("device") or {}).get("id")) for entry in self._user(user_id).get("accessTokens") or []
                 if isinstance(entry, dict)]
        devices: list[str] = [device for device in found if isinstance(device, str) and device]
        if not devices:
            raise _bad("NoUserDevices", "User is not logged in on any device")
        return self._queue(list(dict.fromkeys(devices)), {"user": str(user_id)})


class NotificationManager:
    """Queues mail and push notifications; ``settings`` overrides the processor settings (tests)."""

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        self._overrides = settings

    def settings(self) -> dict[str, Any]:
        return processor_settings(self._overrides)

    def _prepare(self, config_id: Any, template: Any, replacements: Any, schedule: Any,
                 culture: Any) -> tuple[str, dict[str, Any], datetime]:
        if notification_config(config_id) is None:
            raise _bad("ConfigIdNotFound", "Notification configId not found")
        if not isinstance(template, str) or not template:
            raise _bad("TemplateMissing", "Notification template name is missing")
        if schedule is None:
            when = queue.now()
        elif isinstance(schedule, datetime):
            when = schedule if schedule.tzinfo else schedule.replace(tzinfo=UTC)
        else:
            raise _bad("NotificationScheduleInvalid", "Notification schedule is not a valid date")
        if replacements is not None and not isinstance(replacements, dict):
            raise _bad("ReplacementsInvalid", "Notification replacements must be an object")
        fields = {"template": template, "replacements": replacements, "culture": culture}
        return config_id, fields, when

    def mail(self, *args: Any, **fields: Any) -> MailSend:
        """A templated mail; finish with ``.address(to)`` or ``.user(user_id)``.

        Fields: ``config_id``, ``template``, ``replacements``, ``schedule``, ``culture``, ``owner``.
        """
        f = _fields("mail", args, fields, MAIL_FIELDS)
        prepared = self._prepare(f.get("config_id"), f.get("template"), f.get("replacements"), f.get("schedule"),
                                 f.get("culture"))
        return MailSend(self, *prepared, owner=f.get("owner"))

    def push(self, *args: Any, **fields: Any) -> PushSend:
        """A templated push; finish with ``.device(device_id)`` or ``.user(user_id)``.

        Fields: those of ``mail`` plus ``payload`` (merged into the template's custom payload) and
        ``badge`` (>= 0, overrides the template's badge); ``culture`` overrides the device's culture.
        """
        f = _fields("push", args, fields, PUSH_FIELDS)
        payload, badge = f.get("payload"), f.get("badge")
        config_id, prepared, when = self._prepare(f.get("config_id"), f.get("template"), f.get("replacements"),
                                                  f.get("schedule"), f.get("culture"))
        if payload is not None and not isinstance(payload, dict):
            raise _bad("PayloadInvalid", "Push payload must be an object")
        prepared["payload"] = payload
        prepared["badge"] = int(badge) if isinstance(badge, int) and badge >= 0 else None
        return PushSend(self, config_id, prepared, when, owner=f.get("owner"))

    def item(self, queued_id: str) -> dict[str, Any] | None:
        """The queue document of a queued id (state, attempts, lastError), or None."""
        if not isinstance(queued_id, str) or not QUEUED_ID.match(queued_id):
            return None
        with db_errors():
            return collection(self.settings(), "queue").find_one({"_id": queued_id})

    def status(self, queued_id: str) -> dict[str, Any] | None:
        """The status document of the send a queued id belongs to, or None."""
        item = self.item(queued_id)
        if item is None:
            return None
        with db_errors():
            return collection(self.settings(), "status").find_one({"_id": item.get("statusId")})
