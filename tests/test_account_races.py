"""Account writes hold across processes (issue 21): races reproduced with concurrent threads.

Each test starts its requests together behind a barrier, each thread with its own test client, so
the check-then-write windows of the old code overlap. What a user would see is asserted: the
answers, and the documents in ``users``. The guards are unique indexes and single conditional
updates, valid on MongoDB 7/8 (MIA_TEST_MONGO_URL runs the same tests there).
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from argon2 import PasswordHasher
from test_users import Device, FakeGraph, codes, custom, custom_device, serve_graph, users  # noqa: F401 - fixtures

from core import Shared

PASSWORD = "correct horse 9"
THREADS = 20


def cheap_hashes(monkeypatch):
    """Cheaper argon2 parameters: many hashes per test, the same code path."""
    passwords = Shared.libs("generic-passwords")
    monkeypatch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))
    monkeypatch.setattr(passwords, "_dummy", None)
    config = Shared.configs.get("generic-identity")
    monkeypatch.setattr(config, "passwordHashing", {"concurrency": 4, "maxWaiting": 100, "queueTimeout": 30})
    monkeypatch.setattr(config, "lockout", {**config.lockout, "maxFailures": 1000, "maxFailuresPerIp": 1000})


class SlowCollection:
    """The users collection answering like one across a network: each call yields for a moment after
    it, so the windows between two writes of one request are wide enough for the others to land in."""

    def __init__(self, real):
        self.real = real

    def __getattr__(self, name):
        attribute = getattr(self.real, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            try:
                return attribute(*args, **kwargs)
            finally:
                time.sleep(0.002)

        return call


def slow_users(monkeypatch):
    model = Shared.models("generic-user-model")
    real = model.collection()
    monkeypatch.setattr(model, "collection", classmethod(lambda cls: SlowCollection(real)))


def together(count, work):
    """``work(i)`` in ``count`` threads released at once; the results in order."""
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_concurrent_sign_ups_with_one_email_create_one_account(app, monkeypatch):
    cheap_hashes(monkeypatch)
    devices = [Device(app.test_client()) for _ in range(THREADS)]
    replies = together(THREADS, lambda i: devices[i].call("POST", "/users/me", {
        "login": f"user{i}@example.com", "email": "shared@example.com", "password": PASSWORD}))
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [200] + [401] * (THREADS - 1)
    assert all(codes(r) == ["LoginAlreadyExists"] for r in replies if r.status_code == 401)
    assert users().count_documents({"messaging.value": "shared@example.com", "status": "active"}) == 1


def test_a_login_and_an_email_share_one_namespace_under_concurrency(app, monkeypatch):
    """One sign-up takes ``x@example.com`` as its login, the others as their email: one wins."""
    cheap_hashes(monkeypatch)
    devices = [Device(app.test_client()) for _ in range(THREADS)]

    def sign_up(i):
        body = ({"login": "x@example.com", "password": PASSWORD} if i == 0 else
                {"login": f"other{i}@example.com", "email": "x@example.com", "password": PASSWORD})
        return devices[i].call("POST", "/users/me", body)

    replies = together(THREADS, sign_up)
    assert sorted(r.status_code for r in replies) == [200] + [401] * (THREADS - 1)
    holders = users().count_documents({"status": "active", "$or": [{"login": "x@example.com"},
                                                                   {"messaging.value": "x@example.com"}]})
    assert holders == 1


def test_concurrent_email_changes_to_one_address_leave_one_holder(app, monkeypatch):
    cheap_hashes(monkeypatch)
    devices = [Device(app.test_client()) for _ in range(8)]
    etags = []
    for n, device in enumerate(devices):
        credentials = {"login": f"owner{n}@example.com", "password": PASSWORD}
        assert device.call("POST", "/users/me", credentials).status_code == 200
        assert device.call("POST", "/users/me/login/native", credentials).status_code == 200
        etags.append(device.call("GET", "/users/me").headers["ETag"])
    replies = together(8, lambda i: devices[i].call("PUT", "/users/me", {"email": "taken@example.com"},
                                                     **{"If-Match": etags[i]}))
    assert sorted(r.status_code for r in replies) == [200] + [401] * 7
    assert users().count_documents({"messaging.value": "taken@example.com", "status": "active"}) == 1


class TogetherGraph(FakeGraph):
    """The fake Graph API, answering the first ``THREADS`` requests only once all of them arrived."""

    barrier = threading.Barrier(THREADS)

    def do_GET(self):  # noqa: N802 - http.server's name
        try:
            self.barrier.wait(timeout=10)
        except threading.BrokenBarrierError:
            pass
        super().do_GET()


@pytest.fixture
def together_graph():
    TogetherGraph.barrier = threading.Barrier(THREADS)
    yield from serve_graph(TogetherGraph)


def test_concurrent_first_third_party_logins_create_one_account(custom, together_graph, monkeypatch):  # noqa: F811
    config = Shared.configs.get("generic-identity")
    monkeypatch.setattr(config, "facebook", {**config.facebook, "graphUrl": together_graph, "timeout": 15})
    monkeypatch.setattr(config, "lockout", {**config.lockout, "maxFailures": 1000, "maxFailuresPerIp": 1000})
    devices = [custom_device(custom.application.test_client()) for _ in range(THREADS)]
    replies = together(THREADS, lambda i: devices[i].call("POST", "/users/me/login/fb", {"fbUserToken": "good-token"}))
    assert [r.status_code for r in replies] == [200] * THREADS, [r.json for r in replies if r.status_code != 200]
    assert len({r.json["response"]["userId"] for r in replies}) == 1
    assert users().count_documents({"thirdParty.id": "1001"}) == 1
    stored = users().find_one({"thirdParty.id": "1001"})
    assert len(stored["accessTokens"]) == 2 and stored["deviceCounts"][0]["deviceCount"] == 2  # maxDeviceCount 2


def test_concurrent_logins_at_the_device_limit_never_exceed_it(app, monkeypatch):
    cheap_hashes(monkeypatch)
    config = Shared.configs.get("generic-identity")
    monkeypatch.setattr(config, "userService", {**config.userService, "maxDeviceCount": 3})
    credentials = {"login": "dora@example.com", "password": PASSWORD}
    devices = [Device(app.test_client()) for _ in range(THREADS)]
    assert devices[0].call("POST", "/users/me", credentials).status_code == 200
    slow_users(monkeypatch)
    seen, stop = [0], threading.Event()

    def watch():  # the number of logins stored at any moment
        while not stop.is_set():
            time.sleep(0.001)
            stored = users().find_one({"login": "dora@example.com"}) or {}
            seen[0] = max(seen[0], len(stored.get("accessTokens") or []))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        replies = together(THREADS, lambda i: devices[i].call("POST", "/users/me/login/native", credentials))
    finally:
        stop.set()
        watcher.join()
    assert [r.status_code for r in replies] == [200] * THREADS
    stored = users().find_one({"login": "dora@example.com"})
    assert len(stored["accessTokens"]) == 3 and seen[0] <= 3
    assert stored["deviceCounts"] == [{"appId": "generic", "deviceCount": 3}]
    logged_in = [d for d in devices if d.call("GET", "/users/me").status_code == 200]
    assert len(logged_in) == 3
    assert sorted(stored["deviceKeys"]) == sorted(f"device|generic|{t['device']['id']}" for t in stored["accessTokens"])


def test_two_users_on_one_device_the_previous_user_is_logged_out(app, monkeypatch):
    """A device belongs to one user per app: the login of another user takes it over, atomically."""
    cheap_hashes(monkeypatch)
    phone = Device(app.test_client())
    ann, ben = ({"login": f"{n}@example.com", "password": PASSWORD} for n in ("ann", "ben"))
    for credentials in (ann, ben):
        assert phone.call("POST", "/users/me", credentials).status_code == 200
    assert phone.call("POST", "/users/me/login/native", ann).status_code == 200
    assert phone.call("POST", "/users/me/login/native", ben).status_code == 200
    assert phone.call("GET", "/users/me").json["response"]["login"] == "ben@example.com"
    before = users().find_one({"login": "ann@example.com"})
    assert before["accessTokens"] == [] and before["deviceCounts"] == [{"appId": "generic", "deviceCount": 0}]
    slow_users(monkeypatch)
    # Both users log in on the same device at once, many times: one of them holds it, never both.
    clients = [Device.__new__(Device) for _ in range(THREADS)]
    for client in clients:
        client.client, client.prefix, client.secret, client.id = app.test_client(), phone.prefix, phone.secret, phone.id
    replies = together(THREADS, lambda i: clients[i].call("POST", "/users/me/login/native", (ann, ben)[i % 2]))
    assert [r.status_code for r in replies] == [200] * THREADS
    holders = list(users().find({"accessTokens.device.id": phone.id}))
    assert len(holders) == 1
    for login in ("ann@example.com", "ben@example.com"):
        stored = users().find_one({"login": login})
        assert stored["deviceCounts"][0]["deviceCount"] == len(stored["accessTokens"])


def test_a_password_reset_token_never_lands_on_a_deleted_account(client):
    model = Shared.models("generic-user-model")
    # A deleted account that still holds the address as its login, stored before the active one.
    users().insert_one(model.validate({"login": "bob@example.com", "group": "generic", "status": "deleted",
                                       "messaging": []}))
    users().insert_one(model.validate({
        "login": "robert", "group": "generic", "status": "active", "nativeLoginIsSet": True,
        "passHash": Shared.libs("generic-passwords").hash(PASSWORD),
        "messaging": [{"type": "email", "value": "bob@example.com"}]}))
    phone = Device(client)
    assert phone.call("POST", "/users/me/requestPasswordReset", {"login": "bob@example.com"}).status_code == 200
    deleted = users().find_one({"status": "deleted"})
    active = users().find_one({"login": "robert"})
    assert "passwordResetToken" not in (deleted.get("inspectTokens") or {})
    token = active["inspectTokens"]["passwordResetToken"]["token"]
    reset = phone.call("POST", "/users/me/resetPassword", {"token": token, "password": "a new password 1"},
                       signed=False)
    assert reset.status_code == 200


def test_a_deleted_account_frees_its_names(client):
    path = "/users/me"
    phone = Device(client)
    credentials = {"login": "fay@example.com", "password": PASSWORD}
    assert phone.call("POST", path, credentials).status_code == 200
    assert phone.call("POST", "/users/me/login/native", credentials).status_code == 200
    assert phone.call("DELETE", path).status_code == 200
    stored = users().find_one({"login": "fay@example.com"})
    assert "nameKeys" not in stored and "deviceKeys" not in stored
    other = Device(client)
    assert other.call("POST", path, {"login": "gus@example.com", "email": "fay@example.com",
                                     "password": PASSWORD}).status_code == 200


def test_the_unique_claims_are_partial_unique_indexes(app):
    """Valid on MongoDB 7/8: a unique multikey index per claim field, skipping documents without a key
    (an empty array would be one shared key there)."""
    indexes = users().index_information()
    for field in ("nameKeys", "deviceKeys"):
        entry = next(i for i in indexes.values() if i["key"] == [(field, 1)])
        assert entry["unique"] is True and entry["partialFilterExpression"] == {field: {"$type": "string"}}
        assert "sparse" not in entry
