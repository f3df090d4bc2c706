"""mia.js's texts, character for character: system texts in en and de, the deprecation notice, type messages."""
from __future__ import annotations

import pytest

from conftest import ROOT
from core.translator import translate

SYSTEM = {
    "BadRequest": ("Something is not ok with your request", "Irgendwas stimmt nicht mit der Anfrage"),
    "NotFound": ("Whatever you are looking for it is not here",
                 "Nach was auch immer du suchst, hier ist es leider nicht"),
    "InternalServerError": ("Oops - I'm sorry but something went wrong", "Oops - irgendwas ist schief gelaufen"),
    "Forbidden": ("You are not allowed to access this service", "Du bist nicht berechtigt diesen Service zu verwenden"),
    "RateLimitExceeded": ("Rate limit exceeded", "Zugriffslimit erreicht"),
    "Gone": ("This resource is gone or never was there. Try another one.",
             "Diese Ressource gibt es nicht mehr oder hat nie gegeben. Versuche es mit einer anderen."),
    "ExternalDataRequestError": ("Unexpected data structure received from external API",
                                 "Unerwartetes Datenformat von externer API erhalten"),
}
NOTICE = "This service is deprecated and will expire. Please do not use this service for new development"

ERRORS = '''
from core import Controller, MiaError

class Fail(Controller):
    identity = "fail"

    def all(self, req, res):
        status = int(req.mia.validated_parameters["path"]["status"])
        if status == 500:
            raise RuntimeError("boom")
        raise MiaError(status)

    preconditions = {"all": {"parameters": {"path": {"status": {"type": str}}}, "responses": {200: "Success"}}}


class Old(Controller):
    identity = "old"

    def all(self, req, res):
        res.response = {"ok": True}


class Typed(Controller):
    identity = "typed"
    preconditions = {"all": {"parameters": {"query": {
        "a": {"type": int}, "b": {"type": "Integer"}, "c": {"type": "Number"}}}, "responses": {200: "Success"}}}

    def all(self, req, res):
        res.response = req.mia.validated_parameters["query"]
'''


@pytest.fixture
def texts_client(tree):
    tree.write("projects/generic/config/translations.py",
               (ROOT / "projects/generic/config/translations.py").read_text())
    tree.write("projects/generic/controllers/default_response.py",
               (ROOT / "projects/generic/controllers/output/default_response.py").read_text())
    tree.write("projects/base/controllers/texts.py", ERRORS)
    tree.write("projects/base/routes/texts.py", "routes = " + repr({
        "group": "t", "prefix": "/t", "routes": {
            "./fail/:status": {"get": {"identity": "fail", "controller": [{"name": "fail"}]}},
            "./old": {"get": {"identity": "old", "deprecated": True,
                              "controller": [{"name": "old"}, {"name": "generic-defaultResponse"}]}},
            "./typed": {"get": {"identity": "typed", "controller": [{"name": "typed"}, {"name": "out"}]}}}}))
    tree.env({"debug": False})
    return tree.app().test_client()


@pytest.mark.parametrize("key", sorted(SYSTEM))
def test_system_texts_are_mias_in_english_and_german(app, key):
    english, german = SYSTEM[key]
    assert translate("system", key, "en", "gb") == english
    assert translate("system", key, "de", "de") == german
    assert translate(None, key, "fr", "fr") == english  # default culture
    assert translate("generic-translations", key, "de", "de") in (german, f"Missing translation for key {key}",
                                                                   english)


@pytest.mark.parametrize(("status", "key"), [(400, "BadRequest"), (403, "Forbidden"), (404, "NotFound"),
                                             (410, "Gone"), (500, "InternalServerError")])
def test_error_answers_carry_the_exact_texts(texts_client, status, key):
    english, german = SYSTEM[key]
    reply = texts_client.get(f"/t/fail/{status}", headers={"culture.code": "de-DE"})
    assert reply.status_code == status
    assert reply.json == {"status": status, "errors": [{"code": key, "msg": german}]}
    reply = texts_client.get(f"/t/fail/{status}", headers={"culture.code": "en-GB"})
    assert reply.json == {"status": status, "errors": [{"code": key, "msg": english}]}


def test_unknown_route_and_malformed_json_in_german(client):
    assert client.get("/nowhere", headers={"culture.code": "de-DE"}).json["errors"] == [
        {"code": "NotFound", "msg": SYSTEM["NotFound"][1]}]
    reply = client.post("/demo/v1/todo", data="{broken", content_type="application/json",
                        headers={"culture.code": "de-DE"})
    assert reply.status_code == 400
    assert reply.json["errors"][0] == {"code": "BadRequest", "msg": SYSTEM["BadRequest"][1], "position": 1,
                                       "line": 1, "column": 2,
                                       "reason": "Expecting property name enclosed in double quotes"}


def test_deprecation_notice_is_mias(texts_client):
    body = texts_client.get("/t/old").json
    assert body == {"status": 200, "deprecated": True, "notice": NOTICE, "response": {"ok": True}}
    german = texts_client.get("/t/old", headers={"culture.code": "de-DE"}).json
    assert german["notice"] == ("Dieser Service is markiert als deprecated und der Service wird eingestellt werden. "
                                "Bitte verwenden Sie diesen Service nicht mehr.")


def test_integer_messages_name_integer_also_for_python_int(texts_client):
    reply = texts_client.get("/t/typed?a=1.5&b=x&c=y")
    assert reply.status_code == 400
    assert [(e["id"], e["msg"]) for e in reply.json["errors"]] == [
        ("a", "a is unexpected type. string given integer expected"),
        ("b", "b is unexpected type. string given integer expected"),
        ("c", "c is unexpected type. string given number expected")]
    assert texts_client.get("/t/typed?a=2&b=3&c=4.5").json["response"] == {"a": 2, "b": 3, "c": 4.5}
