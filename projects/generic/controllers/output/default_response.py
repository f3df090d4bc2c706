"""Output controllers that render ``res.response`` as mia.js's JSON envelope (generic §4.1)."""
from __future__ import annotations

from typing import Any

from core import Controller
from core.output import error_response


def envelope(req: Any, res: Any) -> dict[str, Any]:
    """``{"status": code, "deprecated"?: true, "notice"?: text, "response"?: ...}``."""
    body: dict[str, Any] = {"status": res.status_code or 200}
    route = req.mia.route
    if route is not None and route.deprecated:
        body["deprecated"] = True
        body["notice"] = req.mia.translator("generic-translations", "ServiceIsDeprecated")
    if res.response is not None:
        body["response"] = res.response
    return body


class DefaultResponse(Controller):
    """Sends ``{"status": res.status_code, "response": res.response}`` as JSON."""

    identity = "generic-defaultResponse"
    version = "1.0"
    group = "generic"

    def all(self, req: Any, res: Any) -> None:
        res.send(envelope(req, res), status=res.status_code or 200)


class DefaultJSONResponse(DefaultResponse):
    """mia.js's other name for the same output controller."""

    identity = "generic-defaultJSONResponse"


class DefaultJSONErrorResponse(Controller):
    """Error controller: the standard JSON error envelope (usable at the end of an errorController chain)."""

    identity = "generic-defaultJSONErrorResponse"
    version = "1.0"
    group = "generic"

    def all(self, err: BaseException, req: Any, res: Any) -> None:
        response = error_response(err, req, res.headers)
        res.send(response, status=response.status_code)
