"""The request's path, in order (DESIGN "The request's path").

1. match host + path + method (router)
2. route-level concerns: CORS (and preflight), guards (rate limit, overload), body parser
3. preconditions of every controller, then parameter overflow
4. the controller chain; an exception switches to the error-controller chain. On an ``idempotent``
   route the chain holds the idempotency claim right after the controllers that identify the caller
   (core/http/idempotency.py): a retry gets the stored answer there and the rest does not run
5. output: ``res.send`` result, or the JSON error envelope
6. idempotency settle: the answer of a claimed key is stored (or the key released on a 5xx)
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Response

from core.data.consistency import ROUTE_READ_PREFERENCE
from core.errors import MiaError, as_mia_error
from core.http import cors, idempotency
from core.http.body import parse_body
from core.http.chain import run_controllers, run_error_controllers
from core.http.context import MiaContext, MiaResponse
from core.http.output import error_response, finish
from core.http.router import Router
from core.validation.preconditions import check_overflow, validate_request

log = logging.getLogger("mia.pipeline")
Guard = Callable[[Any, Any, MiaResponse], None]


def _internal_error(err: BaseException) -> MiaError:
    wrapped = MiaError(500)
    wrapped.__cause__ = err
    return wrapped


@dataclass
class Pipeline:
    """Everything a request needs, built once at start-up."""

    router: Router
    default_culture: dict[str, str]
    guards: list[Guard] = field(default_factory=list)
    client_ip: Callable[[Any], tuple[str | None, str]] = lambda req: (req.remote_addr, req.scheme)
    after_response: list[Callable[[Any, Any, Response], None]] = field(default_factory=list)
    upgrade_router: Router | None = None  # the ws routes: a plain request for one answers 426

    def _unmatched(self, err: MiaError, req: Any) -> MiaError:
        """A 404 for a path that is a WebSocket route is ``426 UpgradeRequired`` (off the hot path)."""
        if err.status == 404 and self.upgrade_router is not None:
            try:
                self.upgrade_router.match(req.host, req.path, "GET")
            except MiaError:
                return err
            return MiaError(426, code="UpgradeRequired", headers={"Upgrade": "websocket"})
        return err

    def handle(self, req: Any) -> Response:
        try:
            environ = req.environ
            target, params = self.router.match(req.host if self.router.hosts.active else None,  # werkzeug's
                                               req.path, req.method,  # Host checks cost ~2 us: only when used
                                               environ.get("RAW_URI") or environ.get("REQUEST_URI"))
        except MiaError as err:  # 404 / 405 before any route is known
            req.mia = MiaContext(None, default_culture=self.default_culture, request=req)
            return error_response(self._unmatched(err, req), req)
        route = target.route
        ROUTE_READ_PREFERENCE.set(route.read_preference)  # every request sets it: threads are reused
        mia = req.mia = MiaContext(route.info, params, self.default_culture, request=req)
        mia.client_ip, mia.scheme = self.client_ip(req)
        res = MiaResponse()
        if route.cors_headers:
            headers, distinct = cors.cached_headers(route.cors_headers, route.cors_answers, environ.get("HTTP_ORIGIN"),
                                                    "OPTIONS" if target.preflight else route.verb)
            if target.preflight:
                return Response(b"", status=204, headers=headers)
            if distinct:
                res.headers._list.extend(headers.items())  # a fresh response: adding is replacing, and cheaper
            else:
                res.headers.update(headers)
        started = time.perf_counter()
        try:
            for guard in self.guards:
                guard(route, req, res)
            mia.body, mia.raw_body = parse_body(req, route.body_type, route.body_limit)
            validated = validate_request(route.preconditions, req)
            check_overflow(route.preconditions, req, route.info.parameter_overflow)
            run_controllers(route.controllers, req, res, validated)
        except Exception as err:  # noqa: BLE001 - every failure becomes the JSON envelope
            mia_error = as_mia_error(err)
            failure: BaseException = err
            if route.error_controllers:
                # Error controllers are promised a MiaError (.status, .errors): a pymongo outage is
                # the 503 it renders as, any other exception a 500 whose cause is the original.
                handed = mia_error or _internal_error(err)
                returned = run_error_controllers(route.error_controllers, handed, req, res)
                failure = err if returned is handed else returned
                handed = returned = None  # type: ignore[assignment]  # (see below: no cycle)
            if not res.sent:
                response = error_response(failure, req, res.headers)
                failure = mia_error = None  # type: ignore[assignment]  # no cycle through the traceback's frame
                if route.idempotency is not None:
                    self._settle(req, response)
                self._after(req, route, response)
                return response
            if mia_error is None:  # answered anyway (res.send twice, an error controller sent): keep the trace
                log.error("%s %s: %s raised, the response was already chosen", req.method, req.path,
                          type(failure).__name__, exc_info=failure)
            failure = mia_error = None  # type: ignore[assignment]
        mia.debug_info["total"] = {"runtime": round((time.perf_counter() - started) * 1000, 3)}
        try:
            response = finish(res)
        except Exception as err:  # noqa: BLE001 - a body JSON cannot encode: still the envelope, with CORS
            response = error_response(err, req, res.headers)
        if route.idempotency is not None:
            self._settle(req, response)
        self._after(req, route, response)
        return response

    @staticmethod
    def _settle(req: Any, response: Response) -> None:
        """Store the answer of a claimed idempotency key; a database failure leaves the answer as it is
        (the key stays running until its lease ends, then a retry runs the chain again)."""
        try:
            idempotency.settle(req, response)
        except Exception:  # noqa: BLE001 - the client still gets the answer its request produced
            log.exception("%s %s: the idempotent answer could not be stored", req.method, req.path)

    def _after(self, req: Any, route: Any, response: Response) -> None:
        for hook in self.after_response:
            hook(req, route, response)
