"""Edge cases of the core request path (odd paths, query strings, bodies, errors), each shown by what a client sees."""
from __future__ import annotations

import gzip
import io
import json
import logging
import random
import sys
import threading
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from memcached_fixtures import memcached  # noqa: F401 - fixture

from core.errors import StartupError
from core.shared import Shared

CONTROLLERS = '''
from core import Controller, MiaError, Shared

class Echo(Controller):
    identity = "echo"
    preconditions = {"all": {"parameters": {"query": {"tags": {"type": list}, "a": {"type": str}},
                                            "path": {"id": {"type": str}}},
                             "responses": {200: "Ok"}}}
    def all(self, req, res):
        res.response = {"validated": req.mia.validated_parameters, "params": req.mia.params,
                        "query": req.mia.query}

class Body(Controller):
    identity = "bodyc"
    def all(self, req, res):
        body = req.mia.body
        res.response = {"bytes": len(body)} if isinstance(body, bytes) else {"body": body}

class Boom(Controller):
    identity = "boom"
    def all(self, req, res):
        raise KeyError("not a MiaError")

class DbDown(Controller):
    identity = "dbdown"
    def all(self, req, res):
        from pymongo.errors import ServerSelectionTimeoutError
        raise ServerSelectionTimeoutError("no servers")

class Twice(Controller):
    identity = "twice"
    def all(self, req, res):
        res.send({"first": True})
        res.send({"second": True})

class Envelope(Controller):
    identity = "envelope"
    def all(self, err, req, res):
        from core.http.output import error_response
        response = error_response(err, req, res.headers)
        res.send(response, status=response.status_code)

class Cookies(Controller):
    identity = "cookies"
    def all(self, req, res):
        res.headers.add("Set-Cookie", "a=1; Path=/")
        res.headers.add("Set-Cookie", "b=2; Path=/")
        if req.args.get("fail"):
            raise MiaError(409, code="Conflict")
        res.send({"ok": True})

class Unencodable(Controller):
    identity = "unencodable"
    def all(self, req, res):
        res.send({"when": object()})

class StatusErrors(Controller):
    identity = "statuserrors"
    def all(self, err, req, res):
        res.send({"failed": err.status, "errors": err.errors, "mine": True}, status=err.status)
'''


def route_file(prefix: str, routes: dict) -> str:
    return "routes = " + repr({"group": "g", "prefix": prefix, "routes": routes})


@pytest.fixture
def client(tree):
    tree.write("projects/base/controllers/c.py", CONTROLLERS)
    tree.write("projects/base/routes/r.py", route_file("/r", {
        "./e/:id": {"get": {"controller": [{"name": "echo"}, {"name": "out"}]}},
        "./opt/:id?": {"get": {"controller": [{"name": "echo"}, {"name": "out"}]}},
        "./body": {"post": {"controller": [{"name": "bodyc"}, {"name": "out"}]}},
        "./raw": {"post": {"controller": [{"name": "bodyc"}, {"name": "out"}],
                           "bodyParser": {"type": "raw", "limit": "1kb"}}},
        "./small": {"post": {"controller": [{"name": "bodyc"}, {"name": "out"}], "bodyParser": {"limit": "1kb"}}},
        "./boom": {"get": {"controller": [{"name": "boom"}], "errorController": [{"name": "statuserrors"}]}},
        "./dbdown": {"get": {"controller": [{"name": "dbdown"}], "errorController": [{"name": "statuserrors"}]}},
        "./enveloped": {"get": {"controller": [{"name": "boom"}], "errorController": [{"name": "envelope"}]}},
        "./twice": {"get": {"controller": [{"name": "twice"}]}},
        "./cookies": {"get": {"controller": [{"name": "cookies"}]}},
        "./unencodable": {"get": {"controller": [{"name": "unencodable"}],
                                  "corsHeaders": {"Access-Control-Allow-Origin": "*"}}},
    }))
    return tree.app().test_client()


