"""generic-deviceProfile (create/update), device culture, the deprecated session flow and the seeds."""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import UTC, datetime, timedelta

from client import v1_key
from core import Shared

P = "/api/tests/generic/v1"
SECRET_ID, SECRET = "6ff870ad33a86982550543e2f92623c5", "10f2bde9a138ef5aeed40812b0a1594b"  # generic demo secret
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 13_2_3 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
ANDROID_TABLET = "Mozilla/5.0 (Linux; Android 9; SM-T820) AppleWebKit/537.36 Chrome/80.0 Safari/537.36"


def devices():
    return Shared.models("generic-device-model").collection()


def signed(client, device_id, method, path, body=None, **headers):
    key = v1_key(device_id, SECRET_ID, SECRET, method, "http://localhost", path, body)
    headers = {"key": key, **headers}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return client.open(path, method=method, data=body, headers=headers)


def test_create_with_empty_body_stores_mia_defaults(client):
    reply = client.post(P + "/devices", headers={"User-Agent": IPHONE})
    assert reply.status_code == 200
    device_id = reply.json["response"]["id"]
    assert reply.json == {"status": 200, "response": {"id": device_id}}
    assert re.fullmatch(r"[0-9a-f]{32}", device_id)
    assert int(reply.headers["timestamp"]) > 0
    stored = devices().find_one({"id": device_id})
    assert stored["status"] == "inactive"
    assert stored["culture"] == {"language": "de", "region": "de"}
    assert stored["session"] == {"expireable": True}
    assert stored["device"] == {"userAgent": IPHONE, "group": "phone", "os": {"type": "ios", "version": "13.2.3"},
                                "notification": {"environment": "production"}}
    assert isinstance(stored["created"], datetime) and stored["created"] == stored["lastModified"]


def test_create_keeps_only_declared_profile_fields(client):
    body = {"culture": {"code": "en-GB"}, "app": {"id": "com.example.app", "version": "1.2.3"},
            "device": {"model": "SM-T820", "screen": {"resolution": "1080x720"},
                       "notification": {"token": "push-token", "environment": "sandbox"}},
            "status": "active", "access": {"key": "a" * 32, "cidr": ["0.0.0.0/0"]},
            "rateLimit": {"interval": 1, "maxRequests": 1000000}, "session": {"id": "b" * 64}}
    reply = client.post(P + "/devices", json=body, headers={"User-Agent": ANDROID_TABLET})
    assert reply.status_code == 200
    stored = devices().find_one({"id": reply.json["response"]["id"]})
    assert stored["status"] == "inactive"
    assert "access" not in stored and "rateLimit" not in stored and "id" not in stored.get("session", {})
    assert stored["culture"] == {"language": "en", "region": "gb"}
    assert stored["app"] == {"id": "com.example.app", "version": "1.2.3"}
    assert stored["device"]["model"] == "sm-t820"
    assert stored["device"]["screen"] == {"height": 1080, "width": 720}  # mia.js's AxB -> height=A, width=B
    assert stored["device"]["group"] == "tablet" and stored["device"]["os"] == {"type": "android", "version": "9"}
    assert stored["device"]["notification"] == {"token": "push-token", "environment": "sandbox"}


def test_ids_are_random_and_a_collision_is_retried(client, monkeypatch):
    ids = {client.post(P + "/devices").json["response"]["id"] for _ in range(5)}
    assert len(ids) == 5
    taken = next(iter(ids))
    real = secrets.token_hex
    calls = []

    def colliding(n=None):
        calls.append(n)
        return taken if len(calls) == 1 and n == 16 else real(n)

    monkeypatch.setattr(secrets, "token_hex", colliding)
    reply = client.post(P + "/devices")
    assert reply.status_code == 200
    assert reply.json["response"]["id"] not in ids
    assert devices().count_documents({"id": taken}) == 1


def test_create_reports_invalid_profile_values(client):
    reply = client.post(P + "/devices", json={"culture": {"code": "english"}, "device": {"group": "fridge"}})
    assert reply.status_code == 400
    found = {(e["code"], e["id"], e["in"]) for e in reply.json["errors"]}
    assert found == {("MaxLengthExceeded", "culture.code", "body"), ("ValueNotAllowed", "device.group", "body")}
    short_agent = client.post(P + "/devices", headers={"User-Agent": "abc"})
    assert short_agent.status_code == 400  # mia.js answered [{}]; the model error is kept
    assert short_agent.json["errors"][0]["code"] == "MinLengthUnderachieved"
    assert short_agent.json["errors"][0]["id"] == "device.userAgent"


