"""Mail notifications end to end: queued by the manager, delivered by the processor to a real SMTP server."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from db_fixtures import db_env  # noqa: F401 - fixture
from notify_fixtures import FAST, notification_config, smtp_server
from serving_fixtures import self_signed

from core.errors import MiaError
from core.notifications import NotificationManager, Processor, cleanup, queue
from core.shared import Shared

CONFIG = "notification-templates"
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # loopback only


@pytest.fixture
def build(tree, db_env):  # noqa: F811 - fixture
    """Builds the tree's app with a notification config (text) and fast processor settings."""
    def make(config_text: str, **settings):
        tree.env({**db_env.settings(), "notifications": {**FAST, **settings}})
        tree.write("projects/base/config/notifications.py", config_text)
        return tree.app()
    return make


def parts(message):
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return (text.get_content() if text else None), (html.get_content() if html else None)


def test_a_queued_mail_arrives_with_subject_text_html_replacements_and_its_culture(build):
    with smtp_server(require_login=True) as smtp:
        build(notification_config(smtp.port))
        manager = NotificationManager()
        en_id = manager.mail(config_id=CONFIG, template="welcome",
                             replacements={"name": "Ada <admin>", "Product": "mia & co"}).address("ada@example.com")
        de_id = manager.mail(config_id=f"{CONFIG}.notifications", template="welcome", replacements={"NAME": "Jörg"},
                             culture="de-AT").address("joerg@example.com")
        assert manager.item(en_id)["status"] == "pending"

        counts = Processor(worker_id="worker-1").run()

        assert counts == {"claimed": 2, "fulfilled": 2, "retried": 0, "rejected": 0, "lost": 0}
        assert len(smtp.logins) == 1 and all(ok for _, ok in smtp.logins)  # one login per batch
        mails = {m["To"]: m for m in smtp.messages}
        assert sorted(mails) == ["ada@example.com", "joerg@example.com"]
        english, german = mails["ada@example.com"], mails["joerg@example.com"]
        assert english["Subject"] == "Welcome, Ada <admin>"
        assert english["From"] == "Demo <noreply@example.com>"
        text, html = parts(english)
        assert text.strip() == "Hi Ada <admin>, welcome to mia & co."
        assert "<b>Hi Ada &lt;admin&gt;</b>, welcome to mia &amp; co." in html  # escaped in html only
        assert german["Subject"] == "Willkommen, Jörg"  # de-AT -> de templates
        text, html = parts(german)
        assert text.strip() == "Hallo Jörg, willkommen bei [product]."  # unknown placeholders stay
        assert html.strip() == "<p>Hallo Jörg</p>"
        for queued in (en_id, de_id):
            item = manager.item(queued)
            assert (item["status"], item["attempts"], item["deliveredBy"], item["platform"]) == (
                "fulfilled", 1, "worker-1", "email")
            status = manager.status(queued)
            assert (status["status"], status["numSent"], status["numFailed"], status["sentPerType"]) == (
                "succeeded", 1, 0, {"email": 1})


def test_a_wrong_smtp_password_is_retried_then_rejected_with_the_reason(build):
    with smtp_server(require_login=True) as smtp:
        build(notification_config(smtp.port, password="wrong password"), maxAttempts=3)
        queued = NotificationManager().mail(config_id=CONFIG, template="welcome",
                                            replacements={"name": "Ada"}).address("ada@example.com")
        counts = Processor().run()
        assert counts["claimed"] == 3
        assert counts["retried"] == 2 and counts["rejected"] == 1
        assert smtp.messages == [] and len(smtp.logins) >= 3 and not any(ok for _, ok in smtp.logins)
        item = NotificationManager().item(queued)
        assert item["status"] == "rejected" and item["attempts"] == 3
        assert item["reason"] == "SMTPAuthenticationError"
        assert "535" in item["lastError"] and "gave up after 3 attempts" in item["lastError"]
        status = NotificationManager().status(queued)
        assert (status["status"], status["numFailed"], status["errorsByReason"]) == (
            "failed", 1, {"SMTPAuthenticationError": 1})


