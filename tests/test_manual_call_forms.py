"""The manual's call forms (spec/mia-js-readme.txt, "Generic Libs"): one test per documented form.

A mia.js project ports line by line: ``Shared.libs("generic-notificationManager").mail({configId,
template, replacements}).address(...)`` queues a mail, camelCase keywords work next to PEP 8 ones,
and every generic lib function the manual lists is there under its manual name and takes the
inputs the manual names.
"""
from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import MiaError
from core.shared import Shared

CONFIG = "notification-templates"


def _manager():
    return Shared.libs("generic-notificationManager")


def test_mail_with_the_manuals_object_argument(app):
    queued = _manager().mail({"configId": CONFIG, "template": "welcome",
                              "replacements": {"name": "John", "lastName": "Wayne"}}).address("me@domain.com")
    item = _manager().item(queued)
    assert (item["configId"], item["type"], item["notification"]["template"], item["notification"]["to"]) == (
        CONFIG, "mail", "welcome", "me@domain.com")
    assert item["notification"]["replacements"] == {"name": "John", "lastName": "Wayne"}


def test_mail_with_a_schedule_in_the_object_argument_waits(app):
    later = datetime.now(UTC) + timedelta(hours=1)
    queued = _manager().mail({"configId": CONFIG, "template": "welcome", "schedule": later}).address("me@domain.com")
    assert abs(_manager().item(queued)["schedule"] - later) < timedelta(seconds=1)


def test_push_to_a_device_with_the_object_argument(app):
    queued = _manager().push({"configId": CONFIG, "template": "welcome",
                              "replacements": {"name": "John"}}).device("a" * 32)
    item = _manager().item(queued)
    assert (item["type"], item["notification"]["to"]) == ("push", "a" * 32)


def test_push_to_a_user_with_the_object_argument(app):
    users = Shared.db()["users"]
    user_id = users.insert_one({"accessTokens": [{"device": {"id": "b" * 32}}, {"device": {"id": "c" * 32}}]}
                               ).inserted_id
    queued = _manager().push({"configId": CONFIG, "template": "welcome"}).user(str(user_id))
    assert sorted(_manager().item(q)["notification"]["to"] for q in queued) == ["b" * 32, "c" * 32]


def test_camel_case_and_pep8_keywords_are_the_same_call(app):
    camel = _manager().mail(configId=CONFIG, template="welcome").address("a@example.com")
    pep8 = _manager().mail(config_id=CONFIG, template="welcome").address("b@example.com")
    positional = _manager().mail(CONFIG, "welcome", {"name": "x"}).address("c@example.com")
    assert {_manager().item(q)["configId"] for q in (camel, pep8, positional)} == {CONFIG}


def test_an_unknown_field_names_itself_and_bad_values_keep_mias_codes(app):
    with pytest.raises(TypeError, match="'configID'"):
        _manager().mail({"configID": CONFIG, "template": "welcome"})
    with pytest.raises(TypeError, match="multiple values"):
        _manager().mail({"configId": CONFIG, "template": "welcome"}, config_id=CONFIG)
    with pytest.raises(MiaError) as caught:
        _manager().mail({"configId": "nope", "template": "welcome"})
    assert caught.value.errors[0]["code"] == "ConfigIdNotFound"
    with pytest.raises(MiaError) as caught:
        _manager().mail({"configId": CONFIG})
    assert caught.value.errors[0]["code"] == "TemplateMissing"
    with pytest.raises(MiaError) as caught:
        _manager().mail({"configId": CONFIG, "template": "welcome"}).address("not an address")
    assert caught.value.errors[0]["code"] == "InvalidEmailAddress"


# The manual's list: function name -> the inputs it names.
USER_AUTH_MANAGER = {
    "getUserDataById": ["userId"], "getUserDataByEmailAndGroup": ["email", "groupId"],
    "getDevicesUserIsLoggedInOn": ["userprofile"], "getDevicesUserIsLoggedInOnByUserId": ["userId"],
    "isUserLoggedInOnDeviceByLoginAndGroup": ["login", "group", "deviceId", "appId"],
    "getUserLoggedInOnDevice": ["deviceId", "appId"], "logoutAnyUserFromDevice": ["deviceId", "appId"],
    "logoutUserFromDevice": ["userId", "deviceId", "appId"], "processProfileData": ["params"],
    "updateUserProfileData": ["params"], "getUserDataEnsuringEtag": ["userId"],
    "hashCredentials": ["group", "password", "options"], "getUserAccountResponse": ["userData", "appId"],
    "deleteUser": ["login", "group"], "prepareDataForSignup": ["params"], "signUpUser": ["params"],
    "signupWithThirdPartyProvider": ["params"], "validateUser": ["token"], "invalidateUser": ["token"],
    "getPasswordResetToken": ["login", "group"], "resetPassword": ["passwordResetToken", "newPassword", "options"],
    "loginUserCore": ["params"], "loginUser": ["params"],
}
DEVICE_AND_SESSION_AUTH = {
    "createDevice": ["options", "deviceData", "retryCount"], "updateDevice": ["options", "id", "deviceData"],
}
DEPRECATED = ["checkAccessKey", "generateSessionId", "validateSessionToken"]  # listed without inputs
LIBS = ([("generic-userAuthManager", name, inputs) for name, inputs in USER_AUTH_MANAGER.items()]
        + [("generic-deviceAndSessionAuth", name, inputs) for name, inputs in DEVICE_AND_SESSION_AUTH.items()]
        + [("generic-servicesManager", "getFilteredServicesInfo",
            ["registeredServices", "req", "hostId", "group", "version", "prefix"])])


@pytest.mark.parametrize(("lib", "name", "inputs"), LIBS, ids=[f"{lib}.{name}" for lib, name, _ in LIBS])
def test_each_generic_lib_function_of_the_manual_takes_its_documented_inputs(app, lib, name, inputs):
    function = getattr(Shared.libs(lib), name, None)
    assert callable(function), f"{lib} has no {name}"
    inspect.signature(function).bind(*[object()] * len(inputs))  # the manual's inputs, in its order


@pytest.mark.parametrize("name", DEPRECATED)
def test_the_deprecated_device_functions_keep_their_manual_names(app, name):
    assert callable(getattr(Shared.libs("generic-deviceAndSessionAuth"), name, None))


def test_create_and_update_device_in_the_manuals_argument_order(app):
    lib = Shared.libs("generic-deviceAndSessionAuth")
    device = lib.createDevice({}, {"culture": {"code": "en-gb"}}, 2)
    assert lib.updateDevice({}, device["id"], {"status": "inactive"})["status"] == "inactive"
    assert lib.updateDevice(device["id"], {"status": "active"})["status"] == "active"  # the PEP 8 order


def test_delete_user_by_login_and_group_as_the_manual_calls_it(app):
    users = Shared.db()["users"]
    users.insert_one({"login": "john@example.com", "group": "demo", "status": "active"})
    assert Shared.libs("generic-userAuthManager").deleteUser("john@example.com", "demo") is True
    assert users.find_one({"login": "john@example.com"})["status"] == "deleted"
    assert Shared.libs("generic-userAuthManager").deleteUser("nobody@example.com", "demo") is False
