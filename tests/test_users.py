"""generic-users end to end: the whole account life cycle, device limits, scoping, custom models, Facebook."""
from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from client import v1_key
from core import Shared

ROOT = Path(__file__).resolve().parent.parent
P = "/api/tests/generic/v1"
SECRET_ID, SECRET = "6ff870ad33a86982550543e2f92623c5", "10f2bde9a138ef5aeed40812b0a1594b"  # generic demo secret


def users():
    return Shared.models("generic-user-model").collection()


class Device:
    """One registered device talking to the app through Flask's test client, signing with v1."""

    seen: list[str] = []  # every response body and header, to check that no secret ever leaves

    def __init__(self, client, culture="en-gb", prefix=P, secret=(SECRET_ID, SECRET)):
        self.client, self.prefix, self.secret = client, prefix, secret
        body = {"culture": {"code": culture}} if culture else {}
        self.id = client.post(prefix + "/devices", json=body).json["response"]["id"]

    def call(self, method, path, body=None, signed=True, **headers):
        target = self.prefix + path
        text = json.dumps(body) if body is not None else None
        if signed:
            headers["key"] = v1_key(self.id, self.secret[0], self.secret[1], method, "http://localhost", target, text)
        if text is not None:
            headers["Content-Type"] = "application/json"
        reply = self.client.open(target, method=method, data=text, headers=headers)
        Device.seen.append(reply.get_data(as_text=True) + repr(sorted(reply.headers.items())))
        return reply


def codes(reply):
    return [e["code"] for e in reply.json["errors"]]


def account(login):
    return users().find_one({"login": login})


@pytest.fixture(autouse=True)
def _watch_responses():
    Device.seen = []
    yield


def assert_no_secrets_in_responses():
    """No password hash or token of any account ever appeared in a response."""
    text = "\n".join(Device.seen)
    for user in users().find():
        values = [user.get("passHash")] + [t["token"] for t in user.get("accessTokens") or []]
        holders = [user.get("inspectTokens") or {}]
        holders += [m.get("inspectTokens") or {} for m in user.get("messaging") or []]
        for holder in holders:
            values += [v.get("token") for v in holder.values() if isinstance(v, dict)]
        for value in values:
            assert not value or value not in text
    assert "passHash" not in text and "accessTokens" not in text and "inspectTokens" not in text


