"""Sessions end with the account's credentials (issue 22, N3), through the HTTP API of the demo.

A demo user has device logins (``/demo-auth/v1``, signed requests) and JWT sessions (``POST
/demo/v1/token``, refreshed at ``/demo/v1/token/refresh``). A password change, a password reset, an
account deletion, a device removal and a logout everywhere each end every JWT and refresh token of
the account and every other device login; a refresh family ends ``refreshTokenLifetime`` after its
login however often it rotates.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from test_users import Device, codes, users

from core import Shared

AUTH, V1 = "/demo-auth/v1", "/demo/v1"
DEMO_SECRET = ("91205b43c5144068ee9979b093925f77", "74168c7a1868ddeee3355fab9489914b")  # published demo value
PASSWORD, NEW_PASSWORD = "correct horse 9", "brand new secret 1"
LOGIN = "lena@example.com"


def demo_device(client):
    return Device(client, prefix=AUTH, secret=DEMO_SECRET)


@pytest.fixture
def account(client):
    """A demo user logged in on a phone and a tablet, with two JWT sessions (one already rotated)."""
    phone, tablet = demo_device(client), demo_device(client)
    assert phone.call("POST", "/users/me", {"login": LOGIN, "password": PASSWORD, "name": "Lena"}).status_code == 200
    assert tablet.call("POST", "/users/me/login", {"login": LOGIN, "password": PASSWORD}).status_code == 200
    sessions = [jwt_login(client), jwt_login(client)]
    rotated = refresh(client, sessions[1]["refreshToken"])
    assert rotated.status_code == 200
    sessions[1] = rotated.json["response"]
    for session in sessions:
        assert me(client, session).status_code == 200
    return {"client": client, "phone": phone, "tablet": tablet, "sessions": sessions}


def jwt_login(client, password=PASSWORD):
    reply = client.post(f"{V1}/token", json={"login": LOGIN, "password": password})
    assert reply.status_code == 200, reply.json
    return reply.json["response"]


def me(client, session):
    return client.get(f"{V1}/me", headers={"Authorization": f"Bearer {session['accessToken']}"})


def refresh(client, token):
    return client.post(f"{V1}/token/refresh", json={"refreshToken": token})


def assert_jwt_sessions_ended(account):
    client = account["client"]
    for session in account["sessions"]:
        reply = me(client, session)
        assert reply.status_code == 401 and codes(reply) == ["TokenRevoked"]
        assert reply.headers["WWW-Authenticate"].endswith('error="invalid_token"')
        again = refresh(client, session["refreshToken"])
        assert again.status_code == 401 and codes(again) == ["RefreshTokenRevoked"]
    stored = Shared.models("generic-refreshToken-model").collection()
    assert stored.count_documents({"status": "active"}) == 0


def test_a_password_change_ends_every_jwt_refresh_token_and_other_login(account):
    phone, tablet, client = account["phone"], account["tablet"], account["client"]
    etag = phone.call("GET", "/users/me").headers["ETag"]
    assert phone.call("PUT", "/users/me", {"password": NEW_PASSWORD}, **{"If-Match": etag}).status_code == 200
    assert_jwt_sessions_ended(account)
    assert codes(tablet.call("GET", "/users/me")) == ["NoUserIsLoggedIn"]
    assert phone.call("GET", "/users/me").status_code == 200  # the device that changed it stays
    fresh = jwt_login(client, NEW_PASSWORD)
    assert me(client, fresh).status_code == 200 and refresh(client, fresh["refreshToken"]).status_code == 200


def test_a_password_reset_ends_every_session(account):
    phone, client = account["phone"], account["client"]
    assert phone.call("POST", "/users/me/password-reset", {"login": LOGIN}).status_code == 200
    token = users().find_one({"login": LOGIN})["inspectTokens"]["passwordResetToken"]["token"]
    reply = client.post(f"{AUTH}/users/me/password", json={"token": token, "password": NEW_PASSWORD})
    assert reply.status_code == 200
    assert_jwt_sessions_ended(account)
    for device in (phone, account["tablet"]):
        assert codes(device.call("GET", "/users/me")) == ["NoUserIsLoggedIn"]


def test_an_account_deletion_ends_every_session(account):
    assert account["phone"].call("DELETE", "/users/me").status_code == 200
    assert_jwt_sessions_ended(account)
    assert codes(account["tablet"].call("GET", "/users/me")) == ["NoUserIsLoggedIn"]
    # Signing up again re-uses the document: the old sessions stay dead.
    again = demo_device(account["client"])
    assert again.call("POST", "/users/me", {"login": LOGIN, "password": PASSWORD, "name": "L"}).status_code == 200
    assert_jwt_sessions_ended(account)


def test_a_device_removal_ends_its_login_and_every_jwt(account):
    phone, tablet = account["phone"], account["tablet"]
    assert phone.call("DELETE", f"/users/me/devices/{tablet.id}").status_code == 200
    assert codes(tablet.call("GET", "/users/me")) == ["NoUserIsLoggedIn"]
    assert_jwt_sessions_ended(account)
    assert phone.call("GET", "/users/me").status_code == 200  # the device that removed it stays


def test_logout_everywhere_from_a_device_ends_every_session(account):
    assert account["phone"].call("POST", "/users/me/logout-everywhere").status_code == 200
    assert_jwt_sessions_ended(account)
    for device in (account["phone"], account["tablet"]):
        assert codes(device.call("GET", "/users/me")) == ["NoUserIsLoggedIn"]


def test_logout_everywhere_with_a_jwt_ends_every_session(account):
    client, session = account["client"], account["sessions"][0]
    reply = client.post(f"{V1}/token/revoke-all", headers={"Authorization": f"Bearer {session['accessToken']}"})
    assert reply.status_code == 200 and reply.json["response"] == {"revoked": True}
    assert_jwt_sessions_ended(account)
    for device in (account["phone"], account["tablet"]):
        assert codes(device.call("GET", "/users/me")) == ["NoUserIsLoggedIn"]


def test_a_refresh_family_has_an_absolute_lifetime(account):
    client = account["client"]
    tokens = Shared.models("generic-refreshToken-model").collection()
    session = jwt_login(client)
    first_end = tokens.find_one({"status": "active", "familyStarted": {"$exists": True}},
                                sort=[("created", -1)])["expires"]
    lives = [session["refreshExpiresIn"]]
    for _ in range(3):
        session = refresh(client, session["refreshToken"]).json["response"]
        lives.append(session["refreshExpiresIn"])
    assert lives == sorted(lives, reverse=True)  # rotation never grants a longer life
    newest = tokens.find_one({"status": "active"}, sort=[("created", -1)])
    assert newest["expires"] == first_end
    # The family started a lifetime ago: its newest token, issued a moment ago, is refused too.
    lifetime = Shared.libs("generic-jwtKeys").config()[0]["refreshTokenLifetime"]
    tokens.update_many({"family": newest["family"]}, {"$set": {
        "familyStarted": datetime.now(UTC) - timedelta(seconds=lifetime + 1),
        "expires": datetime.now(UTC) + timedelta(days=1)}})
    expired = refresh(client, session["refreshToken"])
    assert expired.status_code == 401 and codes(expired) == ["RefreshTokenExpired"]
