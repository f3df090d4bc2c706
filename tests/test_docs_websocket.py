"""WebSocket routes in the docs (issue 25): the OpenAPI document (``x-websocket`` on the path item and a
section Swagger UI shows in the description), and both exports; the Markdown export's scheme lines."""
from __future__ import annotations

from core.app.docs.export import to_html, to_markdown


def _document(client):
    return client.get("/docs/openapi.json").get_json()


def test_the_openapi_document_describes_each_ws_route_with_auth_and_messages(client):
    document = _document(client)
    socket = document["paths"]["/demo/v1/live/todos"]["x-websocket"]
    assert socket["summary"].startswith("Live feed of todo changes")
    assert {name for requirement in socket["security"] for name in requirement} == {"bearerJWT", "bearerJWTQuery"}
    assert socket["x-policy"] == {"groups": ["users"], "groupPolicy": "at_least_one"}
    assert '{"event": "welcome", "username"}' in socket["x-messages"]["send"]
    assert '{"status": "checked"|"unchecked"}' in socket["x-messages"]["receive"]
    assert "get" not in document["paths"]["/demo/v1/live/todos"]  # no plain GET for fuzzers and generated clients


def test_swagger_ui_shows_the_ws_routes_in_the_documents_description(client):
    description = _document(client)["info"]["description"]  # Swagger UI renders it (Markdown) above the routes
    assert "## WebSocket routes" in description
    assert "**WS /demo/v1/live/todos**: Live feed of todo changes" in description
    assert "- auth: `bearerJWT` or `bearerJWTQuery`; policy: groups users (at_least_one)" in description
    assert "**WS /demo-auth/v1/live/todos**" in description and "`staticKey`" in description
    assert "- client may send: " in description


def test_the_markdown_export_lists_ws_routes_and_names_http_schemes_right(client):
    text = to_markdown(_document(client))
    assert "### WS /demo/v1/live/todos" in text and "### WS /demo-auth/v1/live/todos" in text
    assert "Server sends: " in text and "Client may send: " in text
    assert "- **bearerJWT** (http bearer, JWT): " in text
    assert "- **staticKey** (apiKey in header `key`): " in text
    assert "in None" not in text and "'None'" not in text


def test_the_html_export_lists_ws_routes(client):
    page = to_html(_document(client))
    assert "<h3>WS /demo/v1/live/todos</h3>" in page and "<p>Client may send: " in page
