"""XML output and XML error output (generic §4.3): generic-defaultXMLResponse / -XMLErrorResponse.

Built with ElementTree, so text is always escaped and data can never add elements; keys that are
not XML names are rewritten into names (invalid characters become ``_``) and characters XML 1.0
forbids are dropped. mia.js wrapped text with ``<``, ``>`` or ``&`` in CDATA; escaping is the
equivalent an XML parser reads back as the same text.
"""
from __future__ import annotations

import datetime as _dt
import re
import xml.etree.ElementTree as ET
from functools import cache
from typing import Any

from core import Controller, MiaError
from core.http.output import error_entries

DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MIMETYPE = "application/xml"
_NAME_START = r"A-Za-z_\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F" \
              r"\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD"
_NAME_CHAR = _NAME_START + r"\-.0-9\u00B7\u0300-\u036F\u203F-\u2040"
_PATTERNS = {
    "invalid_name_char": f"[^{_NAME_CHAR}]",
    "name_start": f"[{_NAME_START}]",
    "invalid_text": "[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]",
}


@cache
def _regex(name: str) -> re.Pattern[str]:
    """One of ``_PATTERNS``, compiled on first use: these Unicode classes take ~25 ms to compile, which
    every worker paid at start-up whether or not it ever answered XML."""
    return re.compile(_PATTERNS[name])


def element_name(key: Any) -> str:
    """An XML element name for ``key``: invalid characters -> ``_``, a name never starts with a digit."""
    name = _regex("invalid_name_char").sub("_", str(key))
    if not name or not _regex("name_start").match(name[0]):
        name = "_" + name
    return name


def _text(value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, _dt.datetime):
        text = (value if value.tzinfo else value.replace(tzinfo=_dt.UTC)).isoformat().replace("+00:00", "Z")
    elif isinstance(value, bytes):
        text = value.decode("utf-8", errors="replace")
    else:
        text = str(value)
    return _regex("invalid_text").sub("", text)


def _fill(element: ET.Element, value: Any) -> None:
    """Children for dicts (lists repeat the element), text for everything else."""
    if isinstance(value, dict):
        for key, item in value.items():
            name = element_name(key)
            for each in (item if isinstance(item, (list, tuple)) else [item]):
                _fill(ET.SubElement(element, name), each)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _fill(ET.SubElement(element, "item"), item)
    elif value is not None:
        element.text = _text(value)


def to_xml(value: Any) -> bytes:
    """A single-key dict names the root (``{"id": "x"}`` -> ``<id>x</id>``); anything else is ``<root>``."""
    if isinstance(value, dict) and len(value) == 1 and not isinstance(next(iter(value.values())), (list, tuple)):
        key, inner = next(iter(value.items()))
        root = ET.Element(element_name(key))
        _fill(root, inner)
    else:
        root = ET.Element("root")
        _fill(root, value)
    ET.indent(root, space="  ")
    return (DECLARATION + ET.tostring(root, encoding="unicode") + "\n").encode("utf-8")


class DefaultXMLResponse(Controller):
    """Sends ``res.response`` itself (no envelope) as XML with ``res.status_code``."""

    identity = "generic-defaultXMLResponse"
    produces = "application/xml"  # declared media type: the OpenAPI document lists it
    version = "1.0"
    group = "generic"

    def all(self, req: Any, res: Any) -> None:
        if res.response is None:  # mia.js: an undefined response is a 500
            raise MiaError(500)
        res.send(to_xml(res.response), status=res.status_code or 200, mimetype=MIMETYPE)


class DefaultXMLErrorResponse(Controller):
    """Error controller: ``<error><status>..</status><errors><code>..</code><msg>..</msg></errors></error>``."""

    identity = "generic-defaultXMLErrorResponse"
    produces = "application/xml"
    version = "1.0"
    group = "generic"

    def all(self, err: BaseException, req: Any, res: Any) -> None:
        status, entries, headers = error_entries(err, req)
        for key, value in headers.items():
            res.headers[key] = value
        res.send(to_xml({"error": {"status": status, "errors": entries}}), status=status, mimetype=MIMETYPE)
