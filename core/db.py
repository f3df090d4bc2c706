"""Database handles: pymongo against a real server, or the embedded in-process default.

``mongoDatabases: {name: {url, options}}`` in the environment config; a ``mongodb://`` or
``mongodb+srv://`` URL uses pymongo.MongoClient (one per process, created lazily after fork).
No URL -> an embedded store with pymongo's API (mongomock-ng), single process only.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from core.errors import StartupError
from core.shared import Shared

log = logging.getLogger("mia.db")


class Databases:
    """Owns the clients of this process and hands out ``Database`` objects by name."""

    def __init__(self, environment: dict[str, Any]) -> None:
        self.environment = environment
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def settings(self, name: str | None) -> tuple[str, dict[str, Any]]:
        name = name or self.environment.get("defaultMongoDatabase")
        databases = self.environment.get("mongoDatabases") or {}
        if not name:
            raise StartupError("no database name given and no defaultMongoDatabase configured")
        return name, databases.get(name) or {}

    def mode(self, name: str | None = None) -> str:
        _, settings = self.settings(name)
        return "mongodb" if settings.get("url") else "embedded"

    def client(self, name: str | None = None) -> Any:
        db_name, settings = self.settings(name)
        url = settings.get("url")
        key = url or "embedded"
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._make_client(url, settings.get("options") or {})
        return self._clients[key]

    def database(self, name: str | None = None) -> Any:
        db_name, _ = self.settings(name)
        return self.client(name)[db_name]

    @staticmethod
    def _make_client(url: str | None, options: dict[str, Any]) -> Any:
        if not url:
            import mongomock_ng

            return mongomock_ng.MongoClient(tz_aware=True)
        if not url.startswith(("mongodb://", "mongodb+srv://")):
            raise StartupError(f"database URL must start with mongodb:// or mongodb+srv://, got {url.split(':')[0]}:...")
        import pymongo

        opts = {"serverSelectionTimeoutMS": 2000, "connectTimeoutMS": 2000, "tz_aware": True}
        opts.update(options)
        return pymongo.MongoClient(url, **opts)

    def close_all(self) -> None:
        with self._lock:
            for client in self._clients.values():
                try:
                    client.close()
                except Exception:  # closing an already broken client is harmless
                    log.debug("error closing a database client", exc_info=True)
            self._clients.clear()


def install(environment: dict[str, Any]) -> Databases:
    """Make ``Shared.db(name)`` work for this process."""
    databases = Databases(environment)
    Shared._handles["databases"] = databases
    Shared.provide("db", lambda name=None: databases.database(name))
    return databases
