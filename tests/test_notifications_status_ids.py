"""Notification status ids (issue 22 N8): unguessable, and the recipient is shown only to its owner.

Through the HTTP API: the anonymous route ``/demo-notify/v1`` and the keyed one ``/demo-auth/v1``.
"""
from __future__ import annotations

import re

from core.notifications import NotificationManager
from core.shared import Shared

STATIC_KEY = "9cd43d5622a2fa78b67b3412a2d8c614"  # the demo's published static key
OTHER_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def _other_device() -> None:
    devices = Shared.models("generic-device-model")
    devices.collection().insert_one(devices.validate({
        "status": "active", "access": {"key": OTHER_KEY, "cidr": ["0.0.0.0/0"], "groups": ["demo"]},
        "session": {"cidr": ["0.0.0.0/0"], "expireable": False}, "culture": {"code": "en-gb"}}))


def _post(client, path: str, email: str, key: str | None = None) -> str:
    headers = {"key": key} if key else {}
    reply = client.post(path, json={"email": email, "name": "Ada"}, headers=headers)
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()["response"]["mail"]


def test_the_public_status_route_never_shows_the_recipient(client):
    queued = _post(client, "/demo-notify/v1/welcome", "victim@example.com")
    state = client.get(f"/demo-notify/v1/notifications/{queued}").get_json()["response"]
    assert state["status"] == "pending"
    assert "to" not in state and "victim@example.com" not in str(state)


def test_status_ids_cannot_be_counted_down_from_ones_own(client):
    victim = _post(client, "/demo-notify/v1/welcome", "victim@example.com")
    mine = _post(client, "/demo-notify/v1/welcome", "attacker@example.com")
    assert re.fullmatch(r"[0-9a-f]{32}", mine) and re.fullmatch(r"[0-9a-f]{32}", victim)
    width = len(mine)
    neighbours = {f"{int(mine, 16) - step:0{width}x}" for step in range(1, 65)}
    neighbours |= {f"{int(mine, 16) + step:0{width}x}" for step in range(1, 65)}
    assert victim not in neighbours
    found = [n for n in neighbours if client.get(f"/demo-notify/v1/notifications/{n}").status_code != 404]
    assert found == []
    # An ObjectId-shaped id (what ids used to be) is refused by the precondition.
    assert client.get("/demo-notify/v1/notifications/0123456789abcdef01234567").status_code == 400
    status_ids = {doc["_id"] for doc in Shared.db()["notificationStatus"].find()}
    assert all(isinstance(i, str) and re.fullmatch(r"[0-9a-f]{32}", i) for i in status_ids)


def test_the_owner_sees_the_recipient_and_another_device_does_not(client):
    _other_device()
    queued = _post(client, "/demo-auth/v1/welcome", "ada@example.com", key=STATIC_KEY)
    assert NotificationManager().item(queued)["owner"].startswith("device:")

    mine = client.get(f"/demo-auth/v1/notifications/{queued}", headers={"key": STATIC_KEY}).get_json()
    assert mine["response"]["to"] == "ada@example.com"
    theirs = client.get(f"/demo-auth/v1/notifications/{queued}", headers={"key": OTHER_KEY})
    assert theirs.status_code == 404
    anonymous = client.get(f"/demo-notify/v1/notifications/{queued}").get_json()["response"]
    assert "to" not in anonymous
    assert client.get(f"/demo-auth/v1/notifications/{queued}").status_code == 400  # no key
