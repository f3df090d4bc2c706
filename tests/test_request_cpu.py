"""Per-request work made cheaper (issue 26) answers exactly as the general code it stands in for."""
from __future__ import annotations

import pytest
from flask import Response
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder

from core.errors import ValidationError
from core.http.output import built, content_type
from core.validation.preconditions import compile_preconditions, header_values, validate_request


@pytest.mark.parametrize("status", [200, 201, 299, 400, 418, 599])
@pytest.mark.parametrize("mimetype", ["application/json", "text/plain", "application/octet-stream"])
def test_built_response_is_the_one_werkzeug_builds(status, mimetype):
    def headers() -> Headers:
        out = Headers()
        out.add("Set-Cookie", "a=1")
        out.add("Set-Cookie", "b=2")
        out["X-Thing"] = "x"
        return out

    for _ in range(2):  # the second time from the remembered status line
        data = b'{"status": 1}'
        general = Response(data, status=status, headers=headers(), content_type=content_type(mimetype))
        fast = built(data, status, headers(), content_type(mimetype))
        assert type(fast) is type(general)
        assert (fast.status, fast.status_code) == (general.status, general.status_code)
        assert fast.headers.to_wsgi_list() == general.headers.to_wsgi_list()
        assert fast.get_data() == general.get_data()
        environ = EnvironBuilder().get_environ()
        assert fast.get_wsgi_headers(environ).to_wsgi_list() == general.get_wsgi_headers(environ).to_wsgi_list()
        fast.set_data(b"changed")  # still a full werkzeug response
        assert fast.headers["Content-Length"] == "7"


class _Step:
    def __init__(self, index: int, parameters: dict) -> None:
        self.index, self.name, self.version, self.function = index, f"c{index}", "1.0", "all"
        self.precondition = {"parameters": parameters, "responses": {200: "Success"}}


class _Mia:
    query: dict = {}
    body: dict = {}
    params: dict = {}


class _Request:
    def __init__(self, environ: dict) -> None:
        self.environ, self.mia = environ, _Mia()


@pytest.mark.parametrize("headers", [
    {},
    {"key": "k", "x-client": "app", "culture.code": "de-DE", "Culture.Region": "at", "other.thing": "x"},
    {"X_Client": "underscore", "x-client": "dash"},
    {"Content-Type": "application/json", "Content-Length": "2", "culture": "fr"},
    {"Content-Type": ""},
    {"x-client": ""},
])
def test_header_preconditions_read_only_declared_headers_and_see_the_same(headers):
    """The header section looks up the declared names (and dotted names under them) instead of
    converting every header of the request: every schema sees what it saw with all headers."""
    declared = {"key": {"type": str}, "x-client": {"type": str, "minLength": 2},
                "culture": {"code": {"type": str}, "region": {"type": str}},
                "content-type": {"type": str}, "content-length": {"type": int}, "x_client": {"type": str},
                "Missing": {"type": str, "default": "d"}}
    pre = compile_preconditions([_Step(0, {"header": declared}), _Step(1, {"header": {"other": {}}})], "test")
    environ = EnvironBuilder(headers=headers).get_environ()
    if "Content-Type" in headers and not headers["Content-Type"]:
        environ["CONTENT_TYPE"] = ""
    environ["HTTP_CONTENT_TYPE"] = "not a header a client can send"
    every = [{section: schema._run(header_values(environ), False, False)
              for section, schema in entry.schemas.items()} for entry in pre.entries]
    errors = [{**error, "in": "header"} for step in every for _, found in step.values() for error in found]
    try:
        validated = validate_request(pre, _Request(environ))
    except ValidationError as exc:
        assert exc.errors == errors
    else:
        assert not errors
        assert validated == [{section: out for section, (out, _) in step.items()} for step in every]


@pytest.mark.parametrize("query", ["flavour=Vanilla", "a=1&a=2&b=", "k", "&&=&a", "=x", "a==b&a=", "a=1;b=2",
                                   "x[0]=a&x[2]=b&x=c", "a[b][c]=1&a[]=2", "&", "sort=name&limit=5&skip=0",
                                   "a=1&a=2&a=3&b=4&a=", "b]=1&b]=2", "k&k&k=1", "=&=1"])
def test_plain_query_strings_parse_as_parse_qsl_parses_them(query):
    """A query string with nothing to decode (no ``%``, no ``+``, ASCII) is split by hand: the same values."""
    from urllib.parse import parse_qsl

    from core.http.querystring import parse_query, parse_query_string

    grouped: dict[str, list[str]] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        grouped.setdefault(key, []).append(value)
    assert parse_query_string(query) == parse_query(grouped)


