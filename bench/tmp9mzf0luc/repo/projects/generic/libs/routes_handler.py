"""generic-routesHandler (generic §0.7): the public path of a route file.

mia.js's web projects call ``getPublicPath(routesFile)`` for their bundler's public path: the
file's first prefix plus ``/``, or ``/`` when it has none.
"""
from __future__ import annotations

from typing import Any

from core import Lib


class RoutesHandler(Lib):
    identity = "generic-routesHandler"
    version = "1.0"

    def get_public_path(self, routes: Any) -> str:
        """``{"prefix": ["/web/v1", ...]}`` -> ``"/web/v1/"``; no prefix -> ``"/"``.

        Takes a route file's ``routes`` dict, a loaded route file (``.definition``) or a route module.
        """
        definition = getattr(routes, "definition", None) or getattr(routes, "routes", None) or routes
        prefix = definition.get("prefix") if isinstance(definition, dict) else None
        if isinstance(prefix, (list, tuple)):
            prefix = prefix[0] if prefix else None
        return f"{prefix}/" if prefix else "/"

    getPublicPath = get_public_path  # mia.js's name
