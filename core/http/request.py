"""The request object: Flask's, with werkzeug's eight per-request fields worked out when first read.

Why: werkzeug's ``Request.__init__`` computes ``method``, ``scheme``, ``server``, ``root_path``,
``path``, ``query_string``, ``headers`` and ``remote_addr`` for every request (two WSGI decoding
passes, a bytes copy of the query string, a headers view, the server tuple), though a typical API
request reads three of them. Here each is computed from the WSGI environ on first read, exactly as
werkzeug computes it, and kept; assigning one works as before. Everything else is Flask's
``Request`` unchanged (:attr:`core.app.factory` sets it as the app's ``request_class``).
"""
from __future__ import annotations

from functools import cached_property
from typing import Any

from flask import Request
from werkzeug._internal import _wsgi_decoding_dance
from werkzeug.datastructures import EnvironHeaders
from werkzeug.wsgi import _get_server


class MiaRequest(Request):
    """Flask's ``Request`` whose environ-derived fields are read lazily (see the module docstring)."""

    def __init__(self, environ: dict[str, Any], populate_request: bool = True, shallow: bool = False) -> None:
        # werkzeug.wrappers.Request.__init__ without the eager sansio fields (below, on first read)
        self.environ = environ
        self.shallow = shallow
        if populate_request and not shallow:
            environ["werkzeug.request"] = self

    @cached_property
    def method(self) -> str:  # type: ignore[override]
        return str(self.environ.get("REQUEST_METHOD", "GET")).upper()

    @cached_property
    def scheme(self) -> str:  # type: ignore[override]
        return str(self.environ.get("wsgi.url_scheme", "http"))

    @cached_property
    def server(self) -> tuple[str, int | None] | None:  # type: ignore[override]
        return _get_server(self.environ)

    @cached_property
    def root_path(self) -> str:  # type: ignore[override]
        return _wsgi_decoding_dance(self.environ.get("SCRIPT_NAME") or "").rstrip("/")

    @cached_property
    def path(self) -> str:  # type: ignore[override]
        return "/" + _wsgi_decoding_dance(self.environ.get("PATH_INFO") or "").lstrip("/")

    @cached_property
    def query_string(self) -> bytes:  # type: ignore[override]
        return str(self.environ.get("QUERY_STRING", "")).encode("latin1")

    @cached_property
    def headers(self) -> EnvironHeaders:  # type: ignore[override]
        return EnvironHeaders(self.environ)

    @cached_property
    def remote_addr(self) -> str | None:  # type: ignore[override]
        return self.environ.get("REMOTE_ADDR")