# -------------------------------------------------------------------------------------------- router
def test_encoded_slash_stays_inside_its_path_parameter(client):
    """Express matches ``:id`` on the raw path and decodes it: ``a%2Fb`` is the id ``a/b``, not a 404."""
    response = client.get("/r/e/a%2Fb")
    assert response.status_code == 200
    assert response.json["response"]["params"] == {"id": "a/b"}
    assert response.json["response"]["validated"]["path"] == {"id": "a/b"}
    assert client.get("/r/e%2F1").status_code == 404  # an encoded slash never splits a static segment


def test_path_parameter_that_is_not_utf8_is_a_400(client):
    response = client.get("/r/e/%ff")
    assert response.status_code == 400
    assert response.json == {"status": 400, "errors": [
        {"code": "BadRequest", "msg": "Something is not ok with your request"}]}
    assert client.get("/r/e/%C3%A4").json["response"]["params"] == {"id": "\u00e4"}


def test_optional_path_parameter_may_be_left_out(client):
    assert client.get("/r/opt/5").json["response"]["params"] == {"id": "5"}
    response = client.get("/r/opt")
    assert response.status_code == 200
    assert response.json["response"]["params"] == {}


@pytest.mark.parametrize("path", ["./x/:id/y/:id", "./*/*", "./x/:wildcard/*"])
def test_repeated_path_parameter_names_stop_start_up_naming_the_file(tree, path):
    tree.write("projects/base/routes/bad.py", route_file("/b", {path: {"get": {"controller": [{"name": "out"}]}}}))
    with pytest.raises(StartupError) as info:
        tree.app()
    assert "bad.py" in str(info.value) and "used twice" in str(info.value)


def test_unsupported_path_segment_names_the_route_file(tree):
    tree.write("projects/base/routes/bad.py", route_file("/b", {"./x/a:b": {"get": {"controller": [{"name": "out"}]}}}))
    with pytest.raises(StartupError) as info:
        tree.app()
    assert "bad.py" in str(info.value)


# -------------------------------------------------------------------------------------------- query
def test_indexed_query_arrays_are_lists_like_qs(client):
    """``qs.stringify`` (axios and friends) sends ``tags[0]=a&tags[1]=b``; express's qs reads a list."""
    response = client.get("/r/e/1?tags[0]=a&tags[1]=b")
    assert response.status_code == 200
    assert response.json["response"]["validated"]["query"] == {"tags": ["a", "b"]}
    # qs compacts sparse indexes and keeps indexes over 20 (arrayLimit) and mixed keys as objects
    assert client.get("/r/e/1?x[3]=c&x[1]=b").json["response"]["query"] == {"x": ["b", "c"]}
    assert client.get("/r/e/1?x[21]=c").json["response"]["query"] == {"x": {"21": "c"}}
    assert client.get("/r/e/1?x[0]=a&x[b]=c").json["response"]["query"] == {"x": {"0": "a", "b": "c"}}
    assert client.get("/r/e/1?x[0][n]=a").json["response"]["query"] == {"x": [{"n": "a"}]}


# -------------------------------------------------------------------------------------------- bodies
@pytest.mark.parametrize("encoding, compress", [
    ("gzip", gzip.compress), ("x-gzip", gzip.compress), ("deflate", zlib.compress),
    ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some clients send it
])
def test_compressed_request_bodies_are_accepted(client, encoding, compress):
    response = client.post("/r/body", data=compress(b'{"name": "Ada"}'), content_type="application/json",
                           headers={"Content-Encoding": encoding})
    assert response.status_code == 200
    assert response.json["response"] == {"body": {"name": "Ada"}}


