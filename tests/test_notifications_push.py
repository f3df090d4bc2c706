"""Push notifications: APNs over HTTP/2 and FCM HTTP v1, each against a loopback stand-in."""
from __future__ import annotations

import time

import jwt
import pytest
from db_fixtures import db_env  # noqa: F401 - fixture
from notify_fixtures import (
    APNS_PUBLIC_PEM,
    FAST,
    KEY_ID,
    TEAM_ID,
    TOPIC,
    ApnsStandIn,
    FcmStandIn,
    notification_config,
)

from core.notifications import NotificationManager, Processor
from core.notifications.connectors import DeliveryError, apns, fcm
from core.shared import Shared

CONFIG = "notification-templates"
IOS, ANDROID = "1" * 32, "2" * 32


@pytest.fixture
def servers(tree, db_env):  # noqa: F811 - fixture
    """APNs and FCM stand-ins, and the tree's app with a config pointing at them; closes the clients."""
    with ApnsStandIn() as apple, FcmStandIn() as google:
        tree.env({**db_env.settings(), "notifications": FAST})
        tree.write("projects/base/config/notifications.py", notification_config(25, apple.url, google))
        tree.app()
        yield apple, google
        apns.close_all()
        fcm.close_all()


def add_device(device_id: str, os_type: str, token: str | None, language: str = "en") -> None:
    notification = {"environment": "production", **({"token": token} if token else {})}
    Shared.db()["devices"].insert_one({"id": device_id, "culture": {"language": language, "region": "gb"},
                                       "device": {"os": {"type": os_type}, "notification": notification}})


def device_token(device_id: str) -> str | None:
    return Shared.db()["devices"].find_one({"id": device_id})["device"]["notification"].get("token")


def push(device_id: str, **options) -> str:
    return NotificationManager().push(config_id=CONFIG, template="welcome", **options).device(device_id)


def test_apns_gets_an_es256_provider_token_and_the_rendered_payload(servers):
    apple, _ = servers
    add_device(IOS, "ios", "a1b2c3")
    queued = push(IOS, replacements={"NAME": "Ada"}, payload={"orderId": 42}, badge=3)
    assert Processor().run()["fulfilled"] == 1

    assert apple.problems == [] and len(apple.requests) == 1
    request = apple.requests[0]
    assert request["token"] == "a1b2c3"
    headers = request["headers"]
    assert (headers["apns-topic"], headers["apns-push-type"], headers["apns-priority"]) == (TOPIC, "alert", "10")
    token = headers["authorization"].removeprefix("bearer ")
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": KEY_ID, "typ": "JWT"}
    claims = jwt.decode(token, APNS_PUBLIC_PEM, algorithms=["ES256"])
    assert claims["iss"] == TEAM_ID and abs(claims["iat"] - time.time()) < 60
    assert request["payload"] == {"aps": {"alert": {"title": "Welcome", "body": "Hi Ada"}, "badge": 3,
                                          "sound": "default"},
                                  "screen": "home", "orderId": 42, "messageId": queued}
    status = NotificationManager().status(queued)
    assert (status["status"], status["sentPerType"], status["numFailed"]) == ("succeeded", {"ios": 1}, 0)


def test_apns_reuses_one_connection_and_one_cached_token(servers):
    apple, _ = servers
    for number in range(3):
        add_device(f"{number}" * 32, "ios", f"token{number}")
        push(f"{number}" * 32, replacements={"name": str(number)})
    assert Processor().run()["fulfilled"] == 3
    assert apple.connections == 1
    assert len({r["headers"]["authorization"] for r in apple.requests}) == 1
    assert [r["payload"]["aps"]["alert"]["body"] for r in apple.requests] == ["Hi 0", "Hi 1", "Hi 2"]


def test_apns_410_rejects_the_push_and_clears_the_device_token(servers):
    apple, _ = servers
    add_device(IOS, "ios", "dead-token")
    apple.answers["dead-token"] = (410, "Unregistered")
    queued = push(IOS)
    assert Processor().run() == {"claimed": 1, "fulfilled": 0, "retried": 0, "rejected": 1, "lost": 0}
    item = NotificationManager().item(queued)
    assert (item["status"], item["reason"], item["attempts"]) == ("rejected", "Unregistered", 1)
    assert "410" in item["lastError"]
    assert device_token(IOS) is None
    status = NotificationManager().status(queued)
    assert (status["status"], status["failedPerType"], status["errorsByReason"]) == (
        "failed", {"ios": 1}, {"Unregistered": 1})


def test_apns_bad_device_token_clears_it(servers):
    apple, _ = servers
    add_device(IOS, "ios", "old-token")
    apple.answers["old-token"] = (400, "BadDeviceToken")
    queued = push(IOS)
    Processor().run()
    assert NotificationManager().item(queued)["reason"] == "BadDeviceToken"
    assert device_token(IOS) is None


