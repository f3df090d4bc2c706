"""Turns the codes the identity libs raise into translated messages in the caller's language.

The libs raise ``MiaError(status, code=...)`` without a message (they know no request); the
controllers fill the message from ``generic-translations`` in the culture of the request, or of
its device once ``generic-validateAccessKey`` attached one.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core import Lib, MiaError, Shared

GROUP = "generic-translations"


class IdentityErrors(Lib):
    identity = "generic-identityErrors"
    version = "1.0"

    @staticmethod
    def localise(req: Any, err: MiaError) -> MiaError:
        texts = getattr(Shared.configs.get(GROUP), "translations", {}) if Shared.configs.has(GROUP) else {}
        for entry in err.errors:
            code = entry.get("code")
            if "msg" not in entry and code in texts:
                entry["msg"] = req.mia.translator(GROUP, code)
        return err

    @contextmanager
    def localised(self, req: Any) -> Iterator[None]:
        """``with errors.localised(req): ...``: MiaErrors leave with translated messages."""
        try:
            yield
        except MiaError as err:
            raise self.localise(req, err) from None

    @staticmethod
    def error(req: Any, status: int, code: str, headers: dict[str, str] | None = None) -> MiaError:
        return MiaError(status, code=code, msg=req.mia.translator(GROUP, code), headers=headers)

    @staticmethod
    def credentials_realm(req: Any) -> dict[str, str]:
        """mia.js's header on user-token 401s: ``Credentials realm="<proto>://<host><route url>"``."""
        route = req.mia.route
        url = route.url if route is not None else req.path
        return {"WWW-Authenticate": f'Credentials realm="{req.mia.scheme or req.scheme}://{req.host}{url}"'}
