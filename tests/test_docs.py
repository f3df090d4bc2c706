"""API docs: the OpenAPI document built from the compiled routes, /docs, /api-docs, vhosts, response checks."""
from __future__ import annotations

import json
import logging
import re
from html.parser import HTMLParser

import pytest
from openapi_spec_validator import validate

from core.app.docs import openapi as docs
from core.errors import StartupError
from core.validation.schemas import ecma_pattern

# ---------------------------------------------------------------------------------------- helpers
DOCS_CONTROLLERS = '''
import re
from core import Controller

class Shop(Controller):
    identity = "shop"
    preconditions = {
        "all": {
            "parameters": {
                "header": {"X-Client": {"type": str, "minLength": 2, "desc": "Client name"}},
                "query": {
                    "size": {"type": int, "min": 1, "max": 50, "default": 10},
                    "colour": {"type": str, "allow": ["red", "Blue"]},
                    "fields": {"type": str, "allowMultiple": ["a", "b"]},
                    "state": {"type": str, "deny": ["gone"]},
                    "since": {"type": "Date"},
                    "tags": {"type": list, "subType": int, "maxLength": 3, "min": 0},
                    "hidden": {"type": str, "docs": False},
                },
                "path": {"sku": {"type": str, "match": re.compile(r"^[a-z]{2}[0-9]+$", re.I)}},
                "body": {
                    "name": {"type": str, "required": True, "maxLength": 40, "desc": "Display name"},
                    "age": {"type": int, "nullable": True},
                    "price": {"type": float, "min": 0},
                    "address": {"city": {"type": str, "required": True}, "zip": {"type": str}},
                    "lines": [{"qty": {"type": int, "min": 1}}],
                    "internal": {"type": str, "public": {"set": False}},
                    "mail": {"type": str, "match": r"^[^@\\s]+@[^@\\s]+$"},
                },
            },
            "responses": {201: "Created", 409: ["Conflict"]},
        }
    }
    def all(self, req, res):
        res.status_code = 201
        res.response = {"ok": True}

class Gate(Controller):
    identity = "generic-validateAccessKey"
    preconditions = {"all": {"parameters": {"header": {"key": {"type": str, "required": True}}},
                             "responses": {401: ["KeyInvalid"]}}}
    def all(self, req, res):
        pass

class Reply(Controller):
    identity = "reply"
    def good(self, req, res):
        res.send({"status": 200, "response": {"name": "Ada", "age": 36}})
    def bad(self, req, res):
        res.send({"status": 200, "response": {"name": 5}})
    def fail(self, req, res):
        res.send({"status": 409, "errors": "nope"}, status=409)
    def page(self, req, res):
        res.send("<p>hi</p>", mimetype="text/html")

class Html(Controller):
    identity = "html"
    produces = "text/html"
    def all(self, req, res):
        res.send("<p>hi</p>", mimetype="text/html")
'''

SCHEMES = {
    "success": {"status": {"type": "Number"}, "response": {"name": {"type": "String", "required": True},
                                                           "age": {"type": "Number"}}},
    "error": {"status": {"type": "Number"}, "errors": [{"code": {"type": "String"}, "msg": {"type": "String"}}]},
}


