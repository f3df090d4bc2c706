"""The demo's todo items (collection ``demo-todos``); ``name`` is unique, so duplicates answer 409."""
from datetime import datetime

from core import BaseModel

STATUSES = ["unchecked", "checked"]


class TodoModel(BaseModel):
    identity = "demo-todos"
    version = "1.0"
    collection_name = "demo-todos"
    data = {
        "_id": {},
        "name": {"type": str, "required": True, "unique": True, "minLength": 1, "maxLength": 200},
        # mia.js misspelled this rule ("allowed"), so its demo never enforced it; here it is enforced.
        "status": {"type": str, "allow": STATUSES, "convert": "lower", "default": "unchecked"},
        "group": {"type": str, "default": "demo"},
        # sha256 of the creating device's id (the device id itself is a bearer value); never sent out.
        "owner": {"type": str},
        # req.mia.idempotency.id of the request that created it (idempotent create: README "Idempotent requests")
        "idempotencyId": {"type": str, "unique": True, "sparse": True},
        "created": {"type": datetime},
        "lastModified": {"type": datetime},
    }