def test_request_ids_are_unique_across_threads_batches_and_forks():
    """Request ids come from batches of os.urandom: 32 hex characters, never repeated by threads
    racing over a batch end, and a forked worker does not repeat the ids its parent would give."""
    import os
    import re
    import threading

    from core.app.access import RequestIds

    ids = RequestIds()
    seen: list[list[str]] = [[] for _ in range(4)]

    def take(out: list[str]) -> None:
        for _ in range(3 * RequestIds.BATCH):
            out.append(ids.new())

    threads = [threading.Thread(target=take, args=(out,)) for out in seen]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for out in seen for i in out]
    assert len(set(every)) == len(every) == 12 * RequestIds.BATCH
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in every)

    ids.new()  # a batch begun before the fork
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, to the parent
        os.close(read)
        os.write(write, "".join(ids.new() for _ in range(8)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read()
    os.waitpid(pid, 0)
    parent = "".join(ids.new() for _ in range(8))
    assert len(child) == 8 * 32 and child != parent


def test_the_overload_watchdog_knows_a_forked_child_by_its_process_id():
    """The busy guard (and the access log) check their thread per request against the process id
    kept at fork time (core/process.py)."""
    import os

    from core.process import current_pid

    assert current_pid() == os.getpid()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.write(write, str(current_pid() == os.getpid()).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        answer = pipe.read()
    os.waitpid(pid, 0)
    assert answer == "True"


def test_db_errors_translates_database_failures_and_lets_everything_else_through():
    """``with db_errors():`` (a plain context manager now): a duplicate is the 409, an unreachable
    server the 503 with Retry-After, each caused by the original; anything else passes unchanged."""
    from pymongo.errors import AutoReconnect, DuplicateKeyError

    from core.data.databases import db_errors
    from core.errors import MiaError

    original = DuplicateKeyError("E11000 duplicate key error", 11000, {"keyValue": {"name": "x"}})
    with pytest.raises(MiaError) as caught:
        with db_errors():
            raise original
    assert caught.value.status == 409 and caught.value.__cause__ is original
    with pytest.raises(MiaError) as caught:
        with db_errors():
            raise AutoReconnect("gone")
    assert caught.value.status == 503 and caught.value.headers.get("Retry-After") == "1"
    mine = MiaError(418)
    for passing in (mine, ValueError("not a database error"), KeyboardInterrupt()):
        with pytest.raises(type(passing)) as caught:
            with db_errors():
                raise passing
        assert caught.value is passing
    with db_errors():
        value = 1
    assert value == 1


@pytest.mark.parametrize("header", ["application/json", "Application/JSON; Charset=UTF-16",
                                    "text/plain;charset=latin-1", 'application/vnd.api+json; charset="utf-8"; x=1',
                                    "", "garbage;;;", "a/b; charset="])
def test_body_content_type_is_read_as_werkzeug_reads_it(header):
    """The body parser remembers each Content-Type's mimetype and charset: werkzeug's answers."""
    from werkzeug.wrappers import Request

    from core.http.body import _content_type

    request = Request(EnvironBuilder(headers={"Content-Type": header} if header else {}).get_environ())
    assert _content_type(request.environ.get("CONTENT_TYPE", "")) == (
        (request.mimetype or "").lower(), request.mimetype_params.get("charset", "utf-8"))


def test_remembered_route_matches_answer_as_the_trie_does(client):
    """Paths with parameters are matched once per (path, method) and remembered: the same route and
    parameters every time, and a wrong method is still the 405 with its Allow header."""
    for _ in range(3):
        for code in ("ab12", "cd34"):
            answer = client.post(f"/icecream/v1/rules/{code}", json={"name": "Ada", "address": {"city": "London"}})
            assert answer.status_code == 200
            assert answer.json["response"]["path"] == {"code": code.upper()}
        wrong = client.get("/icecream/v1/rules/ab12")
        assert wrong.status_code == 405 and "POST" in wrong.headers["Allow"]
    assert client.post("/icecream/v1/rules/nope").status_code == 400  # the path precondition, not a 404


def test_a_request_leaves_no_reference_cycle_for_the_garbage_collector(app):
    """Everything a request builds is freed by reference counting when it ends: no cycle waits for a
    collection (a request's context pointed back at the request: ~14 objects per request, and the
    collector ran every ~40 requests). Counted with the collector's save-all mode, over WSGI calls."""
    import gc

    from werkzeug.test import run_wsgi_app

    def environs() -> list[dict]:
        base = "http://127.0.0.1:3000"
        return [EnvironBuilder(path="/icecream/v1/flavours", query_string="flavour=Vanilla", base_url=base,
                               headers={"Origin": "http://app.example"}).get_environ(),
                EnvironBuilder(path="/icecream/v1/flavours", query_string="flavour=Mint", base_url=base).get_environ(),
                EnvironBuilder(path="/icecream/v1/rules/ab12", method="POST", base_url=base,
                               json={"name": "Ada", "address": {"city": "London"}}).get_environ(),
                EnvironBuilder(path="/no/such/route", base_url=base).get_environ(),
                EnvironBuilder(path="/demo-auth/v1/todo", base_url=base, headers={"key": "0" * 64}).get_environ()]

    for environ in environs():  # warm: first-use caches, lazy imports
        run_wsgi_app(app.wsgi_app, environ, buffered=True)
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        statuses = []
        for _ in range(5):
            for environ in environs():
                _body, status, _headers = run_wsgi_app(app.wsgi_app, environ, buffered=True)
                statuses.append(int(status.split()[0]))
        del _body, _headers
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()
    assert sorted(set(statuses)) == [200, 400, 401, 404]
    import collections
    assert left == [], collections.Counter(left).most_common(12)


def test_defaults_of_an_absent_section_are_worked_out_once_and_never_shared():
    """A section with nothing declared in it (a list without paging parameters) gets the same defaults
    each time, copied from the first result; a default that is a function is called every time, a
    missing required field is reported every time, and modes (partial, query) stay apart."""
    from core.validation.validator import compile_rules

    calls = []

    def stamp() -> str:
        calls.append(1)
        return f"call-{len(calls)}"

    schema = compile_rules({"limit": {"type": int, "default": 25}, "tags": {"type": list, "default": ["a"]},
                            "range": {"from": {"type": int, "default": 1}}, "sort": {"type": str, "convert": "upper",
                                                                                   "default": "created"}})
    first = schema.validate({})
    assert first == {"limit": 25, "tags": ["a"], "range": {"from": 1}, "sort": "CREATED"}
    first["tags"].append("changed")
    first["range"]["from"] = 99
    for absent in (None, {}, {"undeclared": "x"}):
        again = schema.validate(absent)
        assert again == {"limit": 25, "tags": ["a"], "range": {"from": 1}, "sort": "CREATED"}
        assert again is not first and again["tags"] is not first["tags"]
    assert schema.validate({"limit": "7"})["limit"] == 7  # given values still validated
    assert schema.validate({}, partial=True) == {}  # no defaults in a partial update: its own result
    assert schema.validate({})["limit"] == 25

    stamped = compile_rules({"at": {"type": str, "default": stamp}, "n": {"type": int, "default": 1}})
    assert [stamped.validate({})["at"] for _ in range(3)] == ["call-1", "call-2", "call-3"]

    mode = {"default": "a"}
    picked = compile_rules({"kind": {"extend": lambda value: {"type": str, "default": mode["default"]}},
                            "n": {"type": int, "default": 1}})
    assert picked.validate({}) == {"kind": "a", "n": 1}
    mode["default"] = "b"  # ``extend`` picks the rules on every call: never a constant answer
    assert picked.validate({}) == {"kind": "b", "n": 1}

    required = compile_rules({"name": {"type": str, "required": True}, "n": {"type": int, "default": 2}})
    for _ in range(2):
        with pytest.raises(ValidationError) as failed:
            required.validate({})
        assert failed.value.errors[0]["code"] == "MissingRequiredParameter"


@pytest.mark.parametrize("builder", [
    {"path": "/demo/v1/todo", "query_string": "a=1&b=%C3%A9"},
    {"path": "/caf%C3%A9/x//y", "method": "post", "base_url": "https://api.example:8443/root/"},
    {"path": "", "base_url": "http://[::1]:3000"},
    {"path": "/a", "headers": {"X-Thing": "1", "Content-Type": "text/plain"}, "environ_base": {"REMOTE_ADDR": None}},
    {"path": "/b", "method": "POST", "data": b"12345", "headers": {"Content-Type": "application/json"}},
    {"path": "/c", "method": "POST", "headers": {"Transfer-Encoding": "chunked", "Content-Length": "5"}},
    {"path": "/d", "method": "POST", "environ_overrides": {"CONTENT_LENGTH": "-3"}},
    {"path": "/\u00e9t\u00e9", "query_string": "x=%C3%A9&y", "environ_base": {"REMOTE_ADDR": "10.0.0.1"}},
])
def test_the_request_reads_werkzeugs_fields_lazily_and_sees_the_same(builder):
    """MiaRequest computes werkzeug's per-request fields when read: the same values as werkzeug's own
    Request, assignable, and the same URL, args and headers built from them."""
    from flask import Request as FlaskRequest

    from core.http.request import MiaRequest

    environ = EnvironBuilder(**builder).get_environ()
    lazy, eager = MiaRequest(dict(environ)), FlaskRequest(dict(environ))
    assert "path" not in lazy.__dict__  # nothing worked out before it is read
    for name in ("method", "scheme", "server", "root_path", "path", "query_string", "remote_addr", "content_length",
                 "mimetype", "url", "host",
                 "full_path", "base_url", "url_root", "host_url", "access_route"):
        assert getattr(lazy, name) == getattr(eager, name), name
    assert lazy.args == eager.args and list(lazy.headers.items()) == list(eager.headers.items())
    assert lazy.environ["werkzeug.request"] is lazy
    fresh = MiaRequest(dict(environ))
    fresh.path = "/changed"  # set before it is read, as middleware may
    assert fresh.path == "/changed" and fresh.full_path.startswith("/changed?")
