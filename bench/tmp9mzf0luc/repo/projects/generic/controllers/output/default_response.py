"""Output controllers that render ``res.response`` as mia.js's JSON envelope (generic §4.1).

The ``filter`` query parameter (mia.js dropped it in 0.8.7 but its manual still documents it) is
offered again as the client's opt-in: without it the response is unchanged.
"""
from __future__ import annotations

from typing import Any

from core import Controller
from core.http.output import debug_block, debug_enabled, error_response

FILTER_PRECONDITION = {
    "parameters": {"query": {"filter": {
        "type": str, "maxLength": 1000,
        "desc": "Filter response by filter string i.e. 'id' to only return elements with name id. "
                "To receive multiple elements use , as delimiter"}}},
    "responses": {200: "Success"},
}


def filter_response(value: Any, names: set[str]) -> Any:
    """Keep the subtrees whose key is in ``names``; containers survive only when something is left.

    ``[{"_id": 1, "name": "a", "status": "x"}]`` with ``{"name"}`` gives ``[{"name": "a"}]``.
    """
    if isinstance(value, dict):
        kept: dict[str, Any] = {}
        for key, item in value.items():
            if key in names:
                kept[key] = item
            elif isinstance(item, (dict, list)):
                inner = filter_response(item, names)
                if inner:
                    kept[key] = inner
        return kept
    if isinstance(value, list):
        return [inner for inner in (filter_response(item, names) for item in value
                                    if isinstance(item, (dict, list))) if inner]
    return value


def requested_filter(req: Any) -> set[str]:
    """The element names of ``?filter=a,b`` (validated by the precondition), or an empty set."""
    text = (req.mia.validated_parameters.get("query") or {}).get("filter")
    if not isinstance(text, str):
        return set()
    return {name.strip() for name in text.split(",") if name.strip()}


def envelope(req: Any, res: Any) -> dict[str, Any]:
    """``{"status": code, "deprecated"?: true, "notice"?: text, "debug"?: ..., "response"?: ...}``."""
    body: dict[str, Any] = {"status": res.status_code or 200}
    route = req.mia.route
    if route is not None and route.deprecated:
        body["deprecated"] = True
        body["notice"] = req.mia.translator("generic-translations", "ServiceIsDeprecated")
    if debug_enabled(req):
        body["debug"] = debug_block(req, None)
    if res.response is not None:
        names = requested_filter(req)
        body["response"] = filter_response(res.response, names) if names else res.response
    return body


class DefaultResponse(Controller):
    """Sends ``{"status": res.status_code, "response": res.response}`` as JSON."""

    identity = "generic-defaultResponse"
    version = "1.0"
    group = "generic"
    preconditions = {"all": FILTER_PRECONDITION}

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
