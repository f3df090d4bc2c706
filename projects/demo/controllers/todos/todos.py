"""The todos API (mia.js's handleTodos controller): list, index, create, update, delete.

Each function is named after its route method key, so the route files need no ``function``.
The work is done by ``demo-lib`` (reached through ``Shared.libs``); this class declares what each
function accepts and turns "nothing there" into translated 404s. Every answer carries the header
``About: This is a demo api``. A todo created with a key (``/demo-auth/v1``) belongs to that
device: anonymous callers (``/demo/v1``) and other devices cannot change or delete it (404).
"""
from __future__ import annotations

from typing import Any

from core import Controller, MiaError, Shared

ABOUT = "This is a demo api"
STATUS = {"type": str, "allow": ["unchecked", "checked"], "convert": "lower",
          "desc": "Status of item in list allowed [checked|unchecked]"}


def _id_path(desc: str = "Id of todo item") -> dict[str, Any]:
    """The path parameter ``id`` (24 hex characters: a malformed id is a 400, not mia.js's 500)."""
    return {"id": {"type": str, "required": True, "match": r"^[0-9a-fA-F]{24}$", "desc": desc}}


def _lib() -> Any:
    return Shared.libs("demo-lib")


def _about(res: Any) -> None:
    res.headers["About"] = ABOUT


class Todos(Controller):
    identity = "demo-todos"
    version = "1.0"
    group = "demo"
    preconditions = {
        "list": {
            "parameters": {"query": {
                "limit": {"type": int, "min": 0, "max": 100, "default": 25,
                          "desc": "Number of items"},
                "skip": {"type": int, "min": 0, "default": 0, "desc": "Skip number of items for paging"},
                "sort": {"type": str, "allow": ["name", "status", "created", "lastModified"],
                         "default": "created", "desc": "Sort by name or lastModified"},
                "ascending": {"type": bool, "default": True, "desc": "Sort ascending"},
            }},
            "responses": {200: "Success"},
        },
        "index": {
            "parameters": {"path": _id_path()},
            "responses": {200: "Success"},
        },
        "create": {
            "parameters": {"body": {
                "name": {"type": str, "required": True, "minLength": 1, "maxLength": 200,
                         "desc": "Name of todo item"},
                "status": STATUS,
            }},
            "responses": {200: "Success", 409: "DuplicateKey"},
        },
        "update": {
            "parameters": {"path": _id_path(), "body": {
                "name": {"type": str, "minLength": 1, "maxLength": 200, "desc": "Name of todo item to update"},
                "status": STATUS,
            }},
            "responses": {200: "Success", 404: "NothingToUpdate", 409: "DuplicateKey"},
        },
        "delete": {
            "parameters": {"path": _id_path("Id of todo item to delete")},
            "responses": {200: "Success", 404: "NothingToRemove"},
        },
    }

    def list(self, req: Any, res: Any) -> None:
        _about(res)
        query = req.mia.validated_parameters["query"]
        res.response = _lib().list_todos(limit=query["limit"], skip=query["skip"], sort=query["sort"],
                                         ascending=query["ascending"])

    def index(self, req: Any, res: Any) -> None:
        """An array, empty when the id is unknown: the shape mia.js's clients expect."""
        _about(res)
        todo = _lib().get_todo(req.mia.validated_parameters["path"]["id"])
        res.response = [todo] if todo else []

    def create(self, req: Any, res: Any) -> None:
        _about(res)
        claim = getattr(req.mia, "idempotency", None)  # set when the request carries an Idempotency-Key
        stored = _lib().create_todo(req.mia.validated_parameters["body"], _lib().owner_of(req.mia.device),
                                    once=claim.id if claim is not None else None)
        res.response = {"id": str(stored["_id"])}

    def update(self, req: Any, res: Any) -> None:
        _about(res)
        params = req.mia.validated_parameters
        if not _lib().update_todo(params["path"]["id"], params.get("body") or {}, _lib().owner_of(req.mia.device)):
            raise MiaError(404, code="NothingToUpdate",
                           msg=req.mia.translator("demo-translations", "NothingToUpdate"))

    def delete(self, req: Any, res: Any) -> None:
        _about(res)
        if not _lib().delete_todo(req.mia.validated_parameters["path"]["id"], _lib().owner_of(req.mia.device)):
            raise MiaError(404, code="NothingToRemove",
                           msg=req.mia.translator("demo-translations", "NothingToRemove"))
