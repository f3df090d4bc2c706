"""What a controller function receives: ``req.mia`` (the request's mia namespace) and ``res``.

``req`` is Flask's request object with a ``mia`` attribute (:class:`MiaContext`); ``res`` is a
:class:`MiaResponse` that collects ``response``, ``status_code`` and ``headers`` until a
controller calls ``res.send(...)``, which ends the chain.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import Headers

from core.http.querystring import parse_query_string
from core.translator import parse_culture_code, translate


@dataclass(frozen=True)
class RouteInfo:
    """The matched route method, as controllers see it in ``req.mia.route``."""

    identity: str | None
    group: str | None
    version: str | None
    prefix: str
    url: str
    method: str          # the route method key: list, index, create, update, delete, get, post, put, del
    request_method: str  # GET, POST, PUT, DELETE
    host_id: str
    deprecated: bool
    name: str
    rate_limits: tuple[dict[str, int], ...] = ()
    parameter_overflow: str = "ignore"


class MiaContext:
    """``req.mia``: route, validated parameters, device, user data, session, culture, translator.

    Controllers may add attributes of their own (as mia.js controllers add keys to ``req.miajs``).
    """

    def __init__(self, route: RouteInfo | None, params: dict[str, str] | None = None,
                 default_culture: dict[str, str] | None = None, request: Any = None) -> None:
        # The request header ``culture.code`` (``de-DE``) wins over the device's and the default culture.
        code = request.environ.get("HTTP_CULTURE.CODE") if request is not None else None  # headers.get, minus its cost
        self.route = route
        self.params = params or {}
        self.validated_parameters: dict[str, Any] = {}
        self.common_validated_parameters: list[dict[str, Any]] = []
        self.device: dict[str, Any] | None = None
        self.user_data: dict[str, Any] | None = None
        self.session: dict[str, Any] | None = None
        self._query: dict[str, Any] | None = None
        # parsed on first use of ``query``; the string, not the request, is kept: the request holds this
        # context, and a reference back would make a cycle only the garbage collector frees
        self._query_string: str = request.environ.get("QUERY_STRING", "") if request is not None else ""
        self.body: Any = None
        self.raw_body: bytes = b""
        self.client_ip: str | None = None
        self.scheme: str | None = None
        self.debug_info: dict[str, Any] = {}
        self._culture_header = parse_culture_code(code) if code else None
        self._default_culture = default_culture or {"language": "en", "region": "gb"}

    @property
    def culture(self) -> dict[str, str]:
        """Request header ``culture.code``, else the device's culture, else the default (spec §2.9)."""
        if self._culture_header:
            return {"language": self._culture_header[0], "region": self._culture_header[1]}
        device_culture = (self.device or {}).get("culture") if isinstance(self.device, dict) else None
        if isinstance(device_culture, dict) and device_culture.get("language"):
            return {"language": str(device_culture.get("language")).lower(),
                    "region": str(device_culture.get("region") or "").lower()}
        return dict(self._default_culture)

    @property
    def query(self) -> dict[str, Any]:
        """The query string as express's ``qs`` parsed it; parsed on first use (most routes never ask)."""
        if self._query is None:
            self._query = parse_query_string(self._query_string)
        return self._query

    @query.setter
    def query(self, value: dict[str, Any]) -> None:
        self._query = value

    @property
    def raw_body_text(self) -> str:
        return self.raw_body.decode("utf-8", errors="replace")

    def translator(self, group: str | None, key: str, replacements: Any = None) -> str:
        """Translate ``key`` of ``group`` into the request's culture at call time."""
        culture = self.culture
        return translate(group, key, culture.get("language"), culture.get("region"), replacements)


@dataclass
class MiaResponse:
    """``res``: what the chain builds; ``send`` ends the chain."""

    response: Any = None
    status_code: int | None = None
    headers: Headers = field(default_factory=Headers)
    sent: bool = False
    body: Any = None
    mimetype: str | None = None

    def send(self, body: Any = None, status: int = 200, headers: dict[str, str] | None = None,
             mimetype: str | None = None) -> None:
        """Finish the request: dict/list -> JSON, str -> text, bytes -> octet-stream."""
        if self.sent:
            raise RuntimeError("res.send() was already called for this request")
        self.body = body
        self.status_code = int(status)
        self.mimetype = mimetype
        for key, value in (headers or {}).items():
            self.headers[key] = value
        self.sent = True