def test_user_life_cycle(client):
    phone = Device(client)
    login = {"login": "Alice@Example.com", "password": "correct horse"}
    signup = phone.call("POST", "/users/me", login)
    assert signup.status_code == 200
    user_id = signup.json["response"]["userId"]
    assert signup.json["response"] == {"userId": user_id, "login": "alice@example.com",
                                       "email": {"value": "alice@example.com", "validated": False}, "profile": {}}
    stored = account("alice@example.com")
    assert stored["passHash"].startswith("$argon2id$") and signup.headers["ETag"] == stored["etag"]
    assert stored["accessTokens"] == []  # loginOnSignUp is off by default

    assert codes(phone.call("POST", "/users/me", login)) == ["LoginAlreadyExists"]
    assert phone.call("POST", "/users/me", login).status_code == 401
    bad_mail = phone.call("POST", "/users/me", {"login": "not-an-email", "password": "x"})
    assert bad_mail.status_code == 400 and codes(bad_mail) == ["InvalidEmailAddress"]

    assert codes(phone.call("GET", "/users/me")) == ["NoUserIsLoggedIn"]
    wrong = phone.call("POST", "/users/me/login/native", {"login": "alice@example.com", "password": "wrong"})
    assert wrong.status_code == 401 and codes(wrong) == ["InvalidCredentials"]
    unknown = phone.call("POST", "/users/me/login/native", {"login": "nobody@example.com", "password": "wrong"})
    assert unknown.status_code == 401 and codes(unknown) == ["InvalidCredentials"]
    logged_in = phone.call("POST", "/users/me/login/native", login)
    assert logged_in.status_code == 200 and logged_in.json["response"]["userId"] == user_id

    profile = phone.call("GET", "/users/me")
    assert profile.status_code == 200 and profile.json["response"]["login"] == "alice@example.com"
    etag = profile.headers["ETag"]
    not_modified = phone.call("GET", "/users/me", **{"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.get_data() == b""

    stale = phone.call("PUT", "/users/me", {"login": "alice2@example.com"}, **{"If-Match": "0" * 32})
    assert stale.status_code == 412
    assert stale.json["status"] == 412 and codes(stale) == ["PreconditionFailedETag"]
    no_etag = phone.call("PUT", "/users/me", {"login": "alice2@example.com"})
    assert no_etag.status_code == 400 and no_etag.json["errors"][0]["id"] == "if-match"
    changed = phone.call("PUT", "/users/me", {"login": "alice2@example.com", "email": "alice2@example.com"},
                         **{"If-Match": etag})
    assert changed.status_code == 200
    assert changed.json["response"]["login"] == "alice2@example.com"
    assert changed.json["response"]["email"] == {"value": "alice2@example.com", "validated": False}
    assert changed.headers["ETag"] != etag
    again = phone.call("PUT", "/users/me", {"login": "alice3@example.com"}, **{"If-Match": etag})
    assert again.status_code == 412  # the old etag is stale now

    assert phone.call("POST", "/users/me/logout").json == {"status": 200}
    assert phone.call("POST", "/users/me/logout").status_code == 200  # nobody logged in: still 200
    assert codes(phone.call("GET", "/users/me")) == ["NoUserIsLoggedIn"]

    login2 = {"login": "alice2@example.com", "password": "correct horse"}
    assert phone.call("POST", "/users/me/login/native", login2).status_code == 200
    deleted = phone.call("DELETE", "/users/me")
    assert deleted.status_code == 200 and deleted.json == {"status": 200}
    stored = account("alice2@example.com")
    assert stored["status"] == "deleted" and "passHash" not in stored and stored["accessTokens"] == []
    assert codes(phone.call("GET", "/users/me")) == ["NoUserIsLoggedIn"]
    assert codes(phone.call("POST", "/users/me/login/native", login2)) == ["InvalidCredentials"]
    # A deleted account can be signed up again (same document, fresh state).
    assert phone.call("POST", "/users/me", login2).json["response"]["userId"] == user_id
    assert_no_secrets_in_responses()


def test_password_reset_with_expired_and_valid_token(client):
    phone = Device(client)
    phone.call("POST", "/users/me", {"login": "bob@example.com", "password": "old password"})
    assert phone.call("POST", "/users/me/login/native", {"login": "bob@example.com", "password": "old password"}
                      ).status_code == 200
    unknown = phone.call("POST", "/users/me/requestPasswordReset", {"login": "nobody@example.com"})
    assert unknown.status_code == 200 and unknown.json == {"status": 200}  # never reveals whether a login exists
    known = phone.call("POST", "/users/me/requestPasswordReset", {"login": "BOB@example.com"})
    assert known.status_code == 200 and known.json == {"status": 200}
    token = account("bob@example.com")["inspectTokens"]["passwordResetToken"]["token"]

    wrong = phone.call("POST", "/users/me/resetPassword", {"token": "0" * 64, "password": "new-secret-0"}, signed=False)
    assert wrong.status_code == 401 and codes(wrong) == ["WrongOrMissingRequestParameter"]
    assert wrong.headers["WWW-Authenticate"] == f'Credentials realm="http://localhost{P}/users/me/resetPassword"'

    issued = datetime.now(UTC) - timedelta(hours=2)
    users().update_one({"login": "bob@example.com"},
                       {"$set": {"inspectTokens.passwordResetToken.tokenIssueDate": issued}})
    expired = phone.call("POST", "/users/me/resetPassword", {"token": token, "password": "new password"}, signed=False)
    assert expired.status_code == 401 and codes(expired) == ["TokenExpired"]

    phone.call("POST", "/users/me/requestPasswordReset", {"login": "bob@example.com"})
    token = account("bob@example.com")["inspectTokens"]["passwordResetToken"]["token"]
    reset = phone.call("POST", "/users/me/resetPassword", {"token": token, "password": "new password"}, signed=False)
    assert reset.status_code == 200 and reset.json == {"status": 200}
    assert codes(phone.call("GET", "/users/me")) == ["NoUserIsLoggedIn"]  # a reset logs every device out
    reused = phone.call("POST", "/users/me/resetPassword", {"token": token, "password": "other"}, signed=False)
    assert codes(reused) == ["WrongOrMissingRequestParameter"]
    assert codes(phone.call("POST", "/users/me/login/native", {"login": "bob@example.com", "password": "old password"})
                 ) == ["InvalidCredentials"]
    assert phone.call("POST", "/users/me/login/native", {"login": "bob@example.com", "password": "new password"}
                      ).status_code == 200
    assert_no_secrets_in_responses()


def test_validate_and_invalidate_tokens(client):
    phone = Device(client)
    phone.call("POST", "/users/me", {"login": "carol@example.com", "password": "pw-secret-0"})
    stored = account("carol@example.com")
    validate_token = stored["messaging"][0]["inspectTokens"]["validateToken"]["token"]
    invalidate_token = stored["inspectTokens"]["invalidateToken"]["token"]

    bad = phone.call("POST", "/users/me/validate", {"token": "nope"}, signed=False)
    assert bad.status_code == 401 and codes(bad) == ["InvalidValidationToken"]
    assert bad.headers["WWW-Authenticate"].startswith("Credentials realm=")
    assert phone.call("POST", "/users/me/validate", {"token": validate_token}, signed=False).json == {"status": 200}
    stored = account("carol@example.com")
    assert stored["validated"] is True and stored["messaging"][0]["validated"] is True
    assert "validateToken" not in stored["messaging"][0].get("inspectTokens", {})
    used = phone.call("POST", "/users/me/validate", {"token": validate_token}, signed=False)
    assert codes(used) == ["InvalidValidationToken"]

    old = datetime.now(UTC) - timedelta(days=31)
    users().update_one({"_id": stored["_id"]}, {"$set": {"inspectTokens.invalidateToken.tokenIssueDate": old}})
    expired = phone.call("POST", "/users/me/invalidate", {"token": invalidate_token}, signed=False)
    assert codes(expired) == ["TokenExpired"]
    users().update_one({"_id": stored["_id"]},
                       {"$set": {"inspectTokens.invalidateToken.tokenIssueDate": datetime.now(UTC)}})
    unknown = phone.call("POST", "/users/me/invalidate", {"token": "nope"}, signed=False)
    assert codes(unknown) == ["InvalidInvalidationToken"]
    done = phone.call("POST", "/users/me/invalidate", {"token": invalidate_token}, signed=False)
    assert done.json == {"status": 200}
    stored = account("carol@example.com")
    assert stored["status"] == "deleted" and stored["messaging"] == [] and "passHash" not in stored
    assert_no_secrets_in_responses()


def test_login_on_more_devices_than_allowed_evicts_the_oldest(client, monkeypatch):
    config = Shared.configs.get("generic-identity")
    monkeypatch.setattr(config, "userService", {**config.userService, "maxDeviceCount": 2})
    first, second, third = Device(client), Device(client), Device(client)
    credentials = {"login": "dave@example.com", "password": "pw-secret-0"}
    first.call("POST", "/users/me", credentials)
    for device in (first, second, third):
        assert device.call("POST", "/users/me/login/native", credentials).status_code == 200
    assert codes(first.call("GET", "/users/me")) == ["NoUserIsLoggedIn"]
    assert second.call("GET", "/users/me").status_code == 200 and third.call("GET", "/users/me").status_code == 200
    stored = account("dave@example.com")
    assert sorted(t["device"]["id"] for t in stored["accessTokens"]) == sorted([second.id, third.id])
    assert stored["deviceCounts"] == [{"appId": "generic", "deviceCount": 2}]
    # Logging in again from a device that is already logged in does not count twice.
    assert third.call("POST", "/users/me/login/native", credentials).status_code == 200
    assert second.call("GET", "/users/me").status_code == 200
    # A device belongs to one user per app: another user's login takes it over.
    third.call("POST", "/users/me", {"login": "erin@example.com", "password": "pw-secret-0"})
    erin = {"login": "erin@example.com", "password": "pw-secret-0"}
    assert third.call("POST", "/users/me/login/native", erin).status_code == 200
    assert third.call("GET", "/users/me").json["response"]["login"] == "erin@example.com"
    assert [t["device"]["id"] for t in account("dave@example.com")["accessTokens"]] == [second.id]


def test_optional_login_and_german_device(client):
    german = Device(client, culture=None)
    assert german.call("GET", "/users/me/optional").json == {"status": 200}
    reply = german.call("GET", "/users/me")
    assert reply.status_code == 401 and reply.json["errors"][0]["msg"] == "Sie müssen sich zunächst einloggen."
    german.call("POST", "/users/me", {"login": "frank@example.com", "password": "pw-secret-0"})
    german.call("POST", "/users/me/login/native", {"login": "frank@example.com", "password": "pw-secret-0"})
    assert german.call("GET", "/users/me/optional").json["response"]["login"] == "frank@example.com"


def test_legacy_md5_hash_verifies_once_and_is_replaced(client):
    salt = Shared.config("generic-identity.userService.salt")
    legacy = hashlib.md5(("old secret" + salt + "generic").encode()).hexdigest()
    users().insert_one({"login": "gina@example.com", "group": "generic", "status": "active", "nativeLoginIsSet": True,
                        "passHash": legacy, "messaging": [{"type": "email", "value": "gina@example.com"}],
                        "accessTokens": [], "deviceCounts": [], "profile": {}})
    phone = Device(client)
    assert codes(phone.call("POST", "/users/me/login/native", {"login": "gina@example.com", "password": "wrong"})
                 ) == ["InvalidCredentials"]
    assert account("gina@example.com")["passHash"] == legacy
    ok = phone.call("POST", "/users/me/login/native", {"login": "gina@example.com", "password": "old secret"})
    assert ok.status_code == 200
    assert account("gina@example.com")["passHash"].startswith("$argon2id$")
    phone.call("POST", "/users/me/logout")
    assert phone.call("POST", "/users/me/login/native", {"login": "gina@example.com", "password": "old secret"}
                      ).status_code == 200
    assert_no_secrets_in_responses()


# ------------------------------------------------------------------ custom project: scoping, models, Facebook
CUSTOM_CONTROLLER = '''
from datetime import datetime, timezone
from core import Controller, Shared

OPTIONS = {"maxDeviceCount": 2, "loginOnSignUp": True}


def scope(req, data=None):
    req.mia.user_service = {"group": "customers", "appId": "shop", "options": OPTIONS,
                            "userProfileModel": "my-userProfile-model", "userProfileData": data}


class CustomUserProfile(Controller):
    identity = "custom-userProfile"
    preconditions = {
        "prepareParametersForSignup": {"parameters": {"body": {"name": {"type": str}, "phone": {"type": int}}},
                                       "responses": {200: "Success"}},
        "updateProfile": {"parameters": {"body": {"name": {"type": str}, "phone": {"type": int}}},
                          "responses": {200: "Success"}},
        "prepareParametersForFbLogin": {"parameters": {"body": {"fbUserToken": {"type": str, "required": True}}},
                                        "responses": {200: "Success"}},
    }

    def scope(self, req, res):
        scope(req)

    def prepareParametersForSignup(self, req, res):
        data = dict(req.mia.validated_parameters.get("body") or {})
        data["createdAt"] = datetime.now(timezone.utc)
        scope(req, data)

    def updateProfile(self, req, res):
        scope(req, dict(req.mia.validated_parameters.get("body") or {}))

    def prepareParametersForFbLogin(self, req, res):
        token = req.mia.validated_parameters["body"]["fbUserToken"]
        params = Shared.libs("generic-fbLoginProvider").checkCredentialsAndLoadProfile(token, None, "name,id,email")
        scope(req)
        service = req.mia.user_service
        service.update(thirdPartyLogin=params["thirdPartyLogin"], email=params["email"],
                       onCreate={"userProfileData": {"name": params["me"]["name"]}},
                       onMerge={"userProfileData": {"name": params["me"]["name"]}})
'''

CUSTOM_MODEL = '''
from datetime import datetime
from core import BaseModel

class MyProfile(BaseModel):
    identity = "my-userProfile-model"
    collection_name = "userProfile"
    data = {"name": {"type": str, "required": True}, "phone": {"type": int},
            "createdAt": {"type": datetime}, "updatedAt": {"type": datetime}}
'''

CUSTOM_INIT = '''
from core import Shared

def init():
    Shared.models("generic-secret-model").collection().insert_one(
        {"id": "c" * 32, "secret": "d" * 32, "groups": ["custom"], "enabled": True})
'''


def step(name, function=None):
    entry = {"name": name}
    if function:
        entry["function"] = function
    return entry


KEY, OUT = step("generic-validateAccessKey"), step("generic-defaultResponse")
CUSTOM_ROUTES = {
    "group": "custom", "version": "1.0", "prefix": "/custom/v1",
    "routes": {
        "./devices": {"create": {"identity": "c-devices", "controller": [step("generic-deviceProfile"), OUT]}},
        "./users/me": {
            "post": {"identity": "c-signup", "controller": [
                KEY, step("custom-userProfile", "prepareParametersForSignup"),
                step("generic-users", "setParametersForSignup"), step("generic-users", "signUp"), OUT]},
            "get": {"identity": "c-profile", "controller": [
                KEY, step("custom-userProfile", "scope"), step("generic-validateUserLogin"),
                step("generic-users", "getProfile"), OUT]},
            "put": {"identity": "c-update", "controller": [
                KEY, step("custom-userProfile", "updateProfile"), step("generic-validateUserLogin"),
                step("generic-users", "updateProfile"), OUT]},
        },
        "./users/me/login": {"post": {"identity": "c-login", "controller": [
            KEY, step("custom-userProfile", "scope"), step("generic-users", "login"), OUT]}},
        "./users/me/login/fb": {"post": {"identity": "c-fb", "controller": [
            KEY, step("custom-userProfile", "prepareParametersForFbLogin"),
            step("generic-users", "setParametersForFbLogin"), step("generic-users", "loginUserWithFacebook"), OUT]}},
    },
}


@pytest.fixture
def custom(tree):
    (tree.root / "projects" / "generic").symlink_to(ROOT / "projects" / "generic", target_is_directory=True)
    tree.write("projects/custom/controllers/profile.py", CUSTOM_CONTROLLER)
    tree.write("projects/custom/models/profile.py", CUSTOM_MODEL)
    tree.write("projects/custom/init/init.py", CUSTOM_INIT)
    tree.write("projects/custom/routes/api.py", f"routes = {CUSTOM_ROUTES!r}")
    app = tree.app()
    yield app.test_client()
    app.config["mia.databases"].close_all()


def custom_device(client):
    return Device(client, prefix="/custom/v1", secret=("c" * 32, "d" * 32))


def test_custom_profile_model_group_scope_and_login_on_signup(custom):
    phone = custom_device(custom)
    bad = phone.call("POST", "/users/me", {"login": "hana@example.com", "password": "pw-secret-0", "phone": "123"})
    assert bad.status_code == 400 and bad.json["errors"][0]["id"] == "name"  # the custom model's rule
    signup = phone.call("POST", "/users/me", {"login": "hana@example.com", "password": "pw-secret-0", "name": "Hana",
                                              "phone": "0301234"})
    assert signup.status_code == 200
    assert signup.json["response"]["profile"]["name"] == "Hana"
    assert signup.json["response"]["profile"]["phone"] == 301234
    profile = phone.call("GET", "/users/me")  # loginOnSignUp: already logged in
    assert profile.status_code == 200
    stored = account("hana@example.com")
    assert stored["group"] == "customers" and list(stored["profile"]) == ["shop"]
    assert [t["appId"] for t in stored["accessTokens"]] == ["shop"]

    updated = phone.call("PUT", "/users/me", {"name": "Hana B."}, **{"If-Match": profile.headers["ETag"]})
    assert updated.status_code == 200
    assert updated.json["response"]["profile"]["name"] == "Hana B."
    assert updated.json["response"]["profile"]["phone"] == 301234  # other profile fields stay

    # The same login in another group is another account.
    other = Device(custom)
    assert other.call("POST", "/users/me", {"login": "hana@example.com", "password": "pw-secret-0"}).status_code == 200
    assert users().count_documents({"login": "hana@example.com"}) == 2

    # maxDeviceCount 2 from the project's options: the third device evicts the first.
    second, third = custom_device(custom), custom_device(custom)
    for device in (second, third):
        reply = device.call("POST", "/users/me/login", {"login": "hana@example.com", "password": "pw-secret-0"})
        assert reply.status_code == 200
    assert codes(phone.call("GET", "/users/me")) == ["NoUserIsLoggedIn"]
    assert second.call("GET", "/users/me").status_code == 200
    assert_no_secrets_in_responses()


class FakeGraph(BaseHTTPRequestHandler):
    """The two Graph answers the provider needs: /<version>/me for a good and a bad token."""

    people = {"good-token": {"id": "1001", "name": "Ivy Fb", "email": "ivy@example.com"},
              "merge-token": {"id": "1002", "name": "Jo Fb", "email": "jo@example.com"}}

    def do_GET(self):  # noqa: N802 - http.server's name
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        person = self.people.get(query.get("access_token", [""])[0])
        ok = url.path == "/v6.0/me" and person is not None and query.get("fields") == ["name,id,email"]
        body = json.dumps(person if ok else {"error": {"message": "Invalid OAuth access token."}}).encode()
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve_graph(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A stand-in Graph API on a free loopback port: yields its base URL, stops it afterwards."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def graph(monkeypatch):
    yield from serve_graph(FakeGraph)


def test_facebook_login_creates_finds_and_merges(custom, graph, monkeypatch):
    config = Shared.configs.get("generic-identity")
    monkeypatch.setattr(config, "facebook", {**config.facebook, "graphUrl": graph, "timeout": 2})
    phone = custom_device(custom)
    created = phone.call("POST", "/users/me/login/fb", {"fbUserToken": "good-token"})
    assert created.status_code == 200
    assert "login" not in created.json["response"]  # no native login for a Facebook-only account
    assert created.json["response"]["email"] == {"value": "ivy@example.com", "validated": False}
    assert created.json["response"]["profile"] == {"name": "Ivy Fb"}
    again = phone.call("POST", "/users/me/login/fb", {"fbUserToken": "good-token"})
    assert again.json["response"]["userId"] == created.json["response"]["userId"]
    assert users().count_documents({"thirdParty.id": "1001"}) == 1

    rejected = phone.call("POST", "/users/me/login/fb", {"fbUserToken": "stolen"})
    assert rejected.status_code == 401 and codes(rejected) == ["ThirdPartyTokenInvalid"]

    # A native account with the same email merges only once its email is validated.
    phone.call("POST", "/users/me", {"login": "jo@example.com", "password": "pw-secret-0", "name": "Jo"})
    unvalidated = phone.call("POST", "/users/me/login/fb", {"fbUserToken": "merge-token"})
    assert unvalidated.status_code == 401 and codes(unvalidated) == ["EmailAddressIsNotValidated"]
    users().update_one({"login": "jo@example.com"}, {"$set": {"validated": True}})
    merged = phone.call("POST", "/users/me/login/fb", {"fbUserToken": "merge-token"})
    assert merged.status_code == 200 and merged.json["response"]["login"] == "jo@example.com"
    assert account("jo@example.com")["thirdParty"] == [{"provider": "fb", "id": "1002"}]
    assert_no_secrets_in_responses()
