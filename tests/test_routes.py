"""Route files: method keys, prefixes, vhosts, environments, function selection, chains."""
from __future__ import annotations

import pytest

from core.errors import StartupError

ECHO = '''
from core import Controller, MiaError

class Echo(Controller):
    identity = "echo"
    def all(self, req, res):
        res.response = {"fn": "all", "method": req.mia.route.method, "url": req.mia.route.url,
                        "params": req.mia.params}
    def list(self, req, res):
        res.response = {"fn": "list", "url": req.mia.route.url}
    def del_(self, req, res):
        res.response = {"fn": "del_"}
    def custom(self, req, res):
        res.response = {"fn": "custom", "params": req.mia.params}

class Steps(Controller):
    identity = "steps"
    def one(self, req, res):
        req.mia.trail = ["one"]
    def two(self, req, res):
        req.mia.trail.append("two")
        res.response = req.mia.trail
    def boom(self, req, res):
        raise MiaError(409, code="Conflict", msg="Already there")
    def crash(self, req, res):
        raise RuntimeError("secret internals")
    def silent(self, req, res):
        pass

class Catch(Controller):
    identity = "catch"
    def note(self, err, req, res):
        req.mia.seen = [type(err).__name__, getattr(err, "status", None)]
    def answer(self, err, req, res):
        res.send({"handled": req.mia.seen, "errors": getattr(err, "errors", None)}, status=418)
'''


def chain(*names, fn=None):
    steps = []
    for name in names:
        entry = {"name": name}
        if ":" in name:
            entry = {"name": name.split(":")[0], "function": name.split(":")[1]}
        steps.append(entry)
    if fn:
        steps[0]["function"] = fn
    return steps + [{"name": "out"}]


@pytest.fixture
def echo_tree(tree):
    tree.write("projects/base/controllers/echo.py", ECHO)
    return tree


def write_routes(tree, name, spec):
    tree.write(f"projects/base/routes/{name}.py", f"routes = {spec!r}")


def test_every_method_key_and_the_id_suffix(echo_tree):
    write_routes(echo_tree, "api", {"group": "g", "prefix": "/api", "routes": {"./things": {
        key: {"identity": key, "controller": chain("echo")}
        for key in ("list", "index", "create", "update", "delete")}, "./raw": {
        key: {"identity": "raw-" + key, "controller": chain("echo")} for key in ("get", "post", "put", "del")}}})
    client = echo_tree.app().test_client()
    assert client.get("/api/things").json == {"status": 200, "response": {"fn": "list", "url": "/api/things"}}
    index = client.get("/api/things/AbC").json["response"]
    assert index == {"fn": "all", "method": "index", "url": "/api/things/:id", "params": {"id": "AbC"}}
    assert client.post("/api/things").json["response"]["method"] == "create"
    assert client.put("/api/things/7").json["response"]["url"] == "/api/things/:id"
    assert client.delete("/api/things/7").json["response"]["method"] == "delete"
    assert client.get("/api/raw").json["response"]["method"] == "get"
    assert client.post("/api/raw").json["response"]["method"] == "post"
    assert client.put("/api/raw").json["response"]["method"] == "put"
    assert client.delete("/api/raw").json["response"] == {"fn": "del_"}
    # index/update/delete need the id; the bare path is 405 for PUT and DELETE
    assert client.put("/api/things").status_code == 405
    assert client.put("/api/things").json["errors"][0]["code"] == "MethodNotAllowed"


