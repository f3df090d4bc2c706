"""Test-mode response checking: responses must match the route's declared ``responseSchemes``.

Why: ``responseSchemes`` end up in the OpenAPI document that clients are generated from; if a
controller answers something else, the docs lie. With the environment flag
``checkResponseSchemes: true`` (config/env/test.py sets it) every JSON response of a route that
declares ``responseSchemes`` is validated against the same JSON Schema the docs publish
(``success`` for 2xx, ``error`` for 4xx/5xx). A mismatch fails loudly: it is logged at ERROR and the
response is replaced by ``500 {"status": 500, "errors": [{"code": "ResponseSchemeMismatch", "msg": ...}]}``,
so any test that looks at the answer fails and names the offending field. Off by default: it costs a
JSON parse per response.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from flask import Response

from core.data.jsonutil import dumps
from core.startup.routes import RouteMethod

log = logging.getLogger("mia.responsecheck")
MISMATCH_CODE = "ResponseSchemeMismatch"


def _as_json_schema(schema: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` -> JSON Schema's ``type: [t, "null"]`` (recursively)."""
    if isinstance(schema, list):
        return [_as_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _as_json_schema(v) for k, v in schema.items() if k != "nullable"}
    if schema.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def enabled(environment: dict[str, Any]) -> bool:
    return environment.get("checkResponseSchemes") is True


class ResponseChecker:
    """A ``Pipeline.after_response`` hook holding one compiled validator per route and kind."""

    def __init__(self, routes: list[RouteMethod]) -> None:
        from jsonschema import Draft7Validator  # imported only when the check is on (tests): it is slow to load

        from core.app.docs.openapi import response_schemes

        self.validators: dict[int, dict[str, Any]] = {}
        for route in routes:
            schemes = response_schemes(route) if route.response_schemes else {}
            if schemes:
                self.validators[id(route)] = {kind: Draft7Validator(_as_json_schema(schema))
                                              for kind, schema in schemes.items()}

    def __call__(self, req: Any, route: Any, response: Response) -> None:
        validators = self.validators.get(id(route))
        if not validators or response.status_code == 204:
            return
        kind = "success" if response.status_code < 300 else "error" if response.status_code >= 400 else None
        validator = validators.get(kind) if kind else None
        if validator is None or response.mimetype != "application/json":
            return
        try:
            body = json.loads(response.get_data())
        except ValueError:
            problems = ["the body is not valid JSON"]
        else:
            problems = [f"{'.'.join(str(p) for p in e.absolute_path) or '(body)'}: {e.message}"
                        for e in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))]
        if not problems:
            return
        msg = (f"{route.verb} {route.path} answered {response.status_code} not matching responseSchemes.{kind}: "
               + "; ".join(problems[:5]))
        log.error(msg)
        response.status_code = 500
        response.set_data(dumps({"status": 500, "errors": [{"code": MISMATCH_CODE, "msg": msg}]}))
        response.mimetype = "application/json"


def install(pipeline: Any, routes: list[RouteMethod], environment: dict[str, Any]) -> ResponseChecker | None:
    """Hook the checker into the pipeline when the environment asks for it."""
    if not enabled(environment):
        return None
    checker = ResponseChecker(routes)
    if checker.validators:
        pipeline.after_response.append(checker)
    return checker
