"""One request's path: body parser limits, CORS, overflow, translations, debug gating."""
from __future__ import annotations

import json

import pytest

BODY = '''
from core import Controller

class Body(Controller):
    identity = "body"
    preconditions = {"all": {"parameters": {
        "body": {"name": {"type": str, "required": True}},
        "query": {"page": {"type": int}, "flag": {"type": bool}, "tags": {"type": list}}},
        "responses": {200: "Ok"}}}
    def all(self, req, res):
        res.response = {"validated": req.mia.validated_parameters, "raw": req.mia.raw_body_text}

class Any(Controller):
    identity = "anybody"
    def all(self, req, res):
        body = req.mia.body
        res.response = {"type": type(body).__name__,
                        "body": body.decode() if isinstance(body, bytes) else body}

class Other(Controller):
    identity = "other"
    preconditions = {"all": {"parameters": {"query": {"extra": {"type": str}}}, "responses": {200: "Ok"}}}
    def all(self, req, res):
        res.response = req.mia.validated_parameters
'''


def routes(**methods):
    return {"group": "g", "prefix": "/r", "routes": {f"./{name}": {"post": spec} for name, spec in methods.items()}}


@pytest.fixture
def client(tree):
    tree.write("projects/base/controllers/body.py", BODY)
    spec = routes(
        json={"controller": [{"name": "body"}, {"name": "out"}]},
        small={"controller": [{"name": "anybody"}, {"name": "out"}], "bodyParser": {"limit": "1kb"}},
        text={"controller": [{"name": "anybody"}, {"name": "out"}], "bodyparser": {"type": "text"}},
        raw={"controller": [{"name": "anybody"}, {"name": "out"}], "bodyParser": {"type": "raw", "limit": 10}},
        form={"controller": [{"name": "anybody"}, {"name": "out"}], "bodyParser": {"type": "urlencoded"}},
        none={"controller": [{"name": "anybody"}, {"name": "out"}], "bodyParser": {"type": "none"}},
        block={"controller": [{"name": "body"}, {"name": "other"}, {"name": "out"}], "parameterOverflow": "block"},
        log={"controller": [{"name": "body"}, {"name": "out"}], "parameterOverflow": "log"},
    )
    spec["corsHeaders"] = {"Access-Control-Allow-Origin": ["https://app.example", "https://o"],
                           "Access-Control-Allow-Headers": "Content-Type", "Access-Control-Allow-Credentials": True}
    tree.write("projects/base/routes/r.py", f"routes = {spec!r}")
    tree.write("projects/base/routes/nocors.py", "routes = " + repr({"group": "g", "prefix": "/n", "routes": {
        "./x": {"get": {"controller": [{"name": "anybody"}, {"name": "out"}]}}}}))
    return tree.app().test_client()


def test_json_body_is_parsed_and_raw_text_kept(client):
    response = client.post("/r/json?page=2&flag=TRUE&tags=a&tags=b", data='{"name": "Ada"}',
                           content_type="application/json")
    assert response.status_code == 200
    assert response.json["response"] == {
        "validated": {"body": {"name": "Ada"}, "query": {"page": 2, "flag": True, "tags": ["a", "b"]}},
        "raw": '{"name": "Ada"}'}


@pytest.mark.parametrize("payload", ['{"name": ', '"just a string"', "42", "\xff\xfe"])
def test_malformed_or_non_strict_json_is_400(client, payload):
    response = client.post("/r/json", data=payload.encode("latin-1"), content_type="application/json")
    assert response.status_code == 400
    [entry] = response.json["errors"]
    assert (entry["code"], entry["msg"]) == ("BadRequest", "Something is not ok with your request")
    assert set(entry) <= {"code", "msg", "reason", "position", "line", "column"}  # the parser's reason, if any


def test_body_over_the_limit_is_413(client):
    big = json.dumps({"name": "x" * 2000})
    response = client.post("/r/small", data=big, content_type="application/json")
    assert response.status_code == 413
    assert response.json == {"status": 413, "errors": [
        {"code": "PayloadTooLarge", "msg": "The request body is too large"}]}
    assert client.post("/r/small", data='{"a": 1}', content_type="application/json").status_code == 200


def test_default_json_limit_is_512kb(client):
    ok = json.dumps({"name": "x" * (512 * 1024 - 20)})
    assert client.post("/r/json", data=ok, content_type="application/json").status_code == 200
    too_big = json.dumps({"name": "x" * (512 * 1024)})
    assert client.post("/r/json", data=too_big, content_type="application/json").status_code == 413


def test_other_parsers(client):
    assert client.post("/r/text", data="hello", content_type="text/plain").json["response"] == {
        "type": "str", "body": "hello"}
    assert client.post("/r/raw", data=b"0123456789", content_type="application/x").json["response"] == {
        "type": "bytes", "body": "0123456789"}
    assert client.post("/r/raw", data=b"0123456789X").status_code == 413
    assert client.post("/r/form", data="a=1&a=2&b=x", content_type="application/x-www-form-urlencoded"
                       ).json["response"] == {"type": "dict", "body": {"a": ["1", "2"], "b": "x"}}
    assert client.post("/r/none", data='{"a": 1}', content_type="application/json").json["response"] == {
        "type": "NoneType", "body": None}


