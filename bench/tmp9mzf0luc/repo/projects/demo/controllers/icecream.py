"""The manual's ice-cream example: one controller, one precondition, one route."""
from __future__ import annotations

from typing import Any

from core import Controller


class IceCream(Controller):
    identity = "myIceCreamController"
    version = "1.0"
    group = "demo"
    preconditions = {
        "favoriteFlavour": {
            "parameters": {
                "query": {
                    "flavour": {
                        "type": str,
                        "allow": ["cookies and cream", "vanilla", "strawberry"],
                        "convert": "lower",
                        "required": True,
                        "desc": "Your favourite flavour",
                    }
                }
            },
            "responses": {200: "Success"},
        }
    }

    def favoriteFlavour(self, req: Any, res: Any) -> None:  # noqa: N802 - name used in the route file
        res.response = f"I love {req.mia.validated_parameters['query']['flavour']} icecream"
