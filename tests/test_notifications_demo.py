"""The demo's welcome route: it queues a mail and a push that the processor job then delivers."""
from __future__ import annotations

import pytest
from notify_fixtures import smtp_server

from core.notifications import Processor
from core.shared import Shared


@pytest.fixture
def smtp(monkeypatch):
    """A loopback SMTP server the demo config is pointed at through MIA_SMTP_PORT."""
    with smtp_server() as server:
        monkeypatch.setenv("MIA_SMTP_PORT", str(server.port))
        yield server


def test_the_welcome_route_queues_a_mail_and_a_push_the_processor_delivers(client, smtp):
    reply = client.post("/demo-auth/v1/devices", json={"culture": {"code": "de-de"}})
    device_id = reply.get_json()["response"]["id"]
    Shared.db()["devices"].update_one({"id": device_id}, {"$set": {"device.notification.token": "a1b2"}})

    reply = client.post("/demo-notify/v1/welcome", json={"email": "ada@example.com", "name": "Ada <3",
                                                          "culture": "de-de", "deviceId": device_id})
    assert reply.status_code == 200
    queued = reply.get_json()["response"]
    assert client.get(f"/demo-notify/v1/notifications/{queued['mail']}").get_json()["response"]["status"] == "pending"

    assert Processor().run()["claimed"] == 2

    [mail] = smtp.messages
    assert (mail["To"], mail["Subject"]) == ("ada@example.com", "Willkommen bei der mia.py-Demo, Ada <3")
    assert "<h1>Willkommen, Ada &lt;3!</h1>" in mail.get_body(preferencelist=("html",)).get_content()
    state = client.get(f"/demo-notify/v1/notifications/{queued['mail']}").get_json()["response"]
    assert (state["status"], state["attempts"]) == ("fulfilled", 1) and "to" not in state  # anonymous
    # The demo ships no APNs key: the push is rejected at once with the reason, not retried.
    state = client.get(f"/demo-notify/v1/notifications/{queued['push']}").get_json()["response"]
    assert (state["status"], state["reason"]) == ("rejected", "ApnsNotConfigured")


def test_the_welcome_route_checks_its_input(client, smtp):
    reply = client.post("/demo-notify/v1/welcome", json={"email": "not an address", "name": "Ada"})
    assert reply.status_code == 400
    assert reply.get_json()["errors"][0]["code"] == "PatternMismatch"
    reply = client.post("/demo-notify/v1/welcome", json={"name": "Ada"})
    assert reply.status_code == 400 and reply.get_json()["errors"][0]["code"] == "MissingRequiredParameter"
    assert client.get("/demo-notify/v1/notifications/0123456789abcdef0123456789abcdef").status_code == 404
