"""`server.py <env> docs --format json|yaml|md|html --out FILE`: valid JSON/YAML, readable Markdown/HTML."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

from core.app.docs import openapi as docs
from core.app.docs.export import main as export_main
from core.app.docs.export import render

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "server.py", "test", "docs", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def expected_headings(document):
    """(tag, "METHOD path") pairs every human-readable export must show."""
    return [(o["tags"][0], f"{m.upper()} {p}") for p, m, o in docs.operations(document)]


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self.urls: list[str] = []
        self._tag: str | None = None

    def handle_starttag(self, tag, attrs):
        self._tag = tag if tag in ("h1", "h2", "h3") else None
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]

    def handle_data(self, data):
        if self._tag:
            self.found.append((self._tag, data))

    def handle_endtag(self, tag):
        self._tag = None


def test_cli_json_export_is_the_served_document(tmp_path, app):
    out = tmp_path / "api.json"
    proc = run_cli("--format", "json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    exported = json.loads(out.read_text())
    validate(exported)
    served = app.test_client().get("/api-docs").json
    assert exported == served


def test_cli_markdown_export_has_a_heading_per_tag_and_operation(tmp_path, app):
    out = tmp_path / "API.md"
    proc = run_cli("--format", "md", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    lines = text.splitlines()
    document = app.config["mia.docs"]["*"]
    assert lines[0] == f"# {document['info']['title']}"
    for tag, heading in expected_headings(document):
        assert f"## {tag}" in lines
        assert f"### {heading}" in lines
        # each operation's section sits under its tag's heading
        assert lines.index(f"## {tag}") < lines.index(f"### {heading}")
    # the pipes inside the rules are escaped, so the table keeps its columns
    assert '| `flavour` | query | string | yes | one of "cookies and cream" \\| "vanilla" \\| "strawberry"' in text


def test_yaml_export_parses_back_to_the_document(tmp_path, app):
    out = tmp_path / "api.yaml"
    assert export_main(app, ["--format", "yaml", "--out", str(out)]) == 0
    assert yaml.safe_load(out.read_text()) == json.loads(json.dumps(app.config["mia.docs"]["*"]))


def test_html_export_is_readable_and_self_contained(tmp_path, app):
    out = tmp_path / "api.html"
    assert export_main(app, ["--format", "html", "--out", str(out)]) == 0
    parser = _Headings()
    parser.feed(out.read_text())
    document = app.config["mia.docs"]["*"]
    assert ("h1", document["info"]["title"]) in parser.found
    for tag, heading in expected_headings(document):
        assert ("h2", tag) in parser.found
        assert ("h3", heading) in parser.found
    assert parser.urls == []  # no stylesheet, script or font from anywhere


def test_rendering_shows_security_deprecation_and_body_fields():
    document = {
        "openapi": "3.0.3", "info": {"title": "T <x>", "version": "1", "description": "d"},
        "tags": [{"name": "Things"}],
        "components": {"securitySchemes": {"staticKey": {"type": "apiKey", "in": "header", "name": "key"}}},
        "paths": {"/t/{id}": {"put": {
            "tags": ["Things"], "operationId": "t", "deprecated": True, "security": [{"staticKey": []}],
            "parameters": [{"in": "path", "name": "id", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"content": {"application/json": {"schema": {
                "type": "object", "required": ["a"],
                "properties": {"a": {"type": "object", "properties": {"b": {"type": "integer", "maximum": 3}}},
                               "c": {"type": "array", "items": {"type": "object",
                                                               "properties": {"d": {"type": "string"}}}}}}}}},
            "responses": {"200": {"description": "Success"}}}}},
    }
    md = render(document, "md")
    assert "### PUT /t/{id}" in md and "**deprecated**" in md and "Security: `staticKey`" in md
    assert "| `a.b` | integer | no | maximum 3 |" in md and "| `c[].d` | string |" in md
    html = render(document, "html")
    assert "<h1>T &lt;x&gt;</h1>" in html and 'class="deprecated"' in html
    assert re.search(r"<code>a\.b</code></td><td>integer</td><td>no</td><td>maximum 3</td>", html)


@pytest.mark.parametrize("args", [["--format", "xml"], ["--host", "nowhere"]])
def test_bad_arguments_exit_non_zero(app, args):
    with pytest.raises(SystemExit) as exc:
        export_main(app, args)
    assert exc.value.code == 2
