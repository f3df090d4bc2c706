"""Todo logic shared by the demo's controllers, reached through ``Shared.libs("demo-lib")``.

Why a lib: the public and the authorized routes run the same controllers, and a cron or another
project can list or seed todos without going through HTTP.
"""
from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from core import Lib, MiaError, Shared

log = logging.getLogger("mia.demo")

OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")
SORT_FIELDS = ["name", "status", "created", "lastModified"]
MAX_SKIP = 2**63 - 1
LIVE_FEEDS = ("/demo/v1/live/todos", "/demo-auth/v1/live/todos")  # ws routes: JWT and signed-key clients


class DemoLib(Lib):
    identity = "demo-lib"
    version = "1.0"

    @staticmethod
    def model() -> Any:
        return Shared.models("demo-todos")

    @staticmethod
    def now() -> datetime:
        """Millisecond precision, so a datetime reads back from MongoDB unchanged."""
        moment = datetime.now(UTC)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    @staticmethod
    def object_id(value: str) -> ObjectId:
        """The ObjectId of a 24-hex id; preconditions check the shape, this guards direct callers."""
        if not isinstance(value, str) or not OBJECT_ID.match(value):
            raise MiaError(400, code="InvalidId", msg="The id must be 24 hexadecimal characters")
        return ObjectId(value)

    def seed_if_empty(self) -> int:
        """Insert ``demo-config.todos`` when the collection is empty; returns how many were added.

        Two first requests at once may both seed: the unique name index lets only one copy in,
        and the loser's 409 is ignored here.
        """
        model = self.model()
        if model.find_one({}, {"_id": 1}) is not None:
            return 0
        now = self.now()
        todos = [{**todo, "group": "demo", "created": now, "lastModified": now}
                 for todo in Shared.config("demo-config.todos") or []]
        try:
            return len(model.insert_many(todos, ordered=False))
        except MiaError as err:
            if err.status != 409:
                raise
            return 0

    def list_todos(self, limit: int = 25, skip: int = 0, sort: str = "created",
                   ascending: bool = True) -> list[dict[str, Any]]:
        """One page of todos; ``limit`` 0 means the default 25 (as mia.js), ties broken by ``_id``."""
        field = {name.lower(): name for name in SORT_FIELDS}.get(str(sort).lower(), "created")
        direction = 1 if ascending else -1
        self.seed_if_empty()
        if (skip or 0) > MAX_SKIP:  # MongoDB takes 64-bit integers only; nothing is that far anyway
            return []
        return self.model().find({}, sort=[(field, direction), ("_id", direction)], skip=skip or 0,
                                 limit=limit or 25)

    def get_todo(self, todo_id: str) -> dict[str, Any] | None:
        return self.model().find_one({"_id": self.object_id(todo_id)})

    @staticmethod
    def announce(event: str, todo: dict[str, Any]) -> None:
        """Tell every client of the live feed, in every worker and server; never fails the request."""
        for path in LIVE_FEEDS:
            try:
                Shared.ws(path).broadcast({"event": event, "todo": todo})
            except Exception:  # noqa: BLE001 - the todo is stored; a lost notification is only logged
                log.warning("could not broadcast %s on %s", event, path, exc_info=True)

    def create_todo(self, values: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        stored = self.model().insert_one({**values, "group": "demo", "created": now, "lastModified": now})
        self.announce("created", stored)
        return stored

    def update_todo(self, todo_id: str, values: dict[str, Any]) -> bool:
        """Change the given fields; False when no todo has that id (no upsert, unlike mia.js)."""
        changes = {k: v for k, v in values.items() if k in ("name", "status")}
        updated = self.model().find_one_and_update({"_id": self.object_id(todo_id)},
                                                   {"$set": {**changes, "lastModified": self.now()}})
        if updated is None:
            return False
        self.announce("updated", updated)
        return True

    def delete_todo(self, todo_id: str) -> bool:
        deleted = self.model().collection().find_one_and_delete({"_id": self.object_id(todo_id)})
        if deleted is None:
            return False
        self.announce("deleted", deleted)
        return True
