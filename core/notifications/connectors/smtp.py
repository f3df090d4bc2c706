"""SMTP connector: rendered mails to addresses with smtplib, one connection per processor batch.

Settings (project config ``connectors.smtp``, flat or keyed by environment mode): ``host``,
``port`` (default 465 with ``tls``, 587 with ``starttls``, else 25), ``user``, ``password``,
``tls`` (implicit TLS), ``starttls``, ``timeout`` (seconds, default 10), ``from`` (used when the
template has no ``sender``), ``caFile`` (a CA bundle for a private server). A refused login, a
connection that fails or times out and 4xx answers are retried; 5xx answers (a refused recipient or
message) reject the mail at once.

Every header made from data goes through ``core.notifications.headers`` (no CR, LF or encoded word
that decodes to one); each mail carries ``Date`` and ``Message-ID``. A ``Mailer`` keeps one open
connection per server settings for a processor run (``with Mailer() as mailer: mailer.send(...)``):
100 mails are one handshake and one login, not 100. A connection the server dropped between mails
is opened again once.
"""
from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid
from typing import Any

from core.notifications.connectors import DeliveryError
from core.notifications.headers import HeaderInjection, custom_header, header_value


def _domain(sender: str) -> str | None:
    addresses = getattr(default_policy.header_factory("From", sender), "addresses", ())
    return addresses[0].domain or None if addresses else None


def build_message(mail: dict[str, Any], to: str, sender: str | None) -> EmailMessage:
    """A MIME mail: text, and html as its alternative when both are given. Raises HeaderInjection."""
    message = EmailMessage()
    sender_text = header_value("From", mail.get("sender") or sender or "")
    message["Subject"] = header_value("Subject", mail.get("subject") or "")
    message["From"] = sender_text
    message["To"] = header_value("To", to)
    if mail.get("replyTo"):
        message["Reply-To"] = header_value("Reply-To", mail["replyTo"])
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=_domain(sender_text) if sender_text else None)
    for name, value in (mail.get("headers") or {}).items():
        name, value = custom_header(name, value)
        message[name] = value
    text, html = mail.get("text"), mail.get("html")
    if text:
        message.set_content(text)
        if html:
            message.add_alternative(html, subtype="html")
    elif html:
        message.set_content(html, subtype="html")
    else:
        message.set_content("")
    return message


def _code_text(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {error}"


def _key(settings: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(settings.get(name) for name in ("host", "port", "tls", "starttls", "user", "password", "caFile"))


def _connect(settings: dict[str, Any]) -> smtplib.SMTP:
    tls, starttls = bool(settings.get("tls")), bool(settings.get("starttls"))
    host = settings.get("host") or "localhost"
    port = int(settings.get("port") or (465 if tls else 587 if starttls else 25))
    timeout = float(settings.get("timeout") or 10)
    context = ssl.create_default_context(cafile=settings.get("caFile")) if (tls or starttls) else None
    client = (smtplib.SMTP_SSL(host, port, timeout=timeout, context=context) if tls
              else smtplib.SMTP(host, port, timeout=timeout))
    try:
        if starttls:
            client.starttls(context=context)
        if settings.get("user"):
            client.login(str(settings["user"]), str(settings.get("password") or ""))
    except BaseException:
        client.close()
        raise
    return client


class Mailer:
    """Open SMTP connections of one processor run, by server settings; closed by ``close()``."""

    def __init__(self) -> None:
        self._clients: dict[tuple[Any, ...], smtplib.SMTP] = {}

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        for client in self._clients.values():
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
        self._clients.clear()

    def _drop(self, key: tuple[Any, ...]) -> None:
        client = self._clients.pop(key, None)
        if client is not None:
            client.close()

    def send(self, settings: dict[str, Any], mail: dict[str, Any], to: str) -> None:
        """Deliver one mail; raises DeliveryError."""
        if not mail.get("sender") and not settings.get("from"):
            raise DeliveryError("NoSender", "neither the template's sender nor the connector's from is set",
                                permanent=True)
        try:
            message = build_message(mail, to, settings.get("from"))
        except (HeaderInjection, ValueError) as exc:  # a line break in a header value: never retried or sent
            raise DeliveryError("InvalidMessage", str(exc), permanent=True) from exc
        key = _key(settings)
        try:
            reused = key in self._clients
            if not reused:
                self._clients[key] = _connect(settings)
            try:
                self._clients[key].send_message(message)
            except smtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                self._drop(key)  # the server closed an idle connection between mails: once more, fresh
                self._clients[key] = _connect(settings)
                self._clients[key].send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError("SMTPAuthenticationError", _code_text(exc)) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            code, error = next(iter(exc.recipients.values()))
            text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
            raise DeliveryError("SMTPRecipientRefused", f"{code} {text}", permanent=500 <= code < 600) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError("SMTPError", _code_text(exc), permanent=500 <= exc.smtp_code < 600) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timed out, TLS failures
            self._drop(key)
            raise DeliveryError("SMTPConnectionError", f"{type(exc).__name__}: {exc}") from exc


def send(settings: dict[str, Any], mail: dict[str, Any], to: str) -> None:
    """Deliver one mail on its own connection (outside a processor run); raises DeliveryError."""
    with Mailer() as mailer:
        mailer.send(settings, mail, to)
