"""OpenAPI 3.1.0 by default, 3.0.3 on request (environment key or the docs CLI); both validated."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

from conftest import ROOT
from core.app.docs import openapi
from core.errors import StartupError

CONTROLLER = '''
from core import Controller

class Things(Controller):
    identity = "things"
    preconditions = {"all": {
        "parameters": {
            "query": {"limit": {"type": int, "min": 1, "max": 50, "nullable": True},
                      "tag": {"type": str, "allow": ["a", "b"]}},
            "body": {"name": {"type": str, "required": True, "maxLength": 20},
                     "note": {"type": str, "nullable": True},
                     "size": {"type": "Number", "min": 0}},
        },
        "responses": {200: "Success", 409: "Conflict"},
    }}

    def all(self, req, res):
        res.send({"ok": True})
'''
ROUTES = {"group": "things", "version": "1.0", "prefix": "/api", "routes": {
    "./things": {"post": {"identity": "addThing", "controller": [{"name": "things"}],
                          "responseSchemes": {"success": {"status": {"type": "Number"},
                                                          "response": {"ok": {"type": "Boolean", "nullable": True}}}}},
                 "list": {"identity": "things", "controller": [{"name": "things"}], "deprecated": True}}}}


@pytest.fixture
def things_tree(tree):
    tree.write("projects/base/controllers/things.py", CONTROLLER)
    tree.write("projects/base/routes/things.py", f"routes = {ROUTES!r}")
    return tree


def body_schema(document):
    return document["paths"]["/api/things"]["post"]["requestBody"]["content"]["application/json"]["schema"]


def test_default_is_openapi_31_and_valid(things_tree):
    document = things_tree.app().test_client().get("/api-docs").json
    assert document["openapi"] == "3.1.0"
    OpenAPIV31SpecValidator(document).validate()
    props = body_schema(document)["properties"]
    assert props["note"]["type"] == ["string", "null"] and "nullable" not in props["note"]
    success = document["paths"]["/api/things"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert success["properties"]["response"]["properties"]["ok"]["type"] == ["boolean", "null"]
    limit = next(p for p in document["paths"]["/api/things"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["type"] == ["integer", "null"] and limit["schema"]["minimum"] == 1
    assert "nullable" not in json.dumps(document)


def test_environment_key_asks_for_303(things_tree):
    things_tree.env({"openapiVersion": "3.0.3"})
    document = things_tree.app().test_client().get("/api-docs").json
    assert document["openapi"] == "3.0.3"
    OpenAPIV30SpecValidator(document).validate()
    props = body_schema(document)["properties"]
    assert props["note"] == {"type": "string", "nullable": True}


def test_an_unknown_version_stops_start_up(things_tree):
    things_tree.env({"openapiVersion": "2.0"})
    with pytest.raises(StartupError, match="openapiVersion"):
        things_tree.app()


def test_31_upgrade_turns_30_spellings_from_swagger_options_into_json_schema(things_tree):
    things_tree.env({"swagger": {"options": {"components": {"schemas": {"Extra": {
        "type": "object", "properties": {
            "n": {"type": "integer", "minimum": 0, "exclusiveMinimum": True, "nullable": True},
            "m": {"type": "number", "maximum": 9, "exclusiveMaximum": False},
            "e": {"type": "string", "enum": ["nullable"]}}}}}}}})
    document = things_tree.app().test_client().get("/api-docs").json
    OpenAPIV31SpecValidator(document).validate()
    extra = document["components"]["schemas"]["Extra"]["properties"]
    assert extra["n"] == {"type": ["integer", "null"], "exclusiveMinimum": 0}
    assert extra["m"] == {"type": "number", "maximum": 9}
    assert extra["e"] == {"type": "string", "enum": ["nullable"]}


def test_the_repositorys_document_validates_in_both_versions(app):
    from core.shared import Shared

    routes = app.config["mia.routes"]
    for version, validator in (("3.1.0", OpenAPIV31SpecValidator), ("3.0.3", OpenAPIV30SpecValidator)):
        documents = openapi.build_documents(routes, [], {**Shared.environment, "openapiVersion": version})
        assert documents["*"]["openapi"] == version
        validator(documents["*"]).validate()


def test_docs_cli_exports_303_on_request(tmp_path):
    out = tmp_path / "api.json"
    proc = subprocess.run([sys.executable, "server.py", "test", "docs", "--openapi", "3.0.3", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(out.read_text())
    assert document["openapi"] == "3.0.3"
    OpenAPIV30SpecValidator(document).validate()
    default = subprocess.run([sys.executable, "server.py", "test", "docs"], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
    assert default.returncode == 0, default.stderr
    latest = json.loads(default.stdout)
    assert latest["openapi"] == "3.1.0"
    OpenAPIV31SpecValidator(latest).validate()