def test_a_failed_attempt_waits_for_its_backoff(build):
    with smtp_server(require_login=True) as smtp:
        build(notification_config(smtp.port, password="wrong password"), maxAttempts=3, backoff=[3600])
        queued = NotificationManager().mail(config_id=CONFIG, template="welcome").address("ada@example.com")
        assert Processor().run()["retried"] == 1
        item = NotificationManager().item(queued)
        assert item["status"] == "pending" and item["attempts"] == 1 and item["workerId"] is None
        wait = item["schedule"] - datetime.now(UTC)
        assert timedelta(minutes=59) < wait <= timedelta(hours=1)
        assert Processor().run()["claimed"] == 0  # not due before its backoff


def test_a_scheduled_mail_waits_for_its_time(build):
    with smtp_server() as smtp:
        build(notification_config(smtp.port, user=None))
        at = datetime.now(UTC) + timedelta(seconds=1)
        queued = NotificationManager().mail(config_id=CONFIG, template="welcome", schedule=at).address("a@example.com")
        assert Processor().run()["claimed"] == 0
        time.sleep(1.1)
        assert Processor().run()["fulfilled"] == 1
        assert [m["To"] for m in smtp.messages] == ["a@example.com"]
        assert NotificationManager().item(queued)["status"] == "fulfilled"


def test_an_expired_lease_is_claimed_again_and_a_held_one_is_not(build):
    with smtp_server() as smtp:
        build(notification_config(smtp.port, user=None))
        manager = NotificationManager()
        items = Shared.db()["notifications"]
        held = manager.mail(config_id=CONFIG, template="welcome").address("held@example.com")
        assert str(queue.claim(items, "busy-worker", lease_seconds=60)["_id"]) == held  # still sending
        crashed = manager.mail(config_id=CONFIG, template="welcome").address("crashed@example.com")
        assert str(queue.claim(items, "crashed-worker", lease_seconds=0)["_id"]) == crashed  # died mid-send

        assert Processor(worker_id="rescuer").run()["fulfilled"] == 1
        assert [m["To"] for m in smtp.messages] == ["crashed@example.com"]
        item = manager.item(crashed)
        assert (item["status"], item["attempts"], item["deliveredBy"]) == ("fulfilled", 2, "rescuer")
        assert manager.item(held)["status"] == "processing"
        # The crashed worker's late write changes nothing: it no longer holds the item.
        assert queue.fulfil(items, item, "crashed-worker", "email") is False


def test_a_missing_template_or_connector_rejects_at_once(build):
    with smtp_server() as smtp:
        build(notification_config(smtp.port, user=None))
        queued = NotificationManager().mail(config_id=CONFIG, template="nope").address("a@example.com")
        assert Processor().run() == {"claimed": 1, "fulfilled": 0, "retried": 0, "rejected": 1, "lost": 0}
        item = NotificationManager().item(queued)
        assert (item["status"], item["reason"], item["attempts"]) == ("rejected", "TemplateNotFound", 1)


def test_the_manager_refuses_bad_input_with_mias_codes(build):
    build(notification_config(25))
    manager = NotificationManager()

    def code(call):
        with pytest.raises(MiaError) as info:
            call()
        return info.value.status, info.value.errors[0]["code"]

    assert code(lambda: manager.mail(config_id="nope", template="welcome")) == (400, "ConfigIdNotFound")
    assert code(lambda: manager.mail(config_id=CONFIG, template="welcome").address("not-an-address")) == (
        400, "InvalidEmailAddress")
    assert code(lambda: manager.mail(config_id=CONFIG, template="welcome", schedule="tomorrow")) == (
        400, "NotificationScheduleInvalid")
    assert code(lambda: manager.push(config_id=CONFIG, template="welcome").device("")) == (400, "EmptyDeviceId")
    assert code(lambda: manager.push(config_id=CONFIG, template="welcome").user("")) == (400, "EmptyUserId")
    assert code(lambda: manager.push(config_id=CONFIG, template="welcome").user("unknown")) == (400, "NoUserDevices")
    assert Shared.db()["notifications"].count_documents({}) == 0


