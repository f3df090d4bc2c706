"""SMTP connector: one rendered mail to one address with smtplib (implicit TLS or STARTTLS, timeouts).

Settings (project config ``connectors.smtp``, flat or keyed by environment mode): ``host``,
``port`` (default 465 with ``tls``, 587 with ``starttls``, else 25), ``user``, ``password``,
``tls`` (implicit TLS), ``starttls``, ``timeout`` (seconds, default 10), ``from`` (used when the
template has no ``sender``), ``caFile`` (a CA bundle for a private server). A refused login, a
connection that fails or times out and 4xx answers are retried; 5xx answers (a refused recipient or
message) reject the mail at once.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

from core.notifications.connectors import DeliveryError


def build_message(mail: dict[str, Any], to: str, sender: str | None) -> EmailMessage:
    """A MIME mail: text, and html as its alternative when both are given."""
    message = EmailMessage()
    message["Subject"] = mail.get("subject") or ""
    message["From"] = mail.get("sender") or sender or ""
    message["To"] = to
    if mail.get("replyTo"):
        message["Reply-To"] = mail["replyTo"]
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


def send(settings: dict[str, Any], mail: dict[str, Any], to: str) -> None:
    """Deliver one mail; raises DeliveryError."""
    if not mail.get("sender") and not settings.get("from"):
        raise DeliveryError("NoSender", "neither the template's sender nor the connector's from is set",
                            permanent=True)
    try:
        message = build_message(mail, to, settings.get("from"))
    except ValueError as exc:  # e.g. a line break in a header value: never retried, never injected
        raise DeliveryError("InvalidMessage", str(exc), permanent=True) from exc
    tls, starttls = bool(settings.get("tls")), bool(settings.get("starttls"))
    host = settings.get("host") or "localhost"
    port = int(settings.get("port") or (465 if tls else 587 if starttls else 25))
    timeout = float(settings.get("timeout") or 10)
    context = ssl.create_default_context(cafile=settings.get("caFile")) if (tls or starttls) else None
    try:
        client = (smtplib.SMTP_SSL(host, port, timeout=timeout, context=context) if tls
                  else smtplib.SMTP(host, port, timeout=timeout))
        with client:
            if starttls:
                client.starttls(context=context)
            if settings.get("user"):
                client.login(str(settings["user"]), str(settings.get("password") or ""))
            client.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError("SMTPAuthenticationError", _code_text(exc)) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        code, error = next(iter(exc.recipients.values()))
        text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
        raise DeliveryError("SMTPRecipientRefused", f"{code} {text}", permanent=500 <= code < 600) from exc
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError("SMTPError", _code_text(exc), permanent=500 <= exc.smtp_code < 600) from exc
    except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timed out, TLS failures
        raise DeliveryError("SMTPConnectionError", f"{type(exc).__name__}: {exc}") from exc
