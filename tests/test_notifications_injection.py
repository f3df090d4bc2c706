"""Mail header and body injection (issue 22 N1): data never becomes a header line or a MIME part.

Reproduced through the HTTP API: an anonymous caller posts a name to the demo's welcome route, the
processor delivers to a real SMTP server (aiosmtpd on loopback), and the test reads what arrived.
"""
from __future__ import annotations

import email
import email.policy

import pytest
from notify_fixtures import smtp_server

from core.notifications import NotificationManager, Processor
from core.notifications.connectors.smtp import build_message
from core.notifications.headers import HeaderInjection, header_value
from core.notifications.templates import render_mail

ENCODED_CRLF = "=?utf-8?q?=0D=0AReply-To:_a@evil.example=0D=0A=0D=0APAY_AT_evil.example?="


@pytest.fixture
def smtp(monkeypatch):
    with smtp_server() as server:
        monkeypatch.setenv("MIA_SMTP_PORT", str(server.port))
        yield server


def _welcome(client, name: str) -> str:
    reply = client.post("/demo-notify/v1/welcome", json={"email": "ada@example.com", "name": name})
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()["response"]["mail"]


def test_an_encoded_word_with_a_line_break_in_the_name_adds_no_header_and_no_body(client, smtp):
    queued = _welcome(client, ENCODED_CRLF)
    Processor().run()
    for mail in smtp.messages:  # nothing, or a mail whose headers and body are the template's own
        assert mail["Reply-To"] is None
        assert "evil.example" not in mail.as_string().replace(ENCODED_CRLF, "")
    item = NotificationManager().item(queued)
    assert (item["status"], item["reason"]) == ("rejected", "InvalidMessage")
    assert smtp.messages == []


def test_an_encoded_word_that_decodes_to_plain_text_is_delivered(client, smtp):
    """Encoded words are how headers carry non-ASCII text: one without line breaks is fine."""
    _welcome(client, "=?utf-8?q?J=C3=B6rg?=")
    Processor().run()
    [mail] = smtp.messages
    assert mail["Subject"] == "Welcome to the mia.py demo, Jörg"
    assert mail["Reply-To"] is None


def test_a_body_replacement_cannot_start_a_mime_part_of_its_own():
    template = {"subject": "Hi", "sender": "Demo <d@example.com>", "text": "Dear [note]\nbye",
                "html": "<p>[note]</p>"}
    attack = ("x\r\n\r\n--===============0000000000000000000==\r\nContent-Type: text/html\r\n\r\n"
              "<script>steal()</script>\r\n--===============0000000000000000000==--\r\n\x00")
    message = build_message(render_mail(template, {"note": attack}), "ada@example.com", None)
    received = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert [part.get_content_type() for part in received.walk()] == [
        "multipart/alternative", "text/plain", "text/html"]
    text = received.get_body(preferencelist=("plain",)).get_content()
    assert "<script>steal()</script>" in text and "\x00" not in text and "\r" not in text
    assert "<script>" not in received.get_body(preferencelist=("html",)).get_content()


@pytest.mark.parametrize("field", ["subject", "sender", "replyTo"])
def test_every_header_from_data_refuses_encoded_line_breaks(field):
    mail = {"subject": "Hi", "sender": "Demo <d@example.com>", "text": "body"}
    mail[field] = f"Demo {ENCODED_CRLF} <d@example.com>" if field != "subject" else ENCODED_CRLF
    with pytest.raises(HeaderInjection):
        build_message(mail, "ada@example.com", None)


@pytest.mark.parametrize("value", ["a\r\nBcc: x@y.z", "a\nb", "a\rb", "=?utf-8?b?DQpCY2M6IHhAeS56?=",
                                   "=?UTF-8?Q?a=0Ab?=", "x =?iso-8859-1?q?=0D?= y", "a\x00b", "a\u2028b",
                                   "=?utf-8*en?q?=0A?="])
def test_the_header_builder_refuses_line_breaks_raw_or_encoded(value):
    with pytest.raises(HeaderInjection):
        header_value("Subject", value)


def test_recipients_names_and_custom_headers_go_through_the_builder():
    with pytest.raises(HeaderInjection):
        build_message({"subject": "x", "text": "y", "sender": "d@example.com"},
                      "=?utf-8?q?a=0D=0ABcc:_x@y.z?= <a@example.com>", None)
    with pytest.raises(HeaderInjection):
        build_message({"subject": "x", "text": "y", "sender": "d@example.com",
                       "headers": {"X-Campaign": "=?utf-8?q?=0ABcc:_x@y.z?="}}, "a@example.com", None)
    message = build_message({"subject": "Grüße", "text": "y", "sender": "Jörg <d@example.com>",
                             "headers": {"X-Campaign": "spring"}}, "a@example.com", None)
    assert message["X-Campaign"] == "spring" and message["Subject"] == "Grüße"
    assert message["Date"] and message["Message-ID"].endswith("@example.com>")
