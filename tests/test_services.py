"""generic-listServices v2 and v1 over the repository's real demo and generic projects."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LISTING = '''
import datetime

routes = {
    "group": "demo",
    "version": "1.0",
    "prefix": ["/icecream/v1", "/icecream/latest"],
    "routes": {
        "./services": {"list": {"identity": "services", "controller": [
            {"name": "generic-listServices", "version": "2.0"}, {"name": "generic-defaultResponse"}]}},
        "./services-v1": {"list": {"identity": "servicesV1", "controller": [
            {"name": "generic-listServices", "version": "1.0"}, {"name": "generic-defaultResponse"}]}},
        "./secret": {"get": {
            "identity": "secret", "authorization": True, "deprecated": True,
            "modified": datetime.datetime(2015, 1, 17, 10, 0, 0, tzinfo=datetime.timezone.utc),
            "controller": [{"name": "myIceCreamController", "function": "favoriteFlavour"},
                           {"name": "generic-defaultResponse"}]}},
    },
}
'''
OTHER_GROUP = '''
routes = {"group": "elsewhere", "prefix": "/icecream/v1",
          "routes": {"./hidden": {"list": {"identity": "hidden", "controller": [{"name": "generic-defaultResponse"}]}}}}
'''
NO_GROUP = '''
routes = {"prefix": "/nogroup", "routes": {"./services": {"list": {"identity": "s", "controller": [
    {"name": "generic-listServices", "version": "2.0"}, {"name": "generic-defaultResponse"}]}}}}
'''
DEFAULT_400 = ["UnexpectedDefaultValue", "UnexpectedType", "MinLengthUnderachieved", "MaxLengthExceeded",
               "MinValueUnderachived", "MaxValueExceeded", "ValueNotAllowed", "PatternMismatch",
               "MissingRequiredParameter"]


@pytest.fixture
def client(tree):
    """The real demo and generic projects plus one route file that mounts the listing for group demo."""
    for name in ("system.py", "env/test.py"):
        tree.write(f"config/{name}", (ROOT / "config" / name).read_text())
    for project in ("demo", "generic"):
        (tree.root / "projects" / project).symlink_to(ROOT / "projects" / project, target_is_directory=True)
    tree.write("projects/zlisting/routes/services.py", LISTING)
    tree.write("projects/zlisting/routes/other.py", OTHER_GROUP)
    tree.write("projects/zlisting/routes/nogroup.py", NO_GROUP)
    app = tree.app()
    yield app.test_client()
    app.config["mia.databases"].close_all()


def by_id(items):
    return {item["id"]: item for item in items}


def test_v2_lists_the_demo_services_with_parameters_from_every_controller(client):
    body = client.get("/icecream/v1/services").json
    assert body["status"] == 200
    items = by_id(body["response"])
    flavours = items["icecreamFlavours"]
    assert list(flavours) == ["modified", "method", "url", "id", "parameters", "responses", "authorization"]
    assert flavours["method"] == "GET"
    assert flavours["url"] == "http://localhost/icecream/v1/flavours"
    assert flavours["parameters"]["query"]["flavour"] == {
        "type": "String", "desc": "Your favourite flavour", "required": True,
        "allow": ["cookies and cream", "vanilla", "strawberry"]}  # convert is not listed
    assert flavours["parameters"]["query"]["filter"]["type"] == "String"  # from generic-defaultResponse
    assert flavours["parameters"]["query"]["filter"]["desc"].startswith("Filter response by filter string")
    assert flavours["responses"] == {"200": ["Success"], "400": DEFAULT_400, "429": ["RateLimitExceeded"],
                                     "500": ["InternalServerError"]}
    assert flavours["authorization"] is False
    assert "rulesShowcase" in items and items["rulesShowcase"]["method"] == "POST"
    assert items["rulesShowcase"]["url"] == "http://localhost/icecream/v1/rules/:code"


def test_v2_lists_only_the_same_group_version_and_prefix_in_order(client):
    items = client.get("/icecream/v1/services").json["response"]
    assert all(item["url"].startswith("http://localhost/icecream/v1/") for item in items)
    assert "hidden" not in by_id(items)  # another group on the same prefix
    ids = [item["id"] for item in items]
    assert ids.index("icecreamFlavours") < ids.index("rulesShowcase") < ids.index("services")
    latest = client.get("/icecream/latest/services").json["response"]
    assert {item["url"] for item in latest} == {item["url"].replace("/v1/", "/latest/") for item in items}


def test_v2_flags_modified_deprecated_and_authorization(client):
    secret = by_id(client.get("/icecream/v1/services").json["response"])["secret"]
    assert list(secret) == ["modified", "method", "url", "id", "parameters", "responses", "deprecated",
                            "authorization"]
    assert secret["modified"] == "2015-01-17T10:00:00.000Z"
    assert secret["deprecated"] is True and secret["authorization"] is True


def test_urls_follow_the_host_and_forwarded_protocol(client):
    items = client.get("/icecream/v1/services", headers={"Host": "api.example.com",
                                                         "X-Forwarded-Proto": "https"}).json["response"]
    assert by_id(items)["icecreamFlavours"]["url"] == "https://api.example.com/icecream/v1/flavours"


def test_v1_shape(client):
    items = client.get("/icecream/v1/services-v1").json["response"]
    by_name = {item["name"]: item for item in items}
    assert by_name["icecreamFlavours"] == {"modified": None, "url": "http://localhost/icecream/v1/flavours",
                                           "requiresSession": False, "name": "icecreamFlavours",
                                           "requestMethods": ["GET"]}
    assert by_name["secret"] == {"modified": "2015-01-17T10:00:00.000Z",
                                 "url": "http://localhost/icecream/v1/secret", "deprecated": True,
                                 "requiresSession": True, "name": "secret", "requestMethods": ["GET"]}


def test_listing_without_a_group_is_a_500(client):
    response = client.get("/nogroup/services")
    assert response.status_code == 500
    assert response.json["errors"][0]["code"] == "UnknownServiceGroupOrVersion"


def test_listing_is_per_virtual_host(tree):
    tree.env({"hosts": [{"id": "one", "host": "one.test"}, {"id": "two", "host": "two.test"}]})
    for relative in ("controllers/services/list_services.py", "controllers/output/default_response.py",
                     "config/translations.py"):
        tree.write(f"projects/generic/{relative}", (ROOT / "projects/generic" / relative).read_text())
    listing = [{"name": "generic-listServices", "version": "2.0"}, {"name": "generic-defaultResponse"}]
    for host in ("one", "two"):
        tree.write(f"projects/base/routes/{host}.py", "routes = " + repr({
            "group": "g", "hostId": host, "prefix": "/api", "routes": {
                f"./{host}-only": {"get": {"identity": f"{host}Only", "controller": [{"name": "out"}]}},
                "./services": {"list": {"identity": f"{host}Services", "controller": listing}}}}))
    client = tree.app().test_client()
    ids = [item["id"] for item in client.get("/api/services", headers={"Host": "one.test"}).json["response"]]
    assert ids == ["oneOnly", "oneServices"]
    ids = [item["id"] for item in client.get("/api/services", headers={"Host": "two.test"}).json["response"]]
    assert ids == ["twoOnly", "twoServices"]
