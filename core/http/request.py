"""The request object: Flask's, with werkzeug's per-request fields worked out when first read.

Why: werkzeug's ``Request.__init__`` computes ``method``, ``scheme``, ``server``, ``root_path``,
``path``, ``query_string``, ``headers`` and ``remote_addr`` for every request (two WSGI decoding
passes, a bytes copy of the query string, a headers view, the server tuple), though a typical API
request reads three of them. Here each is computed from the WSGI environ on first read, exactly as
werkzeug computes it, and kept; assigning one works as before. ``content_length`` too, read from the
environ instead of through the headers view and kept in the instance (werkzeug's cached property
runs its descriptor on every read; the body parser reads it three times). Everything else is
Flask's ``Request`` unchanged (:attr:`core.app.factory` sets it as the app's ``request_class``).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from flask import Request
from werkzeug._internal import _wsgi_decoding_dance
from werkzeug.datastructures import EnvironHeaders
from werkzeug.wsgi import _get_server, get_content_length

T = TypeVar("T")


class cached_property(Generic[T]):  # noqa: N801 - named for what it stands in for
    """``functools.cached_property`` without its lock (Python 3.11 takes one on every first read):
    the value goes into the instance's ``__dict__``, which later reads find first. Two threads
    reading one request at once would both compute the same value; nothing is lost."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute, self.name = compute, compute.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


class MiaRequest(Request):
    """Flask's ``Request`` whose environ-derived fields are read lazily (see the module docstring)."""

    def __init__(self, environ: dict[str, Any], populate_request: bool = True, shallow: bool = False) -> None:
        # werkzeug.wrappers.Request.__init__ without the eager sansio fields (below, on first read)
        self.environ = environ
        self.shallow = shallow
        if populate_request and not shallow:
            environ["werkzeug.request"] = self

    @cached_property
    def method(self) -> str:
        return str(self.environ.get("REQUEST_METHOD", "GET")).upper()

    @cached_property
    def scheme(self) -> str:
        return str(self.environ.get("wsgi.url_scheme", "http"))

    @cached_property
    def server(self) -> tuple[str, int | None] | None:
        return _get_server(self.environ)

    @cached_property
    def root_path(self) -> str:
        return _wsgi_decoding_dance(self.environ.get("SCRIPT_NAME") or "").rstrip("/")

    @cached_property
    def path(self) -> str:
        return "/" + _wsgi_decoding_dance(self.environ.get("PATH_INFO") or "").lstrip("/")

    @cached_property
    def query_string(self) -> bytes:
        return str(self.environ.get("QUERY_STRING", "")).encode("latin1")

    @cached_property
    def headers(self) -> EnvironHeaders:
        return EnvironHeaders(self.environ)

    @cached_property
    def content_length(self) -> int | None:
        return get_content_length(self.environ)  # what werkzeug reads through the headers, from the environ

    @cached_property
    def remote_addr(self) -> str | None:
        return self.environ.get("REMOTE_ADDR")
