"""generic-servicesManager (manual "Generic Libs"): a machine-readable listing of the mounted services.

mia.js projects call ``getFilteredServicesInfo(registeredServices, req, hostId, group, version,
prefix)`` and ``getServicesInfoByReq(req, hostId, group, version, prefix)``; both answer the
items ``generic-listServices`` v2 sends (``modified, method, url, id, parameters?, responses,
deprecated?, authorization``). ``registeredServices()`` is mia.js's ``Shared.registeredServices()``:
one record per mounted route method, built once per compiled route list.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context

from core import Lib, Shared
from core.startup.services import base_url, filtered_services, service_record


def _routes() -> list[Any]:
    if has_app_context():
        return current_app.config.get("mia.routes") or []
    return list(Shared.services or [])


class ServicesManager(Lib):
    identity = "generic-servicesManager"
    version = "1.0"

    def __init__(self) -> None:
        self._built_for: list[Any] | None = None
        self._records: list[dict[str, Any]] = []

    def registered_services(self) -> list[dict[str, Any]]:
        """Every mounted route method as a service record (``hostIds``, ``group``, ``version``, ``prefix``, ...)."""
        routes = _routes()
        if self._built_for is not routes:
            self._records = [service_record(route) for route in routes]
            self._built_for = routes
        return self._records

    def get_filtered_services_info(self, registered_services: list[dict[str, Any]] | None, req: Any,
                                   host_id: str | None, group: str, version: str,
                                   prefix: str) -> list[dict[str, Any]]:
        """The v2 items of the services with this host id, group and version (case-insensitive) and prefix.

        ``url`` is completed with the request's ``X-Forwarded-Proto`` (else its scheme) and Host, unless
        it is already absolute. ``registered_services=None`` means :meth:`registered_services`.
        """
        if registered_services is None:
            services = self.registered_services()
        else:  # records, or compiled route methods (``current_app.config["mia.routes"]``, ``Shared.services``)
            services = [item if isinstance(item, dict) else service_record(item) for item in registered_services]
        return filtered_services(services, base_url(req), host_id, group, version, prefix)

    def get_services_info_by_req(self, req: Any, host_id: str | None, group: str, version: str,
                                 prefix: str) -> list[dict[str, Any]]:
        """:meth:`get_filtered_services_info` over every registered service."""
        return self.get_filtered_services_info(None, req, host_id, group, version, prefix)

    # mia.js's names
    registeredServices = registered_services
    getFilteredServicesInfo = get_filtered_services_info
    getServicesInfoByReq = get_services_info_by_req