def test_paths_are_case_insensitive_with_optional_trailing_slash_and_keep_param_case(echo_tree):
    write_routes(echo_tree, "api", {"group": "g", "prefix": "/API/v1", "routes": {"./Items/:itemId/Parts": {
        "get": {"controller": chain("echo:custom")}}}})
    client = echo_tree.app().test_client()
    for path in ("/api/v1/items/XyZ/parts", "/API/V1/ITEMS/XyZ/PARTS/", "/Api/v1/Items/XyZ/Parts"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.json["response"]["params"] == {"itemId": "XyZ"}


def test_head_answers_like_get_without_a_body(echo_tree):
    write_routes(echo_tree, "api", {"group": "g", "prefix": "/p", "routes": {"./x": {"get": {
        "controller": chain("echo")}}}})
    client = echo_tree.app().test_client()
    get, head = client.get("/p/x"), client.head("/p/x")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"] == "application/json"


def test_prefix_list_root_prefix_and_absolute_paths(echo_tree):
    write_routes(echo_tree, "multi", {"group": "g", "prefix": ["/one", "/two/"], "routes": {
        "./rel": {"get": {"identity": "rel", "controller": chain("echo")}},
        "/absolute/path": {"get": {"identity": "abs", "controller": chain("echo")}}}})
    write_routes(echo_tree, "root", {"group": "g", "prefix": "/", "routes": {
        "./top": {"get": {"controller": chain("echo")}}}})
    client = echo_tree.app().test_client()
    assert client.get("/one/rel").json["response"]["url"] == "/one/rel"
    assert client.get("/two/rel").json["response"]["url"] == "/two/rel"
    assert client.get("/absolute/path").status_code == 200
    assert client.get("/one/absolute/path").status_code == 404
    assert client.get("/top").json["response"]["url"] == "/top"


def test_unknown_route_is_404_in_the_standard_envelope(echo_tree):
    client = echo_tree.app().test_client()
    response = client.get("/nothing/here")
    assert response.status_code == 404
    assert response.json == {"status": 404, "errors": [
        {"code": "NotFound", "msg": "Whatever you are looking for it is not here"}]}


def test_vhosts_exact_wildcard_case_and_port(echo_tree):
    echo_tree.env({"hosts": [{"id": "api", "host": ["api.example.com", "*.api.example.org"]},
                             {"id": "web", "host": "www.example.com"}]})
    write_routes(echo_tree, "api", {"group": "g", "hostId": "api", "prefix": "/", "routes": {
        "./same": {"get": {"controller": chain("echo:custom")}},
        "./only-api": {"get": {"controller": chain("echo")}}}})
    write_routes(echo_tree, "web", {"group": "g", "hostId": ["web"], "prefix": "/", "routes": {
        "./same": {"get": {"controller": chain("echo")}}}})
    write_routes(echo_tree, "any", {"group": "g", "prefix": "/", "routes": {
        "./everywhere": {"get": {"controller": chain("echo")}}}})
    client = echo_tree.app().test_client()
    assert client.get("/same", headers={"Host": "API.Example.com:8080"}).json["response"]["fn"] == "custom"
    assert client.get("/same", headers={"Host": "www.example.com"}).json["response"]["fn"] == "all"
    assert client.get("/only-api", headers={"Host": "eu.api.example.org"}).status_code == 200
    assert client.get("/only-api", headers={"Host": "a.b.api.example.org"}).status_code == 404
    assert client.get("/only-api", headers={"Host": "www.example.com"}).status_code == 404
    assert client.get("/same", headers={"Host": "other.com"}).status_code == 404
    for host in ("api.example.com", "www.example.com", "other.com"):
        assert client.get("/everywhere", headers={"Host": host}).status_code == 200


def test_environment_filters_for_files_and_methods(echo_tree):
    write_routes(echo_tree, "envs", {"group": "g", "prefix": "/e", "routes": {
        "./both": {"get": {"controller": chain("echo")}},
        "./prod-only": {"get": {"environment": ["production"], "controller": chain("echo")}},
        "./test-only": {"get": {"environment": "test", "controller": chain("echo")}}}})
    write_routes(echo_tree, "prodfile", {"group": "g", "environment": ["production"], "prefix": "/prod",
                                         "routes": {"./x": {"get": {"controller": chain("echo")}}}})
    client = echo_tree.app().test_client()
    assert client.get("/e/both").status_code == 200
    assert client.get("/e/test-only").status_code == 200
    assert client.get("/e/prod-only").status_code == 404
    assert client.get("/prod/x").status_code == 404


def test_function_selection_route_function_then_method_key_then_all(echo_tree):
    write_routes(echo_tree, "fns", {"group": "g", "prefix": "/f", "routes": {
        "./a": {"list": {"controller": chain("echo")},
                "post": {"controller": chain("echo:custom")},
                "put": {"controller": chain("echo")}}}})
    client = echo_tree.app().test_client()
    assert client.get("/f/a").json["response"]["fn"] == "list"
    assert client.post("/f/a").json["response"]["fn"] == "custom"
    assert client.put("/f/a").json["response"]["fn"] == "all"


def test_chain_order_error_chain_and_default_error_output(echo_tree):
    write_routes(echo_tree, "chain", {"group": "g", "prefix": "/c", "routes": {
        "./ok": {"get": {"controller": chain("steps:one", "steps:two")}},
        "./caught": {"get": {"controller": chain("steps:one", "steps:boom", "steps:two"),
                             "errorController": [{"name": "catch", "function": "note"},
                                                 {"name": "catch", "function": "answer"}]}},
        "./plain": {"get": {"controller": chain("steps:boom")}},
        "./crash": {"get": {"controller": chain("steps:crash")}},
        "./silent": {"get": {"controller": [{"name": "steps", "function": "silent"}]}}}})
    client = echo_tree.app().test_client()
    assert client.get("/c/ok").json == {"status": 200, "response": ["one", "two"]}
    caught = client.get("/c/caught")
    assert caught.status_code == 418
    assert caught.json == {"handled": ["MiaError", 409], "errors": [{"code": "Conflict", "msg": "Already there"}]}
    plain = client.get("/c/plain")
    assert plain.status_code == 409
    assert plain.json == {"status": 409, "errors": [{"code": "Conflict", "msg": "Already there"}]}
    crash = client.get("/c/crash")
    assert crash.status_code == 500
    assert crash.json == {"status": 500, "errors": [
        {"code": "InternalServerError", "msg": "Oops - I'm sorry but something went wrong"}]}
    assert b"secret internals" not in crash.data
    silent = client.get("/c/silent")
    assert silent.status_code == 404 and silent.json["errors"][0]["code"] == "NotFound"


def test_precondition_failures_reach_the_error_chain_as_mia_errors(echo_tree):
    echo_tree.write("projects/base/controllers/needs.py", '''
        from core import Controller
        class Needs(Controller):
            identity = "needs"
            preconditions = {"all": {"parameters": {"query": {"n": {"type": int, "required": True}}},
                                     "responses": {200: "Ok"}}}
            def all(self, req, res):
                res.response = req.mia.validated_parameters
    ''')
    write_routes(echo_tree, "pre", {"group": "g", "prefix": "/p", "routes": {"./x": {"get": {
        "controller": chain("needs"), "errorController": [{"name": "catch", "function": "note"},
                                                          {"name": "catch", "function": "answer"}]}}}})
    response = echo_tree.app().test_client().get("/p/x")
    assert response.status_code == 418
    assert response.json["handled"] == ["ValidationError", 400]
    assert response.json["errors"] == [{"code": "MissingRequiredParameter", "id": "n",
                                        "msg": "n is required but invalid value or no value given", "in": "query"}]


# --- start-up failures name the file -----------------------------------------------------------

def test_duplicate_identity_across_projects_fails_naming_both_files(echo_tree):
    second = echo_tree.write("projects/zzz/controllers/again.py", '''
        from core import Controller
        class Again(Controller):
            identity = "echo"
    ''')
    with pytest.raises(StartupError) as info:
        echo_tree.app()
    message = str(info.value)
    assert "Identity 'echo' with version '1.0' is already registered" in message
    assert "projects/base/controllers/echo.py" in message and str(second) in message


def test_same_identity_with_another_version_is_fine(echo_tree):
    echo_tree.write("projects/base/controllers/echo2.py", '''
        from core import Controller
        class Echo2(Controller):
            identity = "echo"
            version = "2.0"
            def all(self, req, res):
                res.response = "v2"
    ''')
    write_routes(echo_tree, "v", {"group": "g", "prefix": "/v", "routes": {
        "./one": {"get": {"controller": [{"name": "echo", "version": "1.0", "function": "custom"},
                                         {"name": "out"}]}},
        "./two": {"get": {"controller": [{"name": "echo", "version": "2.0"}, {"name": "out"}]}}}})
    client = echo_tree.app().test_client()
    assert client.get("/v/one").json["response"]["fn"] == "custom"
    assert client.get("/v/two").json["response"] == "v2"


def test_unknown_controller_fails_naming_the_route_file(echo_tree):
    path = echo_tree.write("projects/base/routes/bad.py",
                           "routes = {'group': 'g', 'routes': {'/x': {'get': {'controller': [{'name': 'nope'}]}}}}")
    with pytest.raises(StartupError) as info:
        echo_tree.app()
    assert "Controller nope 1.0->get does not exists" in str(info.value)
    assert str(path) in str(info.value)


def test_missing_function_fails(echo_tree):
    echo_tree.write("projects/base/controllers/nofn.py", '''
        from core import Controller
        class NoFn(Controller):
            identity = "nofn"
    ''')
    write_routes(echo_tree, "bad", {"group": "g", "routes": {"/x": {"post": {"controller": [{"name": "nofn"}]}}}})
    with pytest.raises(StartupError, match="nofn 1.0->post does not exists but used in routes configuration"):
        echo_tree.app()


@pytest.mark.parametrize("text, expected", [
    ("routes = ['not a dict']", "must define a dict named 'routes'"),
    ("routes = {'routes': {'/x': {'patch': {'controller': [{'name': 'echo'}]}}}}", "unknown route method key"),
    ("routes = {'prefx': '/x', 'routes': {}}", "unknown route file keys: prefx"),
    ("routes = {'rateLimit': {'interval': 0}, 'routes': {}}", "Rate limit config invalid"),
    ("routes = {'routes': {'/x': {'get': {'controller': [{'name': 'echo'}], 'bodyParser': {'type': 'xml'}}}}}",
     "bodyParser type must be one of"),
    ("routes = {'hostId': 'nohost', 'routes': {}}", "Host nohost for route None not registered"),
    ("routes = {{", "SyntaxError"),
])
def test_bad_route_files_fail_naming_the_file(echo_tree, text, expected):
    path = echo_tree.write("projects/base/routes/broken.py", text)
    with pytest.raises(StartupError) as info:
        echo_tree.app()
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_duplicate_path_and_verb_fails(echo_tree):
    write_routes(echo_tree, "a", {"group": "g", "routes": {"/same": {"get": {"controller": chain("echo")}}}})
    write_routes(echo_tree, "b", {"group": "g", "routes": {"/SAME/": {"get": {"controller": chain("echo")}}}})
    with pytest.raises(StartupError, match="already registered"):
        echo_tree.app()


def test_preconditions_without_responses_fail(echo_tree):
    echo_tree.write("projects/base/controllers/noresp.py", '''
        from core import Controller
        class NoResp(Controller):
            identity = "noresp"
            preconditions = {"all": {"parameters": {"query": {"a": {"type": str}}}}}
            def all(self, req, res):
                pass
    ''')
    write_routes(echo_tree, "r", {"group": "g", "routes": {"/x": {"get": {"controller": chain("noresp")}}}})
    with pytest.raises(StartupError, match="Precondition parameters defined in noresp 1.0->all but no responses"):
        echo_tree.app()


def test_conflicting_preconditions_in_one_chain_fail(echo_tree):
    echo_tree.write("projects/base/controllers/pre.py", '''
        from core import Controller
        class A(Controller):
            identity = "pa"
            preconditions = {"all": {"parameters": {"query": {"q": {"type": str}}}, "responses": {200: "Ok"}}}
            def all(self, req, res):
                pass
        class B(Controller):
            identity = "pb"
            preconditions = {"all": {"parameters": {"query": {"q": {"type": int}}}, "responses": {200: "Ok"}}}
            def all(self, req, res):
                pass
    ''')
    write_routes(echo_tree, "r", {"group": "g", "routes": {"/x": {"get": {"controller": chain("pa", "pb")}}}})
    with pytest.raises(StartupError, match="Precondition conflict: pb -> 1.0 -> all -> type"):
        echo_tree.app()


def test_port_comes_from_config_and_port_variable(tree, monkeypatch):
    from core.shared import Shared

    tree.env({"server": {"http": {"port": 4100}}})
    tree.app()
    assert Shared.config("environment.server.http.port") == 4100
    monkeypatch.setenv("PORT", "4200")
    tree.app()
    assert Shared.config("environment.server.http.port") == 4200
