"""Queue a welcome mail and push (mia.js's demo sent its welcome mail from the signup flow).

``POST /demo-notify/v1/welcome`` queues the mail and, when a device id is given, a push to that device;
it answers the queued ids at once. The job ``generic-notificationProcessor`` delivers them (every
5 s while cron jobs run, or now with ``server.py local cron=generic-notificationProcessor`` on a
shared MongoDB). ``GET /demo-notify/v1/notifications/:id`` shows where a queued item is.
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
            "parameters": {"path": {"id": {"type": str, "required": True, "match": r"^[0-9a-fA-F]{24}$",
                                           "desc": "A queued id from POST /welcome"}}},
            "responses": {200: "Success", 404: "NotFound"},
        },
    }

    def welcome(self, req, res) -> None:
        body = req.mia.validated_parameters["body"]
        replacements = {"name": body["name"], "url": f"{req.host_url}demo/v1/todo.html"}
        mail = _manager().mail(config_id=CONFIG, template="welcome", replacements=replacements,
                               culture=body["culture"]).address(body["email"])
        push = None
        if body.get("deviceId"):
            push = _manager().push(config_id=CONFIG, template="welcome", replacements=replacements,
                                   culture=body["culture"]).device(body["deviceId"])
        res.response = {"mail": mail, "push": push}

    def state(self, req, res) -> None:
        item = _manager().item(req.mia.validated_parameters["path"]["id"])
        if item is None:
            raise MiaError(404)
        res.response = {"type": item["type"], "to": item["notification"]["to"], "status": item["status"],
                        "attempts": item["attempts"], "lastError": item.get("lastError"),
                        "reason": item.get("reason")}
