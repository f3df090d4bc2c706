"""The audit trail (issue 27): every security event written once, nothing secret in it, readable by
admin keys only, exported as JSON lines.

Runs on the repository's app (environment ``test``: the embedded store, or MIA_TEST_MONGO_URL's
server); every test uses fresh logins and keys and reads only the events since it started.
"""
from __future__ import annotations

import json
import secrets
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from test_hardening_accounts import identity_config
from test_users import Device, account

from core import Shared

PASSWORD = "correct horse battery"


def trail():
    return Shared.libs("generic-auditTrail")


def events_since(start, **flt):
    return list(Shared.db().auditTrail.find({"at": {"$gte": start}, **flt}))


def admin_key(groups=("audit",)):
    """A device with a static key that opens the given groups (how an operator gives an admin key)."""
    key = secrets.token_hex(16)
    device_id = uuid.uuid4().hex
    Shared.models("generic-device-model").collection().insert_one({
        "id": device_id, "status": "active", "lastModified": datetime.now(UTC),
        "access": {"key": key, "cidr": ["0.0.0.0/0"], "groups": list(groups)}})
    return key, device_id


def test_each_account_event_is_written_once_and_holds_no_secret(client):
    start = datetime.now(UTC) - timedelta(seconds=1)
    login = f"audit-{uuid.uuid4().hex[:8]}@example.com"
    phone = Device(client)
    assert phone.call("POST", "/users/me", {"login": login, "password": PASSWORD}).status_code == 200
    wrong = phone.call("POST", "/users/me/login/native", {"login": login, "password": "not the password"})
    assert wrong.status_code == 401
    assert phone.call("POST", "/users/me/login/native", {"login": login, "password": PASSWORD}).status_code == 200
    etag = phone.call("GET", "/users/me").headers["ETag"]
    new_password = "another horse battery"
    assert phone.call("PUT", "/users/me", {"password": new_password}, **{"If-Match": etag}).status_code == 200
    assert phone.call("POST", "/users/me/requestPasswordReset", {"login": login}).status_code == 200
    token = account(login)["inspectTokens"]["passwordResetToken"]["token"]
    reset_password = "third horse battery"
    assert phone.call("POST", "/users/me/resetPassword", {"token": token, "password": reset_password},
                      signed=False).status_code == 200
    assert phone.call("POST", "/users/me/login/native", {"login": login, "password": reset_password}).status_code == 200
    assert phone.call("POST", "/users/me/logout").status_code == 200
    assert phone.call("POST", "/users/me/login/native", {"login": login, "password": reset_password}).status_code == 200
    assert phone.call("DELETE", "/users/me").status_code == 200

    mine = [e for e in events_since(start) if e.get("deviceId") == phone.id or e.get("login") == login]
    counted = Counter(e["event"] for e in mine if e["event"] != "key.newAddress")  # once per secret and address
    assert counted == Counter({"device.register": 1, "user.signup": 1, "login.failure": 1, "login.success": 3,
                               "password.change": 1, "password.resetRequested": 1, "session.revoke": 1,
                               "user.delete": 1})
    user_id = str(account(login)["_id"]) if account(login) else None
    success = next(e for e in mine if e["event"] == "login.success")
    assert success["deviceId"] == phone.id and success["login"] == login and success["ip"] == "127.0.0.1"
    assert success["requestId"] and success["method"] == "POST" and success["group"] == "generic"
    assert success["path"].endswith("/users/me/login/native")
    assert user_id is None or success["userId"] == user_id
    resets = [e for e in events_since(start, event="password.reset") if e.get("path", "").endswith("resetPassword")]
    assert len(resets) >= 1  # the reset comes without a device: who is the token's owner, from the address
    stored = json.dumps([*mine, *resets], default=str)
    for secret in (PASSWORD, new_password, reset_password, token, phone.secret[1], "passhash", "argon2"):
        assert secret not in stored


def test_a_lockout_is_one_event_after_its_failures(client, monkeypatch):
    identity_config(monkeypatch, "lockout", maxFailures=3, maxFailuresPerIp=1000, duration=60, window=60)
    start = datetime.now(UTC) - timedelta(seconds=1)
    login = f"lock-{uuid.uuid4().hex[:8]}@example.com"
    phone = Device(client)
    phone.call("POST", "/users/me", {"login": login, "password": PASSWORD})
    for _ in range(3):
        assert phone.call("POST", "/users/me/login/native", {"login": login, "password": "nope"}).status_code == 401
    assert phone.call("POST", "/users/me/login/native", {"login": login, "password": PASSWORD}).status_code == 429
    counted = Counter(e["event"] for e in events_since(start, login=login))
    assert counted["login.failure"] == 3 and counted["login.lockout"] == 1
    lockout = events_since(start, login=login, event="login.lockout")[0]
    assert lockout["details"] == {"scope": "acct"} and lockout["deviceId"] == phone.id


def test_key_use_from_a_new_address_is_recorded_once_per_address(client):
    key, device_id = admin_key(groups=("generic",))
    start = datetime.now(UTC) - timedelta(seconds=1)
    for address in ("10.9.8.7", "10.9.8.7", "10.9.8.6", "10.9.8.7"):
        reply = client.get("/api/tests/generic/v1/ping", headers={"key": key}, environ_base={"REMOTE_ADDR": address})
        assert reply.status_code == 200
    trail().forget_addresses()  # another worker, or a restart: the database still knows both addresses
    client.get("/api/tests/generic/v1/ping", headers={"key": key}, environ_base={"REMOTE_ADDR": "10.9.8.6"})
    seen = events_since(start, event="key.newAddress", keyId=device_id)
    assert sorted(e["ip"] for e in seen) == ["10.9.8.6", "10.9.8.7"]
    assert key not in json.dumps(seen, default=str)
    assert {e["details"]["kind"] for e in seen} == {"static"}


