"""One error family for the whole framework.

Every failure a client can see is a :class:`MiaError` (or a subclass) and leaves the server as
mia.js's envelope ``{"status": s, "errors": [{"code": ..., "msg": ...}]}``. Start-up problems are
:class:`StartupError`: they stop the process loudly and name the file at fault.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Translation keys (group "system") used when an error carries no entries of its own.
DEFAULT_CODES: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    408: "RequestTimeout",
    410: "Gone",
    412: "PreconditionFailed",
    413: "PayloadTooLarge",
    414: "URITooLong",
    415: "UnsupportedMediaType",
    429: "RateLimitExceeded",
    431: "RequestHeaderFieldsTooLarge",
    500: "InternalServerError",
    503: "ServiceUnavailable",
    504: "ControllerTimeout",
}


def default_code(status: int) -> str:
    """The translation key of the default entry for ``status`` (500's for unknown ones)."""
    return DEFAULT_CODES.get(status, "InternalServerError")


class MiaError(Exception):
    """An error with an HTTP status and a list of ``{code, msg, ...}`` entries.

    ``MiaError(403)`` uses the translated default entry for 403 at output time;
    ``MiaError(409, code="Conflict", msg="Already there")`` one entry (``msg`` may be left out:
    it is then translated from ``code``); ``MiaError(400, errors=[...])`` several entries.
    """

    def __init__(
        self,
        status: int = 500,
        code: str | None = None,
        msg: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.status = int(status)
        if errors is not None:
            self.errors = [dict(e) for e in errors]
        elif code is not None or msg is not None:
            entry: dict[str, Any] = {}
            if code is not None:
                entry["code"] = code
            if msg is not None:
                entry["msg"] = msg
            entry.update(extra)
            self.errors = [entry]
        else:
            self.errors = []
        self.headers = dict(headers or {})
        super().__init__(self._summary())

    def _summary(self) -> str:
        if not self.errors:
            return f"{self.status} {default_code(self.status)}"
        first = self.errors[0]
        return f"{self.status} {first.get('code', '')}: {first.get('msg', '')}".strip()


class ValidationError(MiaError):
    """Parameter or document validation failed; ``errors`` lists every failing field."""

    def __init__(self, errors: list[dict[str, Any]], status: int = 400) -> None:
        super().__init__(status, errors=errors)


class ServiceUnavailable(MiaError):
    """A dependency (database, cache cluster, ...) is down: 503 with a clear code."""

    def __init__(self, code: str = "ServiceUnavailable", msg: str | None = None,
                 retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        super().__init__(503, code=code, msg=msg, headers=headers)


class StartupError(Exception):
    """A project declaration is wrong; the server refuses to start and names the file."""

    def __init__(self, message: str, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{message} (in {path})" if path else message)


# Functions that turn a foreign exception (a pymongo error, say) into a MiaError, or return None.
# Modules that own a dependency register here at import time (core.data.databases maps database errors).
_translators: list[Callable[[BaseException], MiaError | None]] = []


def register_translator(fn: Callable[[BaseException], MiaError | None]) -> None:
    if fn not in _translators:
        _translators.append(fn)


def as_mia_error(err: BaseException) -> MiaError | None:
    """``err`` itself if it is a MiaError, else the first registered translation of it."""
    if isinstance(err, MiaError):
        return err
    for fn in _translators:
        translated = fn(err)
        if translated is not None:
            return translated
    return None
