"""The manager API controllers and jobs queue notifications with (mia.js's generic-notificationManager).

    manager = Shared.libs("generic-notificationManager")   # or core.notifications.NotificationManager()
    manager.mail(config_id="notification-templates", template="welcome",
                 replacements={"name": "Ada"}, culture="de-de").address("ada@example.com")
    manager.push(config_id="notification-templates", template="welcome").device(device_id)
    manager.push(config_id="notification-templates", template="welcome").user(user_id)

``address``/``device`` return the queued item's id, ``user`` one id per email address or logged-in
device. Bad input raises a 400 MiaError with mia's codes (ConfigIdNotFound, InvalidEmailAddress,
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


def _bad(code: str, msg: str) -> MiaError:
    return MiaError(400, code=code, msg=msg)


class _Send:
    """One prepared notification, waiting for its recipient."""

    kind = ""

    def __init__(self, manager: NotificationManager, config_id: str, fields: dict[str, Any],
                 schedule: datetime) -> None:
        self.manager, self.config_id, self.fields, self.schedule = manager, config_id, fields, schedule

    def _queue(self, recipients: list[str], target: dict[str, Any]) -> list[str]:
        settings = self.manager.settings()
        with db_errors():
            items = collection(settings, "queue")
            queue.ensure_indexes(items)
            status_id = status.create(collection(settings, "status"), config_id=self.config_id, kind=self.kind,
                                      template=self.fields["template"], target=target,
                                      num_targets=len(recipients), schedule=self.schedule)
            documents = [queue.new_item(self.config_id, self.kind, {**self.fields, "to": to}, self.schedule,
                                        status_id) for to in recipients]
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
        addresses = [entry.get("value") for entry in self._user(user_id).get("messaging") or []
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
        devices = [((entry.get("device") or {}).get("id")) for entry in self._user(user_id).get("accessTokens") or []
                   if isinstance(entry, dict)]
        devices = [device for device in devices if isinstance(device, str) and device]
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

    def mail(self, config_id: str, template: str, replacements: dict[str, Any] | None = None,
             schedule: datetime | None = None, culture: str | None = None) -> MailSend:
        """A templated mail; finish with ``.address(to)`` or ``.user(user_id)``."""
        return MailSend(self, *self._prepare(config_id, template, replacements, schedule, culture))

    def push(self, config_id: str, template: str, replacements: dict[str, Any] | None = None,
             payload: dict[str, Any] | None = None, badge: int | None = None, schedule: datetime | None = None,
             culture: str | None = None) -> PushSend:
        """A templated push; finish with ``.device(device_id)`` or ``.user(user_id)``.

        ``culture`` overrides the device's culture for the template; ``payload`` is merged into the
        template's custom payload; ``badge`` (>= 0) overrides the template's badge.
        """
        config_id, fields, when = self._prepare(config_id, template, replacements, schedule, culture)
        if payload is not None and not isinstance(payload, dict):
            raise _bad("PayloadInvalid", "Push payload must be an object")
        fields["payload"] = payload
        fields["badge"] = int(badge) if isinstance(badge, int) and badge >= 0 else None
        return PushSend(self, config_id, fields, when)

    def item(self, queued_id: str) -> dict[str, Any] | None:
        """The queue document of a queued id (state, attempts, lastError), or None."""
        if not ObjectId.is_valid(str(queued_id)):
            return None
        with db_errors():
            return collection(self.settings(), "queue").find_one({"_id": ObjectId(str(queued_id))})

    def status(self, queued_id: str) -> dict[str, Any] | None:
        """The status document of the send a queued id belongs to, or None."""
        item = self.item(queued_id)
        if item is None:
            return None
        with db_errors():
            return collection(self.settings(), "status").find_one({"_id": item.get("statusId")})
