"""The one builder every mail header made from data goes through (issue 22 N1).

Python's email package decodes RFC 2047 encoded words (``=?utf-8?q?=0D=0A?=``) when a header is
set, *after* any check of the raw text, so a value without a line break can still become one and
add headers or a body. ``header_value`` therefore asks the same parser the message uses and refuses
the value when either the raw text or what it decodes to holds CR, LF or another control or line
separator. Address headers (From, To, Reply-To) are checked the same way, address by address.
Custom header names must be plain RFC 5322 field names and may not replace the headers the
builder sets itself (From, To, Subject, Date, Message-ID, MIME and Content headers).
"""
from __future__ import annotations

import re
from email.policy import default as _policy
from typing import Any

# CR, LF, NUL and the other C0 controls except TAB, DEL, NEL and the Unicode line/paragraph separators.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_FIELD_NAME = re.compile(r"^[!-9;-~]{1,76}$")
RESERVED = frozenset({"from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version", "sender",
                      "reply-to", "return-path", "received", "content-type", "content-transfer-encoding",
                      "content-disposition", "content-id"})


class HeaderInjection(ValueError):
    """A header value (or name) that would add lines to the mail; the mail is refused, never sent."""


def header_value(name: str, value: Any) -> str:
    """``value`` as text for header ``name``; raises HeaderInjection if it or its decoded form breaks lines."""
    text = "" if value is None else str(value)
    if _FORBIDDEN.search(text):
        raise HeaderInjection(f"{name}: line break or control character in the value")
    try:
        parsed = _policy.header_factory(name, text)
    except (ValueError, TypeError) as exc:  # an address part that decodes to CR/LF, an unparsable address
        raise HeaderInjection(f"{name}: {exc}") from exc
    if _FORBIDDEN.search(str(parsed)):
        raise HeaderInjection(f"{name}: an encoded word decodes to a line break or control character")
    for address in getattr(parsed, "addresses", ()):
        if any(_FORBIDDEN.search(part or "") for part in (address.display_name, address.username, address.domain)):
            raise HeaderInjection(f"{name}: an address decodes to a line break or control character")
    return text


def custom_header(name: Any, value: Any) -> tuple[str, str]:
    """A template's own header (``headers: {"X-Campaign": "[campaign]"}``), name and value checked."""
    if not isinstance(name, str) or not _FIELD_NAME.match(name):
        raise HeaderInjection(f"invalid header name {name!r}")
    if name.lower() in RESERVED:
        raise HeaderInjection(f"header {name!r} is set by the mail builder and cannot be a custom header")
    return name, header_value(name, value)


def body_value(value: Any) -> str:
    """A replacement that lands in a text body: line endings normalised to LF, other controls removed.

    The MIME boundary is chosen by the email package so that no body line equals it; a value can
    therefore hold ``--boundary`` lines or header-like text and still stay inside its own part.
    """
    text = "" if value is None else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)