def test_compressed_body_limit_counts_the_inflated_bytes(client):
    bomb = gzip.compress(json.dumps({"name": "x" * 5000}).encode())
    assert len(bomb) < 1024
    response = client.post("/r/small", data=bomb, content_type="application/json", headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413
    response = client.post("/r/raw", data=gzip.compress(b"x" * 5000), headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413


def test_incompressible_body_under_the_limit_is_accepted_compressed(client):
    data = random.Random(7).randbytes(1020)  # gzip makes it longer than the 1kb limit; inflated it fits
    packed = gzip.compress(data)
    assert len(packed) > 1024 >= len(data)
    response = client.post("/r/raw", data=packed, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.json["response"] == {"bytes": 1020}


def test_broken_or_unknown_content_encoding(client):
    broken = client.post("/r/body", data=b"not gzip", content_type="application/json",
                         headers={"Content-Encoding": "gzip"})
    assert broken.status_code == 400 and broken.json["errors"][0]["code"] == "BadRequest"
    unknown = client.post("/r/body", data=b"{}", content_type="application/json", headers={"Content-Encoding": "br"})
    assert unknown.status_code == 415
    assert unknown.json["errors"][0]["code"] == "UnsupportedMediaType"


def test_json_with_a_byte_order_mark_is_parsed(client):
    response = client.post("/r/body", data=b'\xef\xbb\xbf{"name": "Ada"}', content_type="application/json")
    assert response.status_code == 200
    assert response.json["response"] == {"body": {"name": "Ada"}}


@pytest.mark.parametrize("text", ['{"x": NaN}', '{"x": Infinity}', '{"x": -Infinity}', '{"x": 1e400}'])
def test_numbers_json_cannot_carry_are_a_400(client, text):
    """Python's json reads NaN/Infinity (not JSON); echoing them back produced invalid JSON for the client."""
    response = client.post("/r/body", data=text, content_type="application/json")
    assert response.status_code == 400
    assert response.json["errors"][0]["code"] == "BadRequest"


def test_json_nested_deeper_than_mongodb_allows_is_a_400_not_a_recursion_500(tree):
    tree.write("projects/base/controllers/c.py", CONTROLLERS)
    tree.write("projects/base/controllers/deep.py", '''
from core import Controller

class Deep(Controller):
    identity = "deep"
    preconditions = {"all": {"parameters": {"body": {"x": {"type": list}, "n": {"type": "Number"}}},
                             "responses": {200: "Ok"}}}
    def all(self, req, res):
        res.response = "ok"
''')
    tree.write("projects/base/routes/r.py", route_file("/r", {"./deep": {"post": {"controller": [{"name": "deep"},
                                                                                               {"name": "out"}]}}}))
    client = tree.app().test_client()
    for key, depth, status in (("x", 99, 200), ("n", 500, 400), ("x", 950, 400)):
        body = '{"' + key + '": ' + "[" * depth + "]" * depth + "}"  # n: the validator copied it recursively
        assert client.post("/r/deep", data=body, content_type="application/json").status_code == status, depth
    many = json.dumps({"x": [[i] for i in range(5000)]})  # many brackets, shallow: fine
    assert client.post("/r/deep", data=many, content_type="application/json").status_code == 200


def test_unknown_charset_is_415(client):
    response = client.post("/r/body", data=b'{"name": "Ada"}', content_type="application/json; charset=klingon")
    assert response.status_code == 415
    assert response.json == {"status": 415, "errors": [
        {"code": "UnsupportedMediaType", "msg": "This content type is not supported"}]}


def test_body_shorter_than_its_content_length_is_a_400(client):
    response = client.post("/r/raw", input_stream=io.BytesIO(b"half"), environ_overrides={"CONTENT_LENGTH": "100"})
    assert response.status_code == 400
    assert response.json["errors"][0]["code"] == "BadRequest"


# -------------------------------------------------------------------------------------------- errors
def test_error_controllers_receive_a_mia_error_for_any_exception(client):
    """README: ``err`` is a MiaError with .status and .errors; a KeyError used to crash such a controller."""
    response = client.get("/r/boom")
    assert response.status_code == 500
    assert response.json == {"failed": 500, "mine": True, "errors": []}  # as for raise MiaError(500)


def test_database_outage_reaches_error_controllers_as_503(client):
    response = client.get("/r/dbdown")
    assert response.status_code == 503
    assert response.json["failed"] == 503 and response.json["errors"][0]["code"] == "DatabaseUnavailable"


@pytest.fixture
def mia_log(client):
    """Records of the ``mia`` logger (it does not propagate, and the test environment logs nothing)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("mia")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_debug_output_and_log_name_the_original_exception_behind_error_controllers(client, mia_log):
    response = client.get("/r/enveloped", headers={"debug": "true"})
    assert response.status_code == 500
    assert response.json["debug"]["errors"]["type"] == "KeyError"
    assert any(record.exc_info and record.exc_info[0] is KeyError for record in mia_log)


def test_second_send_keeps_the_first_answer_and_is_logged(client, mia_log):
    response = client.get("/r/twice")
    assert response.status_code == 200 and response.json == {"first": True}
    assert any("already chosen" in record.getMessage() for record in mia_log)


@pytest.mark.parametrize("query", ["", "?fail=1"])
def test_repeated_response_headers_all_reach_the_client(client, query):
    """Two Set-Cookie headers on ``res.headers``: only the last one was sent."""
    response = client.get("/r/cookies" + query)
    assert response.headers.getlist("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]


def test_a_body_json_cannot_encode_is_a_500_that_keeps_the_cors_headers(client):
    response = client.get("/r/unencodable", headers={"Origin": "https://app.example.test"})
    assert response.status_code == 500
    assert response.json["errors"][0]["code"] == "InternalServerError"
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.test"


# -------------------------------------------------------------------------------------------- loader
def test_project_modules_can_use_dataclasses_with_postponed_annotations(tree):
    tree.write("projects/base/libs/points.py", '''
        from __future__ import annotations
        from dataclasses import dataclass
        from core import Lib

        @dataclass
        class Point:
            x: int
            y: int = 0

        class Points(Lib):
            identity = "points"
            def origin(self) -> Point:
                return Point(0)
    ''')
    tree.app()
    assert Shared.libs("points").origin().y == 0


# -------------------------------------------------------------------------------------------- docs
def test_docs_redirect_ignores_forwarded_proto_from_untrusted_clients(tree):
    tree.env({"swagger": {"host": "docs.example.test"}})
    tree.write("projects/base/routes/r.py", route_file("/r", {"./x": {"get": {"controller": [{"name": "out"}]}}}))
    client = tree.app().test_client()
    response = client.get("/docs/", headers={"X-Forwarded-Proto": "javascript"})
    assert response.status_code == 301
    assert response.headers["Location"] == "http://docs.example.test/docs"
    tree.env({"swagger": {"host": "docs.example.test"}, "trustedProxies": ["127.0.0.1"]})
    proxied = tree.app().test_client().get("/docs/", headers={"X-Forwarded-Proto": "https"})
    assert proxied.headers["Location"] == "https://docs.example.test/docs"


# -------------------------------------------------------------------------------------------- embedded
@pytest.fixture
def busy_switching():
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def _hammer(work, threads=4):
    errors: list[str] = []

    def run(n):
        try:
            work(n)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(repr(exc))

    pool = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return errors


def test_embedded_store_survives_concurrent_deletes(tree, busy_switching):
    """The threaded server runs requests in parallel; two deletes of one document raised KeyError (500)."""
    tree.app()
    collection = Shared.db()["race"]

    def work(n):
        for i in range(400):
            collection.insert_one({"i": i, "n": n})
            collection.delete_many({"i": {"$lt": i - 2}})
            collection.update_many({"i": {"$gt": i - 4}}, {"$inc": {"k": 1}})

    assert _hammer(work) == []


def test_embedded_ttl_expiry_during_concurrent_reads(tree, busy_switching):
    tree.app()
    collection = Shared.db()["ttl"]
    collection.create_index("created", expireAfterSeconds=60)
    old = datetime.now(UTC) - timedelta(hours=1)

    def work(n):
        for i in range(150):
            collection.insert_many([{"created": old, "n": n, "i": i} for _ in range(3)])
            collection.count_documents({})
            list(collection.find({"n": n}))

    assert _hammer(work) == []


# -------------------------------------------------------------------------------------------- memcached
def test_memcached_ttls_over_30_days_still_cache(tree, memcached):  # noqa: F811
    """memcached reads an expiry over 30 days as a unix time (1970: already gone)."""
    from core.data.cache import Cached

    tree.env({"memcached": {"servers": memcached.address}})
    tree.app()
    calls = []
    for _ in range(2):
        Cached("long", 90 * 24 * 3600, lambda: calls.append(1) or "value")
    assert len(calls) == 1


def test_deeply_nested_query_keys_stop_at_qs_depth(client):
    """qs nests five levels and keeps the rest as one key; unbounded nesting hit the recursion limit (500)."""
    response = client.get("/r/e/1?deep" + "[b]" * 1500 + "=x")
    assert response.status_code == 200
    query = response.json["response"]["query"]
    assert query["deep"]["b"]["b"]["b"]["b"]["b"] == {"[" + "][".join(["b"] * 1495) + "]": "x"}
    assert client.get("/r/e/1?deep[b][c][d][e][f][g]=x").json["response"]["query"] == {
        "deep": {"b": {"c": {"d": {"e": {"f": {"[g]": "x"}}}}}}}


def test_vhosts_match_unbracketed_ipv6_names_and_a_trailing_root_dot(tree):
    tree.env({"hosts": [{"id": "v6", "host": ["::2"]}, {"id": "shop", "host": "shop.example.test"}]})
    spec = {"group": "g", "prefix": "/v", "hostId": ["v6", "shop"],
            "routes": {"./x": {"get": {"controller": [{"name": "out"}]}}}}
    tree.write("projects/base/routes/v6.py", f"routes = {spec!r}")
    client = tree.app().test_client()
    assert client.get("/v/x", headers={"Host": "[::2]:8080"}).status_code == 200
    assert client.get("/v/x", headers={"Host": "shop.example.test.:443"}).status_code == 200
    assert client.get("/v/x", headers={"Host": "other.example.test"}).status_code == 404


@pytest.mark.parametrize("url", ["/api-docs", "/docs", "/docs/", "/base/assets/", "/base/assets/missing.txt"])
def test_options_on_docs_and_assets_is_the_json_404_not_a_list_of_every_verb(tree, url):
    """Flask's automatic OPTIONS answered 200 with ``Allow`` listing the catch-all's verbs (PUT, DELETE, ...)."""
    tree.write("projects/base/public/index.html", "<p>hi</p>")
    tree.write("projects/base/routes/r.py", route_file("/r", {"./x": {"get": {"controller": [{"name": "out"}]}}}))
    client = tree.app().test_client()
    response = client.options(url)
    assert response.status_code == 404
    assert response.json["errors"][0]["code"] == "NotFound" and "Allow" not in response.headers
    assert client.get(url).status_code in (200, 301, 404)
    assert client.head(url).status_code == client.get(url).status_code


@pytest.mark.parametrize("declaration", ['data = {"x": {"type": str, "bogus": 1}}',
                                         'data = {"x": {"type": str}}\n    compound_indexes = [{"fields": "x"}]'])
def test_broken_model_declarations_name_the_model_file(tree, declaration):
    tree.write("projects/base/models/broken.py", f'''
from core import BaseModel

class Broken(BaseModel):
    identity = "broken"
    collection_name = "brokens"
    {declaration}
''')
    with pytest.raises(StartupError) as info:
        tree.app()
    assert "models/broken.py" in str(info.value)


def test_query_parameters_are_split_as_werkzeug_splits_them():
    """``req.mia.query`` is parsed from the raw QUERY_STRING: the same values as qs-parsing Flask's
    ``request.args`` for repeated keys, brackets, blanks, escapes (bad ones kept), ``+`` and ``;``."""
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from core.http.querystring import parse_query, parse_query_string

    for query in ("flavour=Vanilla", "a=1&a=2&b=", "a[]=1&a[]=2", "a[b][c]=1&a[b][d]=2", "x[0]=a&x[2]=b",
                  "q=%E2%82%AC", "q=%ZZ&r=%FF", "k", "a=1;b=2", "plus=a+b", "", "&&=&a", "x[0]=a&x=b"):
        environ = EnvironBuilder(query_string=query).get_environ()
        args = Request(environ).args
        assert parse_query_string(environ["QUERY_STRING"]) == parse_query({k: args.getlist(k) for k in args}), query
    assert parse_query_string("q=%E2%82%AC&x[0]=a&x[1]=b") == {"q": "€", "x": ["a", "b"]}
