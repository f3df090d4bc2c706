"""The generic libs mia.js projects call: generic-servicesManager and generic-routesHandler; the demo listing."""
from __future__ import annotations

from conftest import ROOT
from core import Shared

V1 = "/demo/v1"
AUTH = "/demo-auth/v1"


def test_services_manager_answers_what_the_listing_route_sends(app, client):
    manager = Shared.libs("generic-servicesManager")
    listed = client.get(f"{V1}/services").json["response"]
    with app.test_request_context(f"{V1}/services", base_url="http://localhost"):
        from flask import request

        assert manager.getServicesInfoByReq(request, "*", "demo", "1.0", V1) == listed
        assert manager.get_services_info_by_req(request, "*", "DEMO", "1.0", V1) == listed  # case-insensitive
        assert manager.getServicesInfoByReq(request, "*", "demo", "2.0", V1) == []
        assert manager.getServicesInfoByReq(request, "elsewhere", "demo", "1.0", V1) == []
        latest = manager.getServicesInfoByReq(request, "*", "demo", "1.0", "/demo/latest")
        # routes/realtime.py: /demo/v1 only
        only_v1 = {"jwt-login", "jwt-refresh", "jwt-revoke", "jwt-revoke-all", "jwt-me", "todo-live"}
        assert [item["id"] for item in latest] == [item["id"] for item in listed if item["id"] not in only_v1]
        assert all(item["url"].startswith("http://localhost/demo/latest/") for item in latest)


def test_get_filtered_services_info_filters_the_given_records(app):
    manager = Shared.libs("generic-servicesManager")
    records = manager.registeredServices()
    assert {"hostIds", "group", "version", "prefix", "url", "id", "responses"} <= set(records[0])
    mine = [dict(record, url="https://cdn.example.com/x") if record["id"] == "todos" else record
            for record in records if record["prefix"] == AUTH]
    with app.test_request_context(f"{AUTH}/services", headers={"Host": "api.example.com",
                                                               "X-Forwarded-Proto": "https"}):
        from flask import request

        items = manager.getFilteredServicesInfo(mine, request, "*", "demo", "1.0", AUTH)
    by_id = {(item["id"], item["method"]): item for item in items}
    assert by_id[("todos", "GET")]["url"] == "https://cdn.example.com/x"  # absolute urls are kept
    assert by_id[("devices", "POST")]["url"] == "https://api.example.com/demo-auth/v1/devices"
    assert list(by_id[("device", "PUT")]) == ["modified", "method", "url", "id", "parameters", "responses",
                                               "authorization"]
    with app.test_request_context(f"{AUTH}/services"):
        from flask import request

        from_routes = manager.getFilteredServicesInfo(Shared.services, request, "*", "demo", "1.0", AUTH)
        assert from_routes == manager.getServicesInfoByReq(request, "*", "demo", "1.0", AUTH) != []


def test_a_project_controller_calls_the_services_manager(tree):
    tree.write("projects/generic/libs/services_manager.py",
               (ROOT / "projects/generic/libs/services_manager.py").read_text())
    tree.write("projects/base/controllers/mine.py", '''
        from core import Controller, Shared

        class Mine(Controller):
            identity = "mine"

            def list(self, req, res):
                route = req.mia.route
                res.response = Shared.libs("generic-servicesManager").getServicesInfoByReq(
                    req, route.host_id, route.group, route.version, route.prefix)
    ''')
    tree.write("projects/base/routes/api.py", "routes = " + repr({
        "group": "shop", "version": "1.0", "prefix": "/shop/v1", "routes": {
            "./things": {"post": {"identity": "addThing", "controller": [{"name": "out"}]}},
            "./mine": {"list": {"identity": "mine", "controller": [{"name": "mine"}, {"name": "out"}]}}}}))
    reply = tree.app().test_client().get("/shop/v1/mine")
    assert reply.status_code == 200
    assert [(item["id"], item["method"], item["url"]) for item in reply.json["response"]] == [
        ("addThing", "POST", "http://localhost/shop/v1/things"), ("mine", "GET", "http://localhost/shop/v1/mine")]


def test_routes_handler_gives_the_public_path(app):
    handler = Shared.libs("generic-routesHandler")
    assert handler.getPublicPath({"prefix": ["/web/v1", "/web/latest"]}) == "/web/v1/"
    assert handler.getPublicPath({"prefix": "/web"}) == "/web/"
    assert handler.getPublicPath({"routes": {}}) == "/"
    assert handler.get_public_path({"prefix": []}) == "/"
    demo_api = next(f for f in Shared.route_files if f.path.endswith("demo/routes/api.py"))
    assert handler.getPublicPath(demo_api) == "/demo/v1/"
    assert handler.getPublicPath(demo_api.definition) == "/demo/v1/"