def shop_routes(extra: str = "") -> str:
    return f'''
routes = {{
    "group": "shop", "name": "Shop API", "prefix": ["/shop/v1", "/shop/latest"],
    "routes": {{
        "./items/:sku": {{
            "post": {{"identity": "createItem", "description": "Create an item",
                     "controller": [{{"name": "shop"}}, {{"name": "out"}}]}},
        }},
        "./things/:a/:b": {{"get": {{"identity": "things", "controller": [{{"name": "out"}}]}}}},
        "./secret": {{"get": {{"identity": "secret", "controller": [{{"name": "generic-validateAccessKey"}},
                                                                   {{"name": "out"}}]}}}},
        "./hidden": {{"get": {{"identity": "hidden", "docs": False, "controller": [{{"name": "out"}}]}}}},
        "./old": {{"get": {{"identity": "old", "deprecated": True, "controller": [{{"name": "out"}}]}}}},
        "./form": {{"post": {{"identity": "form", "bodyParser": {{"type": "urlencoded"}},
                             "controller": [{{"name": "shop"}}, {{"name": "out"}}]}}}},
        "./page": {{"get": {{"identity": "page", "controller": [{{"name": "html"}}]}}}},
        "./good": {{"get": {{"identity": "good", "responseSchemes": {SCHEMES!r},
                            "controller": [{{"name": "reply", "function": "good"}}]}}}},
        "./bad": {{"get": {{"identity": "bad", "responseSchemes": {SCHEMES!r},
                           "controller": [{{"name": "reply", "function": "bad"}}]}}}},
        "./fail": {{"get": {{"identity": "fail", "responseSchemes": {SCHEMES!r},
                            "controller": [{{"name": "reply", "function": "fail"}}]}}}},
        {extra}
    }},
}}
'''


@pytest.fixture
def shop(tree):
    tree.write("projects/base/controllers/shop.py", DOCS_CONTROLLERS)
    tree.write("projects/base/routes/shop.py", shop_routes())
    tree.env({"title": "Shop", "description": "Things to buy", "version": "2.1", "checkResponseSchemes": True,
              "logLevel": "error"})
    return tree


@pytest.fixture
def shop_app(shop):
    application = shop.app()
    yield application
    application.config["mia.databases"].close_all()


def op(document, path, method):
    return document["paths"][path][method]


def params(operation):
    return {(p["in"], p["name"]): p for p in operation.get("parameters", [])}


# ---------------------------------------------------------------------------------------- the real projects
def test_served_document_is_valid_openapi_and_the_same_on_both_urls(client):
    first, second = client.get("/api-docs"), client.get("/docs/openapi.json")
    assert first.status_code == 200 and first.mimetype == "application/json"
    assert first.headers["Cache-Control"] == "no-cache"
    assert first.data == second.data
    document = first.json
    validate(document)
    assert document["openapi"] == "3.1.0"  # the default; 3.0.3 on request (tests/test_openapi_versions.py)
    assert document["components"]["schemas"]["Error"]["required"] == ["errors", "status"]


