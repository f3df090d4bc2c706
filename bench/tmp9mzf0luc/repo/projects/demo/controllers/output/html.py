"""An output controller that renders ``res.response`` as a small HTML page (mia.js's html-output).

Every value is escaped, so a todo named ``<script>`` shows as text. A list of dicts becomes a
table, a dict a definition list, anything else a paragraph.
"""
from __future__ import annotations

from html import escape
from typing import Any

from core import Controller, Shared

PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title></head>
<body>
<h1>{title}</h1>
{content}
</body>
</html>
"""


def _cell(value: Any) -> str:
    return escape("" if value is None else str(value))


def render(value: Any) -> str:
    """HTML for ``value`` (escaped)."""
    if isinstance(value, list) and value and all(isinstance(row, dict) for row in value):
        columns = list(dict.fromkeys(key for row in value for key in row))
        head = "".join(f"<th>{_cell(c)}</th>" for c in columns)
        rows = "".join("<tr>" + "".join(f"<td>{_cell(row.get(c))}</td>" for c in columns) + "</tr>"
                       for row in value)
        return f"<table>\n<tr>{head}</tr>\n{rows}\n</table>"
    if isinstance(value, list):
        return "<ul>" + "".join(f"<li>{_cell(item)}</li>" for item in value) + "</ul>"
    if isinstance(value, dict):
        return "<dl>" + "".join(f"<dt>{_cell(k)}</dt><dd>{_cell(v)}</dd>" for k, v in value.items()) + "</dl>"
    return f"<p>{_cell(value)}</p>"


class HtmlOutput(Controller):
    """Last step of a chain: sends ``res.response`` as ``text/html``."""

    identity = "html-output"
    version = "1.0"
    group = "demo"
    produces = "text/html"  # read by core/app/docs/openapi.py: the route's 2xx answers are documented as HTML

    def all(self, req: Any, res: Any) -> None:
        title = _cell(Shared.config("demo-config.title") or "mia.py")
        page = PAGE.format(title=title, content=render(res.response))
        res.send(page, status=res.status_code or 200, mimetype="text/html")