def test_mail_to_a_user_goes_to_each_of_their_addresses(build):
    with smtp_server() as smtp:
        build(notification_config(smtp.port, user=None))
        user_id = Shared.db()["users"].insert_one({"login": "ada", "messaging": [
            {"type": "email", "value": "ada@example.com"}, {"type": "email", "value": "ada@work.example.com"}]}
        ).inserted_id
        ids = NotificationManager().mail(config_id=CONFIG, template="welcome").user(str(user_id))
        assert len(ids) == 2
        Processor().run()
        assert sorted(m["To"] for m in smtp.messages) == ["ada@example.com", "ada@work.example.com"]
        status = NotificationManager().status(ids[0])
        assert (status["numTargets"], status["numSent"], status["status"]) == (2, 2, "succeeded")


def test_cleanup_removes_old_finished_items_only(build):
    with smtp_server() as smtp:
        build(notification_config(smtp.port, user=None))
        manager = NotificationManager()
        done = manager.mail(config_id=CONFIG, template="welcome").address("a@example.com")
        Processor().run()
        later = manager.mail(config_id=CONFIG, template="welcome",
                             schedule=datetime.now(UTC) + timedelta(hours=1)).address("b@example.com")
        assert cleanup() == {"items": 0, "statuses": 0}  # finished just now: kept for cleanupAfter
        assert cleanup({"cleanupAfter": -1}) == {"items": 1, "statuses": 1}
        assert manager.item(done) is None and manager.item(later)["status"] == "pending"


def starttls_config(port: int, ca_file: str | None) -> str:
    text = notification_config(port)
    return text.replace("'timeout': 5,", f"'timeout': 5, 'starttls': True, 'caFile': {ca_file!r},", 1)


def test_starttls_protects_the_login_and_the_certificate_is_checked(build, tmp_path):
    cert, key, _ = self_signed(tmp_path)
    with smtp_server(require_login=True, starttls=(cert, key)) as smtp:
        build(starttls_config(smtp.port, str(cert)))
        good = NotificationManager().mail(config_id=CONFIG, template="welcome").address("a@example.com")
        assert Processor().run()["fulfilled"] == 1
        assert [m["To"] for m in smtp.messages] == ["a@example.com"] and smtp.logins[-1][1] is True
        assert NotificationManager().item(good)["status"] == "fulfilled"

        build(starttls_config(smtp.port, None))  # the system CAs do not know this certificate
        bad = NotificationManager().mail(config_id=CONFIG, template="welcome").address("b@example.com")
        Processor().run()
        item = NotificationManager().item(bad)
        assert (item["status"], item["reason"]) == ("rejected", "SMTPConnectionError")
        assert "CERTIFICATE_VERIFY_FAILED" in item["lastError"]
        assert len(smtp.messages) == 1


def test_a_line_break_in_a_header_replacement_rejects_the_mail_instead_of_injecting(build):
    with smtp_server() as smtp:
        build(notification_config(smtp.port, user=None))
        evil = {"name": "Ada\r\nBcc: eve@example.com"}
        queued = NotificationManager().mail(config_id=CONFIG, template="welcome", replacements=evil).address("a@x.org")
        assert Processor().run()["rejected"] == 1
        assert smtp.messages == []
        item = NotificationManager().item(queued)
        assert (item["status"], item["reason"], item["attempts"]) == ("rejected", "InvalidMessage", 1)


def test_a_batch_of_mails_shares_one_smtp_connection_and_each_has_date_and_message_id(build):
    with smtp_server(require_login=True) as smtp:
        build(notification_config(smtp.port))
        manager = NotificationManager()
        for number in range(30):
            manager.mail(config_id=CONFIG, template="welcome", replacements={"name": f"n{number}"}).address(
                f"user{number}@example.com")
        assert Processor().run()["fulfilled"] == 30
        assert (len(smtp.messages), smtp.connections, len(smtp.logins)) == (30, 1, 1)
        ids = {mail["Message-ID"] for mail in smtp.messages}
        assert len(ids) == 30 and all(value.endswith("@example.com>") for value in ids)
        assert all(mail["Date"] and mail["Date"].datetime.tzinfo is not None for mail in smtp.messages)
        # The next run opens a new connection (none is kept open between runs).
        manager.mail(config_id=CONFIG, template="welcome", replacements={"name": "x"}).address("x@example.com")
        Processor().run()
        assert smtp.connections == 2
