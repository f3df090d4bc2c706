"""Where a project's own access check would go (mia.js's demo-checkAccess placeholder)."""
from __future__ import annotations

from typing import Any

from core import Controller


class CheckAccess(Controller):
    """Lets every request through; replace ``all`` with a real check (raise ``MiaError(403)`` to refuse)."""

    identity = "demo-checkAccess"
    version = "1.0"
    group = "demo"

    def all(self, req: Any, res: Any) -> None:
        req.mia.access_checked = True  # a later controller could rely on this mark