def test_update_changes_the_signing_device_only(client):
    mine = client.post(P + "/devices", json={"culture": {"code": "en-gb"}}).json["response"]["id"]
    other = client.post(P + "/devices").json["response"]["id"]
    body = json.dumps({"culture": {"code": "fr-fr"}, "device": {"model": "Pixel 7"}})
    reply = signed(client, mine, "PUT", f"{P}/devices/{mine}", body, **{"User-Agent": IPHONE})
    assert reply.status_code == 200 and reply.json == {"status": 200, "response": {"id": mine}}
    assert "timestamp" in reply.headers
    stored = devices().find_one({"id": mine})
    assert stored["culture"] == {"language": "fr", "region": "fr"}
    assert stored["device"]["model"] == "pixel 7" and stored["device"]["group"] == "phone"
    assert stored["device"]["notification"] == {"environment": "production"}  # untouched fields stay
    assert stored["status"] == "active"

    forbidden = signed(client, mine, "PUT", f"{P}/devices/{other}", "{}")
    assert forbidden.status_code == 403 and forbidden.json["errors"][0]["code"] == "Forbidden"
    assert "timestamp" in forbidden.headers
    bad_id = signed(client, mine, "PUT", f"{P}/devices/abc", "{}")
    assert bad_id.status_code == 400
    assert bad_id.json["errors"][0] == {"code": "MinLengthUnderachieved", "id": "id",
                                        "msg": "id length is less than 32 chars", "in": "path"}


def test_device_culture_drives_messages_after_validation(client):
    german = client.post(P + "/devices").json["response"]["id"]  # no culture.code: mia.js's default de-de
    english = client.post(P + "/devices", json={"culture": {"code": "en-gb"}}).json["response"]["id"]
    other = client.post(P + "/devices").json["response"]["id"]
    de = signed(client, german, "PUT", f"{P}/devices/{other}", "{}")
    en = signed(client, english, "PUT", f"{P}/devices/{other}", "{}")
    assert de.json["errors"][0]["msg"] == "Du bist nicht berechtigt diesen Service zu verwenden"
    assert en.json["errors"][0]["msg"] == "You are not allowed to access this service"
    # Errors of the key check itself come before the device is known: request culture (default en).
    expired = client.get(P + "/ping", headers={"key": german + SECRET_ID + "1000000000" + "0" * 64})
    assert expired.json["errors"][0]["msg"] == "Key is expired"


def test_deprecated_session_flow(client):
    device_id = client.post(P + "/devices").json["response"]["id"]
    key = hashlib.md5((SECRET + device_id).encode()).hexdigest() + SECRET_ID
    created = client.post(f"{P}/devices/{device_id}/sessions", headers={"key": key})
    assert created.status_code == 200 and created.json["deprecated"] is True
    session = created.json["response"]["sessionId"]
    assert re.fullmatch(r"[0-9a-f]{64}", session)
    stored = devices().find_one({"id": device_id})
    assert stored["session"]["cidr"] == ["127.0.0.1/32"] and stored["session"]["groups"] == ["generic"]
    assert client.get(P + "/session/ping", headers={"session": session}).status_code == 200

    wrong = client.post(f"{P}/devices/{device_id}/sessions", headers={"key": "0" * 32 + SECRET_ID})
    assert wrong.status_code == 403 and wrong.json["errors"][0]["code"] == "AccessKeyInvalid"
    elsewhere = client.get(P + "/session/ping", headers={"session": session}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert elsewhere.status_code == 403 and elsewhere.json["errors"][0]["code"] == "IPNotAllowed"
    unknown = client.get(P + "/session/ping", headers={"session": "f" * 64})
    assert unknown.status_code == 403 and unknown.json["errors"][0]["code"] == "SessionTokenNotValid"
    old = datetime.now(UTC) - timedelta(minutes=11)
    devices().update_one({"id": device_id}, {"$set": {"session.created": old}})
    expired = client.get(P + "/session/ping", headers={"session": session})
    assert expired.status_code == 403 and expired.json["errors"][0]["code"] == "SessionTokenNotValid"


def test_init_seeds_the_generic_and_demo_secrets_and_the_static_demo_device(client):
    secrets_ = Shared.models("generic-secret-model").collection()
    generic = secrets_.find_one({"id": SECRET_ID})
    assert generic["secret"] == SECRET and generic["groups"] == ["generic"] and generic["enabled"] is True
    demo = secrets_.find_one({"id": "91205b43c5144068ee9979b093925f77"})
    assert demo["secret"] == "74168c7a1868ddeee3355fab9489914b" and demo["groups"] == ["demo"]
    static = devices().find_one({"access.key": "9cd43d5622a2fa78b67b3412a2d8c614"})
    assert static["status"] == "active" and static["access"]["cidr"] == ["0.0.0.0/0"]
    assert static["culture"] == {"language": "de", "region": "de"} and static["session"]["expireable"] is False
    indexes = {tuple(v["key"]) : v for v in devices().index_information().values()}
    assert indexes[(("id", 1),)].get("unique") is True