def test_demo_listing_has_mias_parameter_texts_and_dates(client):
    items = {item["id"]: item for item in client.get(f"{V1}/services").json["response"]}
    assert items["todos"]["modified"] == "2015-08-14T12:00:00.000Z"
    assert items["services"]["modified"] == "2015-04-05T16:00:00.000Z"
    query = items["todos"]["parameters"]["query"]
    assert {name: field["desc"] for name, field in query.items() if name != "filter"} == {
        "limit": "Number of items", "skip": "Skip number of items for paging",
        "sort": "Sort by name or lastModified", "ascending": "Sort ascending"}
    assert items["todo"]["parameters"]["path"]["id"]["desc"] == "Id of todo item"
    assert items["create-todo"]["parameters"]["body"]["name"]["desc"] == "Name of todo item"
    assert items["create-todo"]["parameters"]["body"]["status"]["desc"] == (
        "Status of item in list allowed [checked|unchecked]")
    assert items["update-todo"]["parameters"]["body"]["name"]["desc"] == "Name of todo item to update"
    assert items["update-todo"]["parameters"]["path"]["id"]["desc"] == "Id of todo item"
    assert items["delete-todo"]["parameters"]["path"]["id"]["desc"] == "Id of todo item to delete"
    auth = {(item["id"], item["method"]): item for item in client.get(f"{AUTH}/services").json["response"]}
    assert auth[("devices", "POST")]["modified"] == "2014-02-23T15:00:00.000Z"
    assert auth[("device", "PUT")]["modified"] == "2014-02-23T15:00:00.000Z"
    assert auth[("todos", "GET")]["modified"] == "2015-08-14T12:00:00.000Z"
    assert auth[("todos", "GET")]["parameters"]["header"]["key"]["desc"] == "Authorization access key"


MANAGER_NAMES = {  # the manual's Generic Libs names and their PEP 8 twins
    "getUserDataById": "get_user_data_by_id", "getUserDataByEmailAndGroup": "get_user_data_by_email_and_group",
    "getDevicesUserIsLoggedInOn": "get_devices_user_is_logged_in_on",
    "getDevicesUserIsLoggedInOnByUserId": "get_devices_user_is_logged_in_on_by_user_id",
    "isUserLoggedInOnDeviceByLoginAndGroup": "is_user_logged_in_on_device_by_login_and_group",
    "getUserLoggedInOnDevice": "get_user_logged_in_on_device", "logoutAnyUserFromDevice": "logout_any_user_from_device",
    "logoutUserFromDevice": "logout_user_from_device", "processProfileData": "process_profile_data",
    "updateUserProfileData": "update_user_profile_data", "getUserDataEnsuringEtag": "get_user_data_ensuring_etag",
    "hashCredentials": "hash_credentials", "getUserAccountResponse": "get_user_account_response",
    "deleteUser": "delete_user", "prepareDataForSignup": "prepare_data_for_signup", "signUpUser": "sign_up_user",
    "signupWithThirdPartyProvider": "signup_with_third_party_provider", "validateUser": "validate_user",
    "invalidateUser": "invalidate_user", "getPasswordResetToken": "get_password_reset_token",
    "resetPassword": "reset_password", "loginUserCore": "login_user_core", "loginUser": "login_user",
    "logoutEverywhere": "logout_everywhere", "removeDevice": "remove_device",
}


MANUAL_INPUTS = {"deleteUser", "loginUserCore"}  # deleteUser(login, group), loginUserCore(params)


def test_the_user_auth_manager_keeps_its_public_names_after_the_split(client):
    """generic-userAuthManager delegates to generic-userAccounts, -deviceLogins and -accountTokens."""
    manager = Shared.libs("generic-userAuthManager")
    for camel, snake in MANAGER_NAMES.items():
        if camel in MANUAL_INPUTS:  # the manual's inputs differ: a wrapper (tests/test_manual_call_forms.py)
            assert callable(getattr(manager, camel)) and callable(getattr(manager, snake)), camel
            continue
        assert getattr(type(manager), camel) is getattr(type(manager), snake), camel
    created = manager.signUpUser({"group": "generic", "appId": "generic", "login": "lib@example.com",
                                  "email": "lib@example.com", "password": "a long password 1"})
    assert manager.get_user_data_by_id(str(created["_id"]))["login"] == "lib@example.com"
    assert manager.getUserDataByEmailAndGroup("lib@example.com", "generic")["_id"] == created["_id"]
    assert manager.loginUser({"group": "generic", "appId": "generic", "login": "lib@example.com",
                              "password": "a long password 1", "deviceId": "d" * 32}) is not None
    assert manager.getUserLoggedInOnDevice("d" * 32, "generic")["_id"] == created["_id"]
    assert manager.logoutEverywhere(created["_id"]) is True
    assert manager.get_user_logged_in_on_device("d" * 32, "generic") is None