def test_the_admin_routes_list_and_export_for_audit_keys_only(client):
    login = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    phone = Device(client)
    phone.call("POST", "/users/me", {"login": login, "password": PASSWORD})
    phone.call("POST", "/users/me/login/native", {"login": login, "password": "wrong wrong"})
    key, _ = admin_key()
    demo = client.get("/audit/v1/events", headers={"key": "9cd43d5622a2fa78b67b3412a2d8c614"})
    assert demo.status_code == 403 and demo.json["errors"][0]["code"] == "KeyInvalidForGroup"
    listed = client.get(f"/audit/v1/events?login={login}", headers={"key": key})
    assert listed.status_code == 200
    assert [e["event"] for e in listed.json["response"]] == ["login.failure", "user.signup"]  # newest first
    assert client.get("/audit/v1/events?event=login.*&limit=1", headers={"key": key}).json["response"][0][
        "event"].startswith("login.")

    since = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    until = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    exported = client.get(f"/audit/v1/events/export?since={since}&until={until}", headers={"key": key})
    assert exported.status_code == 200 and exported.mimetype == "application/x-ndjson"
    lines = [json.loads(line) for line in exported.get_data(as_text=True).splitlines()]
    assert [e["at"] for e in lines] == sorted(e["at"] for e in lines)  # oldest first
    assert {"user.signup", "login.failure", "audit.export"} <= {e["event"] for e in lines if
                                                               e.get("login") == login or e["event"] == "audit.export"}
    assert all(since <= e["at"] < until.replace("Z", "") + "Z" for e in lines)
    backwards = client.get(f"/audit/v1/events/export?since={until}&until={since}", headers={"key": key})
    assert backwards.status_code == 400 and backwards.json["errors"][0]["code"] == "InvalidRange"
    assert client.get(f"/audit/v1/events/export?since={since}", headers={"key": key}).status_code == 400


def test_the_lib_refuses_secret_fields_and_bad_names_and_notes_config_changes(app):
    with app.app_context():
        start = datetime.now(UTC) - timedelta(seconds=1)
        stored = trail().record("shop.refund", actor="cli:ops", details={
            "amount": 5, "password": "x", "refreshToken": "y", "apiKey": "z", "nested": {"secret": "s", "ok": 1}})
        assert stored["details"] == {"amount": 5, "nested": {"ok": 1}} and stored["actor"] == "cli:ops"
        try:
            trail().record("Login Failure")
        except ValueError:
            pass
        else:
            raise AssertionError("a malformed event name must be refused")
        mode = f"audit-{uuid.uuid4().hex[:6]}"
        assert trail().note_configuration({"debug": False, "jwt": {"secret": "one"}}, mode) == []  # the first start
        assert trail().note_configuration({"debug": False, "jwt": {"secret": "two"}, "new": 1}, mode) == ["jwt", "new"]
        assert trail().note_configuration({"debug": False, "jwt": {"secret": "two"}, "new": 1}, mode) == []
        change = events_since(start, event="config.change")
        assert [e["details"] for e in change if e["details"]["mode"] == mode] == [
            {"mode": mode, "changed": ["jwt", "new"]}]
        assert "two" not in json.dumps(change, default=str)
        indexes = Shared.db().auditTrail.index_information()
        assert indexes["expires"]["expireAfterSeconds"] == 0
        assert any(info["key"] == [("event", 1), ("at", -1)] for info in indexes.values())


def test_token_revocation_reuse_and_device_removal_are_each_one_event(client):
    from realtime_kit import PASSWORD as JWT_PASSWORD
    from realtime_kit import add_demo_user

    start = datetime.now(UTC) - timedelta(seconds=1)
    login = f"jwt-{uuid.uuid4().hex[:8]}"
    add_demo_user(login)
    assert client.post("/demo/v1/token", json={"login": login, "password": "wrong"}).status_code == 401
    first = client.post("/demo/v1/token", json={"login": login, "password": JWT_PASSWORD}).json["response"]
    second = client.post("/demo/v1/token/refresh", json={"refreshToken": first["refreshToken"]}).json["response"]
    assert client.post("/demo/v1/token/refresh", json={"refreshToken": first["refreshToken"]}).status_code == 401
    assert client.post("/demo/v1/token/revoke", json={"refreshToken": second["refreshToken"]}).status_code == 200
    counted = Counter(e["event"] for e in events_since(start, login=login))
    assert counted == Counter({"login.failure": 1, "login.success": 1, "token.reuse": 1})
    revokes = [e for e in events_since(start, event="token.revoke") if e["path"] == "/demo/v1/token/revoke"]
    assert len(revokes) == 1 and revokes[0]["details"] == {"known": True}
    stored = json.dumps(events_since(start), default=str)
    for secret in (JWT_PASSWORD, first["refreshToken"], second["refreshToken"], first["accessToken"]):
        assert secret not in stored

    devices = Shared.models("generic-device-model").collection()
    devices.insert_one({"id": uuid.uuid4().hex, "status": "inactive",
                        "lastModified": datetime.now(UTC) - timedelta(hours=2)})
    removed = Shared.crons("generic-removeDevices")().worker()
    assert removed >= 1
    removal = events_since(start, event="device.remove")
    assert len(removal) == 1 and removal[0]["actor"] == "cron:generic-removeDevices"
    assert removal[0]["details"]["count"] == removed