def test_a_token_the_app_renewed_during_the_send_is_kept(servers, monkeypatch):
    add_device(IOS, "ios", "old-token")

    def send(self, token, *args, **kwargs):  # the app registers a new token while APNs answers
        Shared.db()["devices"].update_one({"id": IOS}, {"$set": {"device.notification.token": "new-token"}})
        raise DeliveryError("BadDeviceToken", "APNs answered 400", permanent=True, clear_token=True)

    monkeypatch.setattr(apns.ApnsClient, "send", send)
    queued = push(IOS)
    Processor().run()
    assert NotificationManager().item(queued)["status"] == "rejected"
    assert device_token(IOS) == "new-token"


def test_apns_server_errors_are_retried_then_rejected(servers):
    apple, _ = servers
    add_device(IOS, "ios", "busy")
    apple.answers["busy"] = (503, "ServiceUnavailable")
    queued = push(IOS)
    counts = Processor().run()
    assert (counts["claimed"], counts["retried"], counts["rejected"]) == (3, 2, 1)
    item = NotificationManager().item(queued)
    assert (item["status"], item["reason"], item["attempts"]) == ("rejected", "ServiceUnavailable", 3)
    assert device_token(IOS) == "busy"  # not a dead token


def test_a_device_without_token_or_unknown_is_rejected(servers):
    add_device(IOS, "ios", None)
    no_token = push(IOS)
    unknown = push("9" * 32)
    Processor().run()
    assert NotificationManager().item(no_token)["reason"] == "MissingPushToken"
    assert NotificationManager().item(unknown)["reason"] == "DeviceNotFound"


def test_the_provider_token_is_renewed_before_its_hour(servers, monkeypatch):
    apple, _ = servers
    client = apns.ApnsClient(apple.url, {"keyId": KEY_ID, "teamId": TEAM_ID, "key": notification_key()})
    first = client.provider_token()
    assert client.provider_token() == first  # cached
    start = time.time()
    monkeypatch.setattr(apns.time, "time", lambda: start + 46 * 60)  # older than tokenRefresh (45 min)
    renewed = client.provider_token()
    assert renewed != first
    assert jwt.decode(renewed, APNS_PUBLIC_PEM, algorithms=["ES256"],
                      options={"verify_iat": False})["iat"] == int(start + 46 * 60)
    client.close()


def notification_key() -> str:
    from notify_fixtures import APNS_KEY_PEM

    return APNS_KEY_PEM


def test_fcm_exchanges_an_assertion_once_and_sends_with_the_bearer_token(servers):
    _, google = servers
    add_device(ANDROID, "android", "fcm-token-1", language="de")
    add_device("3" * 32, "android", "fcm-token-2", language="de")
    first = push(ANDROID, replacements={"name": "Ada"}, payload={"orderId": 42})
    push("3" * 32, replacements={"name": "Bo"})
    assert Processor().run()["fulfilled"] == 2

    assert len(google.exchanges) == 1 and google.rejected_auth == 0  # the access token is cached
    message = google.messages[0]
    assert message == {"token": "fcm-token-1", "notification": {"title": "Willkommen", "body": "Hallo Ada"},
                       "data": {"screen": "start", "orderId": "42", "messageId": first}}
    assert google.messages[1]["notification"]["body"] == "Hallo Bo"
    status = NotificationManager().status(first)
    assert status["sentPerType"] == {"android": 1}


def test_fcm_uses_the_apns_template_when_there_is_no_fcm_one(servers):
    _, google = servers
    add_device(ANDROID, "android", "fcm-token", language="en")
    push(ANDROID, replacements={"name": "Ada"})
    Processor().run()
    assert google.messages[0]["notification"] == {"title": "Welcome", "body": "Hi Ada"}
    assert google.messages[0]["data"]["screen"] == "home"


def test_fcm_unregistered_rejects_and_clears_the_token(servers):
    _, google = servers
    add_device(ANDROID, "android", "gone")
    google.answers["gone"] = (404, "UNREGISTERED")
    queued = push(ANDROID)
    Processor().run()
    item = NotificationManager().item(queued)
    assert (item["status"], item["reason"]) == ("rejected", "UNREGISTERED")
    assert device_token(ANDROID) is None


def test_push_to_a_user_reaches_every_logged_in_device_with_counts_per_platform(servers):
    apple, google = servers
    add_device(IOS, "ios", "ios-token")
    add_device(ANDROID, "android", "android-token")
    user = Shared.db()["users"].insert_one({"login": "ada", "accessTokens": [
        {"token": "t1", "appId": "app", "device": {"id": IOS}},
        {"token": "t2", "appId": "app", "device": {"id": ANDROID}}]}).inserted_id
    ids = NotificationManager().push(config_id=CONFIG, template="welcome", replacements={"name": "Ada"}).user(str(user))
    assert len(ids) == 2
    assert Processor().run()["fulfilled"] == 2
    assert len(apple.requests) == 1 and len(google.messages) == 1
    status = NotificationManager().status(ids[0])
    assert (status["status"], status["numTargets"], status["numSent"], status["sentPerType"]) == (
        "succeeded", 2, 2, {"ios": 1, "android": 1})
