"""/docs: the Swagger UI page (assets bundled locally, no CDN) and the OpenAPI document per vhost.

The documents come from :mod:`core.app.docs.openapi`; this module only mounts them on the Flask app
when ``swaggerMode`` is on and refuses to start if a project route would be shadowed by a docs URL.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from html import escape
from pathlib import Path
from typing import Any

import flask_swagger_ui
from flask import Response, redirect, request, send_from_directory

from core.data.jsonutil import dumps
from core.errors import MiaError, StartupError
from core.http import clientip
from core.http.output import error_response
from core.shared import flag
from core.startup.routes import RouteMethod
from core.validation.validator import RuleDefinitionError, compile_rules

DOCS_URLS = ("/api-docs", "/docs", "/docs/", "/docs/openapi.json", "/docs/swagger-ui-bundle.js")
UI_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <meta name="description" content="{description}">
  <link rel="stylesheet" type="text/css" href="swagger-ui.css">
  <link rel="stylesheet" type="text/css" href="index.css">
  <link rel="icon" type="image/png" href="favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="swagger-ui-bundle.js"></script>
  <script src="swagger-ui-standalone-preset.js"></script>
  <script>
    window.onload = function () {{
      window.ui = SwaggerUIBundle({{
        url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "BaseLayout"
      }});
    }};
  </script>
</body>
</html>
"""


def docs_enabled(environment: dict[str, Any]) -> bool:
    """mia's ``swaggerMode``: on when unset or true/1/y/yes/on."""
    return flag(environment.get("swaggerMode"), default=True)


class LazyDocuments(Mapping[str, dict[str, Any]]):
    """vhost id -> OpenAPI document, each built when first read (``/docs``, the CLI export, tests).

    Why lazy: most servers (docs off, every worker but the one asked) never read them, and for
    thousands of routes building them was most of the start-up time and memory (apispec is imported
    only then, too).
    """

    def __init__(self, routes: list[RouteMethod], host_ids: Any, environment: dict[str, Any]) -> None:
        self._routes = routes
        self._environment = environment
        self._keys = ["*", *sorted(host_ids)]
        self._built: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def __getitem__(self, host_id: str) -> dict[str, Any]:
        document = self._built.get(host_id)
        if document is not None:
            return document
        if host_id not in self._keys:
            raise KeyError(host_id)
        with self._lock:
            if host_id not in self._built:
                from core.app.docs.openapi import build_host_document

                self._built[host_id] = build_host_document(self._routes, host_id, self._environment)
            return self._built[host_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def check_response_schemes(routes: list[RouteMethod]) -> None:
    """Compile every ``responseSchemes`` rule set (StartupError naming the file) without building the docs."""
    for route in routes:
        for _kind, rules, where in route.response_rules():
            try:
                compile_rules(rules, where=where)
            except RuleDefinitionError as exc:
                raise StartupError(str(exc), where) from exc


def check_collisions(router: Any) -> None:
    """Project routes that answer GET on a docs URL would be shadowed by the docs: refuse to start."""
    for map_id in router.tries:
        for url in DOCS_URLS:
            endpoint, _ = router.find(map_id, url.rstrip("/") or "/", "GET")
            if endpoint is None:
                continue
            route = router.targets[endpoint].route
            raise StartupError(f"route {route.verb} {route.path} answers {url}, which serves the API docs; "
                               "move the route or set swaggerMode false", route.file.path)


def install(app: Any, routes: list[RouteMethod], router: Any, environment: dict[str, Any]) -> None:
    """Offer the documents (built on first read: the CLI export and /docs read them) and mount the docs URLs
    when swaggerMode is on.

    The docs are plain Flask rules: werkzeug prefers them over the ``/<path:path>`` catch-all that feeds
    the pipeline, and ``check_collisions`` guarantees no project route is hidden by them.
    """
    check_response_schemes(routes)  # what building the documents would fail on still fails start-up
    documents = LazyDocuments(routes, router.hosts.ids, environment)
    app.config["mia.docs"] = documents
    if not docs_enabled(environment):
        return  # docs off (production): built only if something reads them, e.g. the CLI export
    for host_id in documents:  # docs on: built now, so a broken document fails start-up, not a request
        documents[host_id]
    check_collisions(router)
    dist = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
    swagger_host = str((environment.get("swagger") or {}).get("host") or "")
    page = UI_PAGE.format(title=escape(str(environment.get("title") or "Swagger UI")),
                          description=escape(str(environment.get("description") or "")))
    bodies: dict[str, str] = {}  # rendered once per vhost, on its first request
    client_scheme = clientip.resolver(environment)  # X-Forwarded-Proto only from trustedProxies (README)

    def _document_id() -> str | None:
        host_id = router.hosts.resolve(request.host)
        key = host_id if host_id in documents else "*"
        return key if documents[key].get("paths") else None

    def api_docs() -> Any:
        key = _document_id()
        if key is None:
            return error_response(MiaError(404), request)
        if key not in bodies:
            bodies[key] = dumps(documents[key])
        return Response(bodies[key], mimetype="application/json", headers={"Cache-Control": "no-cache"})

    def ui_redirect() -> Any:
        if swagger_host and swagger_host.lower() != (request.host or "").lower():
            proto = client_scheme(request)[1]
            return redirect(f"{proto}://{swagger_host}/docs", 301)
        query = request.query_string.decode("latin-1")
        return redirect("/docs/" + (f"?{query}" if query else ""), 301)

    def ui_page() -> Any:
        if swagger_host and swagger_host.lower() != (request.host or "").lower():
            return ui_redirect()
        if _document_id() is None:
            return error_response(MiaError(404), request)
        return Response(page, mimetype="text/html", headers={"Cache-Control": "public, max-age=3600"})

    def ui_asset(filename: str) -> Any:
        if filename in ("index.html", ""):
            return ui_page()
        if not (dist / filename).is_file():
            return error_response(MiaError(404), request)
        return send_from_directory(dist, filename, max_age=3600)

    rules = [("/api-docs", "mia_api_docs", api_docs), ("/docs/openapi.json", "mia_openapi_json", api_docs),
             ("/docs", "mia_docs_redirect", ui_redirect), ("/docs/", "mia_docs", ui_page),
             ("/docs/<path:filename>", "mia_docs_asset", ui_asset)]
    for url, endpoint, view in rules:  # no automatic OPTIONS: it claimed every verb of the catch-all in Allow
        app.add_url_rule(url, endpoint, view, methods=["GET"], strict_slashes=url == "/docs" or None,
                         provide_automatic_options=False)
