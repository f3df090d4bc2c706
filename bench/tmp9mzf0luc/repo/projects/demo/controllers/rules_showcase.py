"""A route that uses every precondition rule, so ``curl`` shows mia.js's exact error output."""
from __future__ import annotations

import re
from typing import Any

from core import Controller


def _split_name(value: Any) -> dict[str, Any]:
    """Virtual: ``"Ada Lovelace"`` also fills ``firstName`` and ``lastName``."""
    first, _, last = str(value).partition(" ")
    return {"firstName": first, "lastName": last}


class RulesShowcase(Controller):
    identity = "demo-rulesShowcase"
    version = "1.0"
    group = "demo"
    preconditions = {
        "all": {
            "parameters": {
                "header": {
                    "x-client": {"type": str, "minLength": 2, "maxLength": 20, "desc": "Client name"},
                },
                "query": {
                    "limit": {"type": int, "min": 1, "max": 100, "default": 25},
                    "sort": {"type": str, "allow": ["name", "created"], "default": "created"},
                    "fields": {"type": str, "allowMultiple": ["name", "status", "created"]},
                    "status": {"type": str, "deny": ["deleted"], "convert": ["trim", "lower"]},
                    "ascending": {"type": bool},
                    "since": {"type": "Date"},
                    "tags": {"type": list, "subType": str, "maxLength": 10},
                },
                "path": {
                    "code": {"type": str, "match": re.compile(r"^[a-z]{2}\d{2}$", re.IGNORECASE),
                             "convert": "upper"},
                },
                "body": {
                    "name": {"type": str, "required": True, "minLength": 2, "maxLength": 40},
                    "fullName": {"type": str, "virtual": _split_name},
                    "firstName": {"type": str},
                    "lastName": {"type": str},
                    "age": {"type": int, "min": 0, "max": 150, "nullable": True},
                    "email": {"type": str, "match": r"^[^@\s]+@[^@\s]+$", "convert": "lower"},
                    "address": {
                        "city": {"type": str, "required": True},
                        "zip": {"type": str, "match": r"^\d{5}$"},
                    },
                    "items": [{"sku": {"type": str, "required": True}, "qty": {"type": int, "min": 1}}],
                    "secret": {"type": str, "public": {"set": True, "get": False}},
                },
            },
            "responses": {200: "Success", 400: ["MissingRequiredParameter", "UnexpectedType"]},
        }
    }

    def all(self, req: Any, res: Any) -> None:
        res.response = req.mia.validated_parameters
