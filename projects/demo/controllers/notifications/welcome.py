"""Queue a welcome mail and push (mia.js's demo sent its welcome mail from the signup flow).

``POST /demo-notify/v1/welcome`` queues the mail and, when a device id is given, a push to that device;
it answers the queued ids at once. The job ``generic-notificationProcessor`` delivers them (every
5 s while cron jobs run, or now with ``server.py local cron=generic-notificationProcessor`` on a
shared MongoDB). ``GET /demo-notify/v1/notifications/:id`` shows where a queued item is.

Queued ids are 32 random hex characters (they cannot be guessed or counted from one's own), and the
recipient (an address or a device id) is shown only to the item's owner: the device that queued it
through ``/demo-auth/v1`` with its key. The anonymous route never shows it.
"""
from __future__ import annotations

from core import Controller, MiaError, Shared

CONFIG = "notification-templates"


def _manager():  # noqa: ANN202 - the generic lib
    return Shared.libs("generic-notificationManager")


class Welcome(Controller):
    identity = "demo-welcome"
    version = "1.0"
    group = "demo"
    preconditions = {
        "welcome": {
            "parameters": {"body": {
                "email": {"type": str, "required": True, "maxLength": 254, "match": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                          "desc": "Where the welcome mail goes"},
                "name": {"type": str, "required": True, "minLength": 1, "maxLength": 80,
                         "desc": "Replaces [name] in the templates"},
                "culture": {"type": str, "match": r"^[a-zA-Z]{2}(-[a-zA-Z]{2})?$", "default": "en-gb",
                            "desc": "Template culture, e.g. de-de (falls back to en)"},
                "deviceId": {"type": str, "minLength": 32, "maxLength": 32, "convert": "lower",
                             "desc": "A registered device that also gets a welcome push"},
            }},
            "responses": {200: "Success"},
        },
        "state": {
            "parameters": {"path": {"id": {"type": str, "required": True, "match": r"^[0-9a-f]{32}$",
                                           "desc": "A queued id from POST /welcome"}}},
            "responses": {200: "Success", 404: "NotFound"},
        },
    }

    def welcome(self, req, res) -> None:
        body = req.mia.validated_parameters["body"]
        replacements = {"name": body["name"], "url": f"{req.host_url}demo/v1/todo.html"}
        owner = _owner(req)
        mail = _manager().mail(config_id=CONFIG, template="welcome", replacements=replacements,
                               culture=body["culture"], owner=owner).address(body["email"])
        push = None
        if body.get("deviceId"):
            push = _manager().push(config_id=CONFIG, template="welcome", replacements=replacements,
                                   culture=body["culture"], owner=owner).device(body["deviceId"])
        res.response = {"mail": mail, "push": push}

    def state(self, req, res) -> None:
        item = _manager().item(req.mia.validated_parameters["path"]["id"])
        owner = _owner(req)
        if item is None or (owner is not None and item.get("owner") != owner):
            raise MiaError(404)  # a keyed caller sees its own items only; the same answer as an unknown id
        answer = {"type": item["type"], "status": item["status"], "attempts": item["attempts"],
                  "lastError": item.get("lastError"), "reason": item.get("reason")}
        if owner is not None:
            answer["to"] = item["notification"]["to"]
        res.response = answer


def _owner(req) -> str | None:  # noqa: ANN001 - Flask's request
    """``device:<id>`` when generic-validateAccessKey verified the caller's device, else None (anonymous)."""
    device = getattr(req.mia, "device", None)
    return f"device:{device['id']}" if isinstance(device, dict) and device.get("id") else None
