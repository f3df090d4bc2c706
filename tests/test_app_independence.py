"""``create_app()`` twice in one process gives two independent apps: registries, databases, caches.

Before, ``Shared`` was one class-level registry: after a second ``create_app()`` the first app read
the second one's database (the demo's 6 todos became 5) and its projects' identities.
"""
from __future__ import annotations

from pathlib import Path

from conftest import ROOT, ProjectTree
from core.app.factory import create_app
from core.shared import Shared

NOTES_MODEL = '''
from core import BaseModel

class Notes(BaseModel):
    identity = "notes-model"
    collection_name = "notes"
    data = {"text": {"type": str, "required": True}}
'''

NOTES_CONTROLLER = '''
from core import Controller, Shared
from core.data.cache import Cached

class Notes(Controller):
    identity = "notes"
    preconditions = {"create": {"parameters": {"body": {"text": {"type": str, "required": True}}},
                                "responses": {200: "Success"}}}

    def list(self, req, res):
        res.response = {"project": Shared.config("PROJECT-config.name"),
                        "notes": [d["text"] for d in Shared.models("notes-model").find({}, {"_id": 0})],
                        "cached": Cached("which", 60, lambda: Shared.config("PROJECT-config.name"))["value"]}

    def create(self, req, res):
        Shared.models("notes-model").insert_one({"text": req.mia.validated_parameters["body"]["text"]})
        res.response = {"ok": True}
'''

NOTES_ROUTES = '''
routes = {"group": "PROJECT", "prefix": "/PROJECT/v1", "routes": {"./notes": {
    "list": {"identity": "notes-list", "controller": [{"name": "notes"}, {"name": "out"}]},
    "create": {"identity": "notes-create", "controller": [{"name": "notes"}, {"name": "out"}]},
}}}
'''


def notes_tree(root: Path, project: str) -> ProjectTree:
    tree = ProjectTree(root)
    tree.write(f"projects/{project}/models/notes.py", NOTES_MODEL)
    tree.write(f"projects/{project}/controllers/notes.py", NOTES_CONTROLLER.replace("PROJECT", project))
    tree.write(f"projects/{project}/routes/notes.py", NOTES_ROUTES.replace("PROJECT", project))
    tree.write(f"projects/{project}/config/name.py", f'''
        from core import Config

        class Name(Config):
            identity = "{project}-config"
            name = "{project}"
        ''')
    return tree


def test_two_apps_with_different_projects_and_databases_each_answer_their_own(tmp_path):
    first = notes_tree(tmp_path / "a", "alpha").app()
    first_client = first.test_client()
    assert first_client.post("/alpha/v1/notes", json={"text": "from alpha"}).status_code == 200
    second = notes_tree(tmp_path / "b", "beta").app()
    second_client = second.test_client()
    assert second_client.post("/beta/v1/notes", json={"text": "from beta"}).status_code == 200
    assert second_client.post("/beta/v1/notes", json={"text": "beta again"}).status_code == 200
    try:
        alpha = first_client.get("/alpha/v1/notes").get_json()["response"]
        beta = second_client.get("/beta/v1/notes").get_json()["response"]
        assert alpha == {"project": "alpha", "notes": ["from alpha"], "cached": "alpha"}
        assert beta == {"project": "beta", "notes": ["from beta", "beta again"], "cached": "beta"}
        assert first_client.get("/beta/v1/notes").status_code == 404  # its own routes only
        assert first.config["mia.databases"] is not second.config["mia.databases"]
        assert first.config["mia.cache"] is not second.config["mia.cache"]
        with first.app_context():  # outside a request, the app's context picks its registry
            assert Shared.config("alpha-config.name") == "alpha" and Shared.config("beta-config.name") is None
            assert Shared.models("notes-model").count({}) == 1
        assert Shared.config("beta-config.name") == "beta"  # no context: the most recently built app
    finally:
        first.config["mia.databases"].close_all()
        second.config["mia.databases"].close_all()


def test_the_demo_app_keeps_its_todos_after_a_second_create_app():
    first = create_app("test", ROOT)
    client = first.test_client()
    try:
        assert len(client.get("/demo/v1/todo").get_json()["response"]) == 5  # seeded on first list
        assert client.post("/demo/v1/todo", json={"name": "only in the first app"}).status_code == 200
        second = create_app("test", ROOT)
        try:
            assert len(client.get("/demo/v1/todo").get_json()["response"]) == 6
            assert len(second.test_client().get("/demo/v1/todo").get_json()["response"]) == 5
            assert len(client.get("/demo/v1/todo").get_json()["response"]) == 6
        finally:
            second.config["mia.databases"].close_all()
    finally:
        first.config["mia.databases"].close_all()
