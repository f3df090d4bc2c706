"""generic-listServices v2 and v1 (generic §4.5): a machine-readable listing of a route file's services.

Lists every mounted route method with the same host, group, version (case-insensitive) and prefix
as the request, in registration order (route file, path, method). v2 items carry the parameters
every controller of the chain declared (from the compiled preconditions, so the listing cannot
drift from what is validated), the merged response codes and the ``authorization`` flag; v1 is
the older, shorter shape. The listing goes to ``res.response``; an output controller sends it.
"""
from __future__ import annotations

from typing import Any

from flask import current_app

from core import Controller, MiaError
from core.startup.services import base_url, describe


class _Listing:
    """Items grouped by (hosts, group, version, prefix), built once per compiled route list."""

    def __init__(self, routes: list[Any]) -> None:
        self.routes = routes
        self.groups: dict[tuple[Any, ...], list[tuple[frozenset[str], dict[str, Any]]]] = {}
        self.by_info = {id(route.info): route for route in routes}
        for route in routes:
            info = route.info
            if not info.group or not info.version:
                continue
            key = (info.group.lower(), str(info.version).lower(), info.prefix)
            self.groups.setdefault(key, []).append((frozenset(route.host_ids), describe(route)))

    def items(self, route: Any) -> list[dict[str, Any]]:
        info = route.info
        hosts = frozenset(route.host_ids)
        found = self.groups.get((info.group.lower(), str(info.version).lower(), info.prefix), [])
        return [item for item_hosts, item in found if item_hosts & hosts]


class ListServicesV2(Controller):
    """``[{modified, method, url, id, parameters?, responses, deprecated?, authorization}, ...]``."""

    identity = "generic-listServices"
    version = "2.0"
    group = "generic"
    _listing: _Listing | None = None

    def listing(self, req: Any) -> list[dict[str, Any]]:
        route = req.mia.route
        if route is None or not route.group or not route.version:
            raise _unknown_group(req)
        routes = current_app.config["mia.routes"]
        listing = self._listing
        if listing is None or listing.routes is not routes:
            listing = self._listing = _Listing(routes)
        current = listing.by_info.get(id(route))  # the RouteMethod (not only its info) of this request
        if current is None:
            raise _unknown_group(req)
        base = base_url(req)
        out = []
        for item in listing.items(current):
            entry = dict(item)
            if not str(entry["url"]).startswith(("http", "ftp")):
                entry["url"] = base + entry["url"]
            out.append(entry)
        return out

    def list(self, req: Any, res: Any) -> None:
        res.response = self.listing(req)


class ListServicesV1(ListServicesV2):
    """The older shape: ``[{modified, url, deprecated?, requiresSession, name, requestMethods}, ...]``."""

    version = "1.0"

    def list(self, req: Any, res: Any) -> None:
        out = []
        for item in self.listing(req):
            entry: dict[str, Any] = {"modified": item["modified"], "url": item["url"]}
            if item.get("deprecated"):
                entry["deprecated"] = True
            entry.update(requiresSession=item["authorization"], name=item["id"], requestMethods=[item["method"]])
            out.append(entry)
        res.response = out


def _unknown_group(req: Any) -> MiaError:
    return MiaError(500, code="UnknownServiceGroupOrVersion",
                    msg=req.mia.translator("generic-translations", "UnknownServiceGroupOrVersion"))
