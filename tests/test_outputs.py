"""Output controllers: JSON envelope with filter, deprecation and debug; XML output and errors; Cache-Control."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GENERIC_FILES = ["controllers/output/default_response.py", "controllers/output/xml_response.py",
                 "controllers/output/caching_cache_control.py", "config/translations.py"]

DATA = '''
from core import Controller, MiaError
from core.data.cache import Cached

ITEMS = [{"_id": 1, "name": "a", "status": "x", "nested": {"name": "n", "other": 1}, "tags": [{"name": "t"}, 3]},
         {"_id": 2, "status": "y"}]

class Data(Controller):
    identity = "data"
    def items(self, req, res):
        res.response = ITEMS
    def user(self, req, res):
        res.response = {"user": {"name": "<b>bold</b> & </name><admin>true</admin>", "tags": ["a", "b"],
                                 "1st key": "v", "a><script>x": "k", "n": 5, "ok": True, "none": None,
                                 "ctl": "bell\\x07end"}}
    def pair(self, req, res):
        res.response = {"a": 1, "b": "two"}
    def created(self, req, res):
        res.status_code = 201
        res.response = {"id": "x"}
    def nothing(self, req, res):
        pass
    def deny(self, req, res):
        raise MiaError(401)
    def conflict(self, req, res):
        raise MiaError(409, code="Conflict", msg="<taken> & gone")
    def cached(self, req, res):
        res.cached = Cached("flavours", 120, lambda: ["vanilla"])
        res.response = res.cached["value"]
'''


def step(name, function=None):
    return {"name": name, **({"function": function} if function else {})}


def get(function, *tail, deprecated=False, errors=None):
    method = {"controller": [step("data", function), *tail]}
    if deprecated:
        method["deprecated"] = True
    if errors:
        method["errorController"] = errors
    return {"get": method}


JSON_OUT = step("generic-defaultResponse")
XML_OUT = step("generic-defaultXMLResponse")
XML_ERR = [step("generic-defaultXMLErrorResponse")]
CACHE = step("generic-cachingCacheControl")


@pytest.fixture
def client(tree):
    for relative in GENERIC_FILES:
        tree.write(f"projects/generic/{relative}", (ROOT / "projects/generic" / relative).read_text())
    tree.write("projects/base/controllers/data.py", DATA)
    routes = {"group": "g", "prefix": "/o", "routes": {
        "./items": get("items", JSON_OUT),
        "./json-alias": get("items", step("generic-defaultJSONResponse")),
        "./old": get("pair", JSON_OUT, deprecated=True),
        "./xml/user": get("user", XML_OUT),
        "./xml/pair": get("pair", XML_OUT),
        "./xml/items": get("items", XML_OUT),
        "./xml/created": get("created", XML_OUT),
        "./xml/nothing": get("nothing", XML_OUT, errors=XML_ERR),
        "./xml/deny": get("deny", XML_OUT, errors=XML_ERR),
        "./xml/conflict": get("conflict", XML_OUT, errors=XML_ERR),
        "./json/deny": get("deny", JSON_OUT, errors=[step("generic-defaultJSONErrorResponse")]),
        "./cached": get("cached", CACHE, JSON_OUT),
        "./uncached": get("pair", CACHE, JSON_OUT),
        "./cached-error": get("deny", JSON_OUT, errors=[CACHE]),
    }}
    tree.write("projects/base/routes/o.py", f"routes = {routes!r}")
    return tree.app().test_client()


def test_default_response_envelope(client):
    response = client.get("/o/items")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert list(response.json) == ["status", "response"]
    assert response.json["response"][1] == {"_id": 2, "status": "y"}
    assert client.get("/o/json-alias").json == response.json


def test_filter_keeps_named_elements_recursively(client):
    assert client.get("/o/items?filter=name").json == {
        "status": 200, "response": [{"name": "a", "nested": {"name": "n"}, "tags": [{"name": "t"}]}]}
    assert client.get("/o/items?filter=_id, status").json["response"] == [
        {"_id": 1, "status": "x"}, {"_id": 2, "status": "y"}]
    assert client.get("/o/items?filter=nested").json["response"] == [{"nested": {"name": "n", "other": 1}}]
    assert client.get("/o/items?filter=unknown").json["response"] == []


def test_filter_is_a_declared_validated_parameter(client):
    too_long = client.get("/o/items?filter=" + "a" * 1001)
    assert too_long.status_code == 400
    assert too_long.json["errors"][0]["code"] == "MaxLengthExceeded"
    assert too_long.json["errors"][0]["in"] == "query"


def test_deprecated_route_carries_the_translated_notice(client):
    body = client.get("/o/old").json
    assert list(body) == ["status", "deprecated", "notice", "response"]
    assert body["deprecated"] is True
    assert body["notice"] == ("This service is deprecated and will expire. "
                              "Please do not use this service for new development")
    german = client.get("/o/old", headers={"culture.code": "de-DE"}).json
    assert german["notice"].startswith("Dieser Service is markiert als deprecated")  # mia.js's text, typo kept
    assert "deprecated" not in client.get("/o/items").json


def test_debug_block_only_when_environment_and_header_ask(client):
    assert "debug" not in client.get("/o/items").json
    body = client.get("/o/items", headers={"debug": "true"}).json
    assert list(body) == ["status", "debug", "response"]
    assert body["debug"]["request"]["method"] == "GET"


def parse(response):
    assert response.mimetype == "application/xml"
    text = response.get_data(as_text=True)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n')
    return ET.fromstring(response.get_data())


def test_xml_output_single_key_is_the_root_and_markup_in_data_stays_text(client):
    response = client.get("/o/xml/user")
    assert response.status_code == 200
    root = parse(response)
    assert root.tag == "user"
    assert root.findtext("name") == "<b>bold</b> & </name><admin>true</admin>"
    assert root.find("admin") is None and root.find("name/b") is None  # no injected elements
    assert [e.text for e in root.findall("tags")] == ["a", "b"]  # arrays repeat the element
    assert root.findtext("_1st_key") == "v"  # names made valid
    assert root.findtext("a__script_x") == "k"
    assert root.findtext("n") == "5" and root.findtext("ok") == "true"
    assert root.find("none") is not None and root.find("none").text is None
    assert root.findtext("ctl") == "bellend"  # characters XML 1.0 forbids are dropped
    assert "\n  <name>" in response.get_data(as_text=True)  # pretty-printed, two spaces


def test_xml_output_other_shapes_use_a_root_element(client):
    pair = parse(client.get("/o/xml/pair"))
    assert pair.tag == "root" and pair.findtext("a") == "1" and pair.findtext("b") == "two"
    items = parse(client.get("/o/xml/items"))
    assert items.tag == "root" and [i.findtext("_id") for i in items.findall("item")] == ["1", "2"]
    created = client.get("/o/xml/created")
    assert created.status_code == 201 and parse(created).tag == "id" and parse(created).text == "x"


def test_xml_error_output(client):
    denied = client.get("/o/xml/deny")
    assert denied.status_code == 401
    error = parse(denied)
    assert error.tag == "error" and error.findtext("status") == "401"
    assert error.findtext("errors/code") == "Unauthorized"
    assert error.findtext("errors/msg") == "You are not allowed to access this service"
    conflict = parse(client.get("/o/xml/conflict"))
    assert conflict.findtext("errors/msg") == "<taken> & gone"
    missing = client.get("/o/xml/nothing")  # no res.response: mia.js answers 500
    assert missing.status_code == 500 and parse(missing).findtext("errors/code") == "InternalServerError"


def test_json_error_controller(client):
    response = client.get("/o/json/deny")
    assert response.status_code == 401
    assert response.json == {"status": 401, "errors": [
        {"code": "Unauthorized", "msg": "You are not allowed to access this service"}]}


def test_caching_cache_control(client):
    first = client.get("/o/cached")
    assert first.headers["Cache-Control"] == "public, max-age=120"
    assert first.json["response"] == ["vanilla"]
    second = client.get("/o/cached")
    assert second.headers["Cache-Control"] in ("public, max-age=120", "public, max-age=119")
    assert client.get("/o/uncached").headers["Cache-Control"] == "public, max-age=0"
    error = client.get("/o/cached-error")  # as an error controller it passes the error on
    assert error.status_code == 401 and error.json["errors"][0]["code"] == "Unauthorized"
    assert error.headers["Cache-Control"] == "public, max-age=0"


def test_dates_in_json_bodies_keep_their_form():
    """Response bodies write datetimes as ISO 8601 with ``Z`` for UTC (naive ones are UTC), microseconds
    only when set, other offsets as given, dates as days; the ``json`` fallback (non-string keys) agrees."""
    import datetime as dt
    import zoneinfo

    from bson.tz_util import utc as bson_utc

    from core.data.jsonutil import dumps, dumps_bytes

    values = [dt.datetime(2026, 1, 2, 3, 4, 5), dt.datetime(2026, 1, 2, 3, 4, 5, 120, tzinfo=dt.UTC),
              dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=bson_utc),
              dt.datetime(2026, 7, 2, 3, 4, 5, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin")),
              dt.datetime(2026, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=-5, minutes=-30))), dt.date(2026, 1, 2)]
    expected = ["2026-01-02T03:04:05Z", "2026-01-02T03:04:05.000120Z", "2026-01-02T03:04:05Z",
                "2026-07-02T03:04:05+02:00", "2026-01-02T00:00:00-05:30", "2026-01-02"]
    assert json.loads(dumps_bytes({"v": values})) == {"v": expected}
    assert json.loads(dumps({"v": values})) == {"v": expected}
    assert json.loads(dumps_bytes({1: values[0]})) == {"1": expected[0]}  # orjson refuses int keys: json path