def test_demo_operations_are_documented_with_their_rules(client):
    document = client.get("/api-docs").json
    flavours = op(document, "/icecream/v1/flavours", "get")
    assert flavours["tags"] == ["My icecream API"]
    assert flavours["summary"] == "Tell the server your favourite flavour"
    flavour = params(flavours)[("query", "flavour")]
    assert flavour["required"] is True and flavour["description"] == "Your favourite flavour"
    assert flavour["schema"]["enum"] == ["cookies and cream", "vanilla", "strawberry"]
    showcase = op(document, "/icecream/v1/rules/{code}", "post")
    code = params(showcase)[("path", "code")]
    assert code["required"] is True and code["schema"]["pattern"] == "^[a-zA-Z]{2}\\d{2}$"
    body = showcase["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["address", "name"]
    assert body["properties"]["address"]["required"] == ["city"]
    assert body["properties"]["items"]["items"]["properties"]["qty"] == {"type": "integer", "minimum": 1}
    ids = [o["operationId"] for _, _, o in docs.operations(document)]
    assert len(ids) == len(set(ids))
    assert "icecreamFlavours_icecream_v1" in ids and "icecreamFlavours_icecream_latest" in ids


def test_document_is_built_once_at_start_up(app, monkeypatch):
    def rebuild(*args, **kwargs):
        raise AssertionError("the document must not be rebuilt per request")

    monkeypatch.setattr(docs, "build_document", rebuild)
    reply = app.test_client().get("/api-docs")
    assert reply.status_code == 200
    assert reply.json == json.loads(json.dumps(app.config["mia.docs"]["*"], default=str))


# ---------------------------------------------------------------------------------------- content
def test_parameters_carry_every_rule(shop_app):
    document = shop_app.config["mia.docs"]["*"]
    validate(document)
    create = op(document, "/shop/v1/items/{sku}", "post")
    p = params(create)
    assert p[("header", "x-client")]["schema"] == {"type": "string", "minLength": 2}
    assert p[("header", "x-client")]["description"] == "Client name"
    assert p[("query", "size")]["schema"] == {"type": "integer", "default": 10, "minimum": 1, "maximum": 50}
    assert p[("query", "colour")]["schema"]["enum"] == ["red", "Blue"]
    assert re.fullmatch(p[("query", "fields")]["schema"]["pattern"], "a,B,b")
    assert not re.fullmatch(p[("query", "fields")]["schema"]["pattern"], "a,c")
    assert re.fullmatch(p[("query", "state")]["schema"]["not"]["pattern"], "GONE")
    assert p[("query", "since")]["schema"] == {"type": "string", "format": "date-time"}
    assert p[("query", "tags")]["schema"] == {"type": "array", "maxItems": 3,
                                              "items": {"type": "integer", "minimum": 0}}
    assert p[("query", "tags")]["explode"] is True
    assert ("query", "hidden") not in p  # docs: False
    sku = p[("path", "sku")]
    assert sku["required"] is True and sku["schema"]["pattern"] == "^[a-zA-Z]{2}[0-9]+$"


def test_request_body_and_responses(shop_app):
    document = shop_app.config["mia.docs"]["*"]
    create = op(document, "/shop/v1/items/{sku}", "post")
    body = create["requestBody"]
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    props = schema["properties"]
    assert schema["required"] == ["address", "name"]
    assert props["name"] == {"type": "string", "minLength": 1, "maxLength": 40, "description": "Display name"}
    assert props["age"] == {"type": ["integer", "null"]}  # OpenAPI 3.1: nullable is a type list
    assert props["price"] == {"type": "number", "minimum": 0}
    assert props["address"]["required"] == ["city"]
    assert props["lines"]["items"]["properties"]["qty"] == {"type": "integer", "minimum": 1}
    assert "internal" not in props  # public.set false: the input is stripped
    # Python's \s (what the server checks) spelled out for ECMA-262 consumers.
    assert "\\x1c-\\x20" in props["mail"]["pattern"]
    responses = create["responses"]
    assert sorted(responses) == ["201", "400", "409", "413", "429", "500", "503"]
    assert responses["400"]["description"].split(", ") == docs.PRECONDITION_CODES
    assert responses["409"]["description"] == "Conflict"
    assert responses["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Success"}
    assert responses["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    form = op(document, "/shop/v1/form", "post")
    assert list(form["requestBody"]["content"]) == ["application/x-www-form-urlencoded"]


def test_paths_tags_flags_security_and_media(shop_app):
    document = shop_app.config["mia.docs"]["*"]
    assert document["info"] == {"title": "Shop", "version": "2.1", "description": "Things to buy"}
    assert [t["name"] for t in document["tags"]] == ["Shop API"]
    assert "/shop/v1/hidden" not in document["paths"]
    assert op(document, "/shop/v1/old", "get")["deprecated"] is True
    things = params(op(document, "/shop/latest/things/{a}/{b}", "get"))
    assert things[("path", "a")] == {"in": "path", "name": "a", "required": True,
                                     "schema": {"type": "string", "minLength": 1}}
    secret = op(document, "/shop/v1/secret", "get")
    assert secret["security"] == [{"signedKeyV1": []}, {"signedKeyV2": []}, {"staticKey": []}]
    assert "security" not in op(document, "/shop/v1/old", "get")
    schemes = document["components"]["securitySchemes"]
    assert schemes["signedKeyV1"] == {**docs.SECURITY_SCHEMES["signedKeyV1"]}
    assert "hmac-sha256" in schemes["signedKeyV2"]["description"] and "nonce" in schemes["signedKeyV2"]["description"]
    page = op(document, "/shop/v1/page", "get")
    assert page["responses"]["200"]["content"] == {"text/html": {"schema": {"type": "string"}}}


def test_response_schemes_become_json_schema(shop_app):
    good = op(shop_app.config["mia.docs"]["*"], "/shop/v1/good", "get")
    success = good["responses"]["200"]["content"]["application/json"]["schema"]
    assert success["properties"]["status"] == {"type": "number"}
    assert success["properties"]["response"]["required"] == ["name"]
    error = good["responses"]["400"]["content"]["application/json"]["schema"]
    assert error["properties"]["errors"]["type"] == "array"


def test_bad_response_scheme_fails_start_up_naming_the_file(shop):
    shop.write("projects/base/routes/broken.py", '''
routes = {"prefix": "/broken", "routes": {"./x": {"get": {
    "responseSchemes": {"success": {"status": {"type": "Nonsense"}}}, "controller": [{"name": "out"}]}}}}
''')
    with pytest.raises(StartupError, match="broken.py"):
        shop.app()


def test_ecma_patterns():
    assert ecma_pattern(r"/^ab$/i") == "^[aA][bB]$"
    assert ecma_pattern(r"^(?P<year>\d{4})$") == r"^(?:\d{4})$"
    assert ecma_pattern(re.compile("^a$", re.M)) is None  # multiline cannot be expressed: described instead


# ---------------------------------------------------------------------------------------- vhosts
def test_each_vhost_gets_its_routes_plus_the_host_less_ones(tree):
    tree.env({"hosts": [{"id": "api", "host": "api.example.test"}, {"id": "web", "host": ["web.example.test"]}]})
    tree.write("projects/base/routes/a.py", '''
routes = {"name": "Api", "hostId": "api", "prefix": "/a", "routes": {"./x": {"get": {"controller": [{"name": "out"}]}}}}
''')
    tree.write("projects/base/routes/b.py", '''
routes = {"name": "Any", "prefix": "/b", "routes": {"./y": {"get": {"controller": [{"name": "out"}]}}}}
''')
    app = tree.app()
    client = app.test_client()
    api = client.get("/api-docs", headers={"Host": "api.example.test"}).json
    web = client.get("/api-docs", headers={"Host": "web.example.test:8080"}).json
    other = client.get("/api-docs", headers={"Host": "localhost"}).json
    assert sorted(api["paths"]) == ["/a/x", "/b/y"]
    assert sorted(web["paths"]) == ["/b/y"] == sorted(other["paths"])
    for document in (api, web):
        validate(document)
    app.config["mia.databases"].close_all()


# ---------------------------------------------------------------------------------------- serving
class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]
        self._in_script = tag == "script"

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def test_docs_page_is_swagger_ui_from_local_assets(client):
    redirect = client.get("/docs")
    assert redirect.status_code == 301 and redirect.headers["Location"] == "/docs/"
    page = client.get("/docs/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Cache-Control"] == "public, max-age=3600"
    links = _Links()
    links.feed(page.get_data(as_text=True))
    assert {"swagger-ui-bundle.js", "swagger-ui.css"} <= set(links.urls)
    inline = "".join(links.scripts)
    assert 'url: "openapi.json"' in inline and "validatorUrl: null" in inline  # no badge from validator.swagger.io
    for url in links.urls:
        assert not re.match(r"^([a-z]+:)?//", url, re.I), url  # relative: served by us
        asset = client.get("/docs/" + url)
        assert asset.status_code == 200, url
        text = asset.get_data(as_text=True) if asset.mimetype.startswith("text/") else ""
        assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", text, re.I), url  # CSS loads nothing remote


def test_docs_urls_do_not_hide_project_routes(client):
    assert client.post("/docs/").json["errors"][0]["code"] == "NotFound"  # other verbs reach the pipeline
    missing = client.get("/docs/missing.js")
    assert missing.status_code == 404 and missing.json["status"] == 404
    assert client.get("/docs/../server.py").status_code == 404
    trace = client.open("/icecream/v1/flavours", method="TRACE")
    assert trace.status_code == 405 and "GET" in trace.headers["Allow"]
    assert client.get("/icecream/v1/flavours?flavour=vanilla").status_code == 200


def test_project_route_on_a_docs_url_fails_start_up_unless_docs_are_off(tree):
    tree.write("projects/base/routes/clash.py", '''
routes = {"prefix": "/", "routes": {"/api-docs": {"get": {"controller": [{"name": "out"}]}}}}
''')
    with pytest.raises(StartupError, match="clash.py"):
        tree.app()
    tree.env({"swaggerMode": "off"})
    app = tree.app()
    assert app.test_client().get("/api-docs").json == {"status": 200}  # the project's route answers
    app.config["mia.databases"].close_all()


@pytest.mark.parametrize("value", [False, "false", 0, "no", "off"])
def test_swagger_mode_off_serves_no_docs(tree, value):
    tree.write("projects/base/routes/r.py", '''
routes = {"prefix": "/r", "routes": {"./x": {"get": {"controller": [{"name": "out"}]}}}}
''')
    tree.env({"swaggerMode": value})
    app = tree.app()
    client = app.test_client()
    for url in ("/api-docs", "/docs/", "/docs/openapi.json"):
        reply = client.get(url)
        assert reply.status_code == 404 and reply.json["errors"][0]["code"] == "NotFound"
    assert client.get("/r/x").status_code == 200
    assert "/r/x" in app.config["mia.docs"]["*"]["paths"]  # still built for `server.py <env> docs`
    app.config["mia.databases"].close_all()


def test_production_switches_docs_off():
    from core.app.factory import ROOT
    from core.startup.config import load_module

    environment = load_module(ROOT / "config" / "env" / "production.py", "mia_docs_test_production").environment
    assert docs.docs_enabled(environment) is False


def test_swagger_host_redirects_to_the_docs_host(tree):
    tree.env({"swagger": {"host": "docs.example.test"}})
    tree.write("projects/base/routes/r.py", '''
routes = {"prefix": "/r", "routes": {"./x": {"get": {"controller": [{"name": "out"}]}}}}
''')
    app = tree.app()
    reply = app.test_client().get("/docs/", headers={"Host": "api.example.test"})
    assert reply.status_code == 301 and reply.headers["Location"] == "http://docs.example.test/docs"
    app.config["mia.databases"].close_all()


# ---------------------------------------------------------------------------------------- response checks
def test_matching_responses_pass_unchanged(shop_app):
    reply = shop_app.test_client().get("/shop/v1/good")
    assert reply.status_code == 200 and reply.json == {"status": 200, "response": {"name": "Ada", "age": 36}}


def test_mismatching_success_response_fails_loudly(shop_app, caplog):
    mia_logger = logging.getLogger("mia")  # the mia tree does not propagate to the root logger
    mia_logger.addHandler(caplog.handler)
    try:
        reply = shop_app.test_client().get("/shop/v1/bad")
    finally:
        mia_logger.removeHandler(caplog.handler)
    assert reply.status_code == 500
    error = reply.json["errors"][0]
    assert error["code"] == "ResponseSchemeMismatch"
    assert "response.name" in error["msg"] and "responseSchemes.success" in error["msg"]
    assert [r.levelname for r in caplog.records if "responseSchemes.success" in r.getMessage()] == ["ERROR"]


def test_mismatching_error_response_fails_loudly(shop_app):
    reply = shop_app.test_client().get("/shop/v1/fail")
    assert reply.status_code == 500
    assert reply.json["errors"][0]["code"] == "ResponseSchemeMismatch"
    assert "responseSchemes.error" in reply.json["errors"][0]["msg"]


def test_response_checks_are_off_without_the_flag(shop):
    shop.env({"checkResponseSchemes": False})
    app = shop.app()
    reply = app.test_client().get("/shop/v1/bad")
    assert reply.status_code == 200 and reply.json["response"] == {"name": 5}
    app.config["mia.databases"].close_all()


def test_demo_todos_answer_what_their_response_schemes_promise(client):
    reply = client.get("/demo/v1/todo")  # test env checks responseSchemes: a drift would be a 500 here
    assert reply.status_code == 200 and isinstance(reply.json["response"], list)
