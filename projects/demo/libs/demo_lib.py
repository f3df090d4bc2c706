"""Todo logic shared by the demo's controllers, reached through ``Shared.libs("demo-lib")``.

Why a lib: the public and the authorized routes run the same controllers, and a cron or another
project can list or seed todos without going through HTTP.
"""
from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from core import Lib, MiaError, Shared

log = logging.getLogger("mia.demo")

OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")
SORT_FIELDS = ["name", "status", "created", "lastModified"]
_SORT_BY_LOWER = {name.lower(): name for name in SORT_FIELDS}
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
        """One page of todos; ``limit`` 0 means the default 25 (as mia.js), ties broken by ``_id``.

        An empty collection is seeded first. The page itself tells when to look: only an empty page
        can come from an empty collection, so a list costs one query, not a check plus a query.
        """
        field = _SORT_BY_LOWER.get(str(sort).lower(), "created")
        direction = 1 if ascending else -1
        if (skip or 0) > MAX_SKIP:  # MongoDB takes 64-bit integers only; nothing is that far anyway
            self.seed_if_empty()
            return []
        page = self._page(field, direction, skip or 0, limit or 25)
        if not page and self.seed_if_empty():
            page = self._page(field, direction, skip or 0, limit or 25)
        return page

    def _page(self, field: str, direction: int, skip: int, limit: int) -> list[dict[str, Any]]:
        return self.model().find({}, {"owner": 0}, sort=[(field, direction), ("_id", direction)], skip=skip,
                                 limit=limit)

    def get_todo(self, todo_id: str) -> dict[str, Any] | None:
        return self.model().find_one({"_id": self.object_id(todo_id)}, {"owner": 0})

    @staticmethod
    def owner_of(device: dict[str, Any] | None) -> str | None:
        """The owner mark of a todo created by ``device`` (None: created anonymously)."""
        if not device or not device.get("id"):
            return None
        return hashlib.sha256(str(device["id"]).encode("utf-8")).hexdigest()

    @staticmethod
    def _owned_by(owner: str | None) -> dict[str, Any]:
        """Anonymous callers change only anonymous todos; a device only its own and anonymous ones."""
        anonymous = {"owner": {"$exists": False}}
        return anonymous if owner is None else {"$or": [anonymous, {"owner": owner}]}

    @staticmethod
    def announce(event: str, todo: dict[str, Any]) -> None:
        """Tell every client of the live feed, in every worker and server; never fails the request."""
        public = {k: v for k, v in todo.items() if k != "owner"}  # the owner mark stays on the server
        for path in LIVE_FEEDS:
            try:
                Shared.ws(path).broadcast({"event": event, "todo": public})
            except Exception:  # noqa: BLE001 - the todo is stored; a lost notification is only logged
                log.warning("could not broadcast %s on %s", event, path, exc_info=True)

    def create_todo(self, values: dict[str, Any], owner: str | None = None, once: str | None = None
                    ) -> dict[str, Any]:
        """Insert a todo. ``once`` (``req.mia.idempotency.id``) makes a re-run after a crash find the
        todo its first run wrote instead of answering 409: the write is exactly-once per idempotency key."""
        now = self.now()
        document = {**values, "group": "demo", "created": now, "lastModified": now}
        if owner is not None:
            document["owner"] = owner
        if once is not None:
            document["idempotencyId"] = once
        try:
            stored = self.model().insert_one(document)
        except MiaError as err:
            earlier = self.model().find_one({"idempotencyId": once}) if once is not None and err.status == 409 else None
            if earlier is None:
                raise
            return earlier
        self.announce("created", stored)
        return stored

    def update_todo(self, todo_id: str, values: dict[str, Any], owner: str | None = None) -> bool:
        """Change the given fields; False when no todo has that id or it belongs to someone else."""
        changes = {k: v for k, v in values.items() if k in ("name", "status")}
        updated = self.model().find_one_and_update({"_id": self.object_id(todo_id), **self._owned_by(owner)},
                                                   {"$set": {**changes, "lastModified": self.now()}})
        if updated is None:
            return False
        self.announce("updated", updated)
        return True

    def delete_todo(self, todo_id: str, owner: str | None = None) -> bool:
        flt = {"_id": self.object_id(todo_id), **self._owned_by(owner)}
        deleted = self.model().collection().find_one_and_delete(flt)
        if deleted is None:
            return False
        self.announce("deleted", deleted)
        return True