def test_json_parser_ignores_other_content_types(client):
    response = client.post("/r/json", data="name=x", content_type="text/plain")
    assert response.status_code == 400
    assert response.json["errors"][0]["code"] == "MissingRequiredParameter"


def test_required_body_param_enforced_for_a_list_body(client):
    response = client.post("/r/json", data="[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert response.json["errors"][0]["id"] == "name"


def test_query_coercion_errors_are_reported_together(client):
    response = client.post("/r/json?page=abc&flag=yes", data="{}", content_type="application/json")
    assert response.status_code == 400
    assert response.json["errors"] == [
        {"code": "UnexpectedType", "id": "page", "msg": "page is unexpected type. string given integer expected",
         "in": "query"},
        {"code": "UnexpectedType", "id": "flag", "msg": "flag is unexpected type. string given boolean expected",
         "in": "query"},
        {"code": "MissingRequiredParameter", "id": "name",
         "msg": "name is required but invalid value or no value given", "in": "body"},
    ]


def test_parameter_overflow_block_reports_query_then_body(client):
    response = client.post("/r/block?page=1&extra=x&b=1&c=2", data='{"name": "a", "z": 1}',
                           content_type="application/json")
    assert response.status_code == 400
    assert response.json == {"status": 400, "errors": [
        {"code": "AdditionalParamsNotAllowed", "msg": "More parameters in query given than allowed: b, c",
         "in": "query"},
        {"code": "AdditionalParamsNotAllowed", "msg": "More parameters in body given than allowed: z", "in": "body"}]}
    # parameters declared by the second controller count as declared (merged per key, not per section)
    assert client.post("/r/block?page=1&extra=x", data='{"name": "a"}',
                       content_type="application/json").status_code == 200


def test_parameter_overflow_log_and_ignore_let_the_request_through(client, caplog):
    response = client.post("/r/log?zzz=1", data='{"name": "a"}', content_type="application/json")
    assert response.status_code == 200
    assert response.json["response"]["validated"] == {"body": {"name": "a"}, "query": {}}
    assert client.post("/r/json?zzz=1", data='{"name": "a"}', content_type="application/json").status_code == 200


def test_validated_parameters_hold_only_the_controllers_own(client):
    response = client.post("/r/block?page=3&extra=e", data='{"name": "a"}', content_type="application/json")
    assert response.json["response"] == {"query": {"extra": "e"}}


def test_cors_preflight_and_headers(client):
    preflight = client.options("/r/json", headers={"Origin": "https://app.example"})
    assert preflight.status_code == 204 and preflight.data == b""
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, POST, PUT, DELETE, OPTIONS"
    assert preflight.headers["Access-Control-Allow-Credentials"] == "true"
    post = client.post("/r/json", data='{"name": "a"}', content_type="application/json",
                       headers={"Origin": "https://app.example"})
    assert post.headers["Access-Control-Allow-Methods"] == "POST"
    assert post.headers["Access-Control-Allow-Origin"] == "https://app.example"
    failed = client.post("/r/json", data="{", content_type="application/json", headers={"Origin": "https://o"})
    assert failed.status_code == 400 and failed.headers["Access-Control-Allow-Origin"] == "https://o"
    no_cors = client.options("/n/x")
    assert no_cors.status_code == 405 and "Access-Control-Allow-Origin" not in no_cors.headers


def test_cors_answers_follow_each_requests_origin(client):
    """The CORS headers of a route are kept per Origin: alternating Origins each get their own answer."""
    for origin in ("https://app.example", "https://o", "https://evil.example", None, "https://app.example"):
        reply = client.post("/r/json", data='{"name": "a"}', content_type="application/json",
                            headers={"Origin": origin} if origin else {})
        allowed = origin in ("https://app.example", "https://o")
        assert reply.headers.get("Access-Control-Allow-Origin") == (origin if allowed else None)
        assert (reply.headers.get("Access-Control-Allow-Credentials") == "true") == allowed
        assert reply.headers["Access-Control-Allow-Methods"] == "POST"


def test_error_messages_are_translated_by_culture_header(client):
    german = client.get("/nowhere", headers={"culture.code": "de-DE"})
    assert german.json["errors"] == [{"code": "NotFound",
                                      "msg": "Nach was auch immer du suchst, hier ist es leider nicht"}]
    english = client.get("/nowhere", headers={"culture.code": "en-us"})
    assert english.json["errors"][0]["msg"] == "Whatever you are looking for it is not here"
    unknown = client.get("/nowhere", headers={"culture.code": "fr-fr"})
    assert unknown.json["errors"][0]["msg"] == "Whatever you are looking for it is not here"


def test_debug_block_needs_environment_debug_and_header(tree, client):
    plain = client.get("/nowhere")
    assert "debug" not in plain.json
    with_header = client.get("/nowhere", headers={"debug": "true", "key": "0123456789abcdef"})
    assert with_header.json["debug"]["environment"] == {"mode": "test"}
    assert with_header.json["debug"]["request"]["headers"]["Key"] == "***"  # keys never leak into debug output
    assert b"0123456789abcdef" not in with_header.data
    assert with_header.json["debug"]["request"]["method"] == "GET"
    tree.env({"debug": False})
    quiet = tree.app().test_client().get("/nowhere", headers={"debug": "true"})
    assert "debug" not in quiet.json
