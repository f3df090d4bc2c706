"""Serving: the threaded development server for one process, gunicorn for several workers.

With ``server.workers`` > 1 in the environment, gunicorn forks the workers first and each worker
builds its own app (and so its own MongoClient) after the fork, as pymongo requires. HTTPS comes
from ``server.https {port, options: {key, cert}}`` (file paths).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask


def listen_address(environment: dict[str, Any]) -> tuple[str, int]:
    http = (environment.get("server") or {}).get("http") or {}
    return str(http.get("host", "127.0.0.1")), int(http.get("port", 3000))


def workers(environment: dict[str, Any]) -> int:
    return max(1, int((environment.get("server") or {}).get("workers", 1) or 1))


def run_gunicorn(factory: Callable[[], Flask], environment: dict[str, Any]) -> None:
    """Run ``factory`` under gunicorn with the environment's workers, threads and TLS settings."""
    from gunicorn.app.base import BaseApplication

    server = environment.get("server") or {}
    host, port = listen_address(environment)
    https = server.get("https") or {}
    options: dict[str, Any] = {
        "bind": f"{host}:{port}", "workers": workers(environment),
        "threads": int(server.get("threads", 4)), "worker_class": "gthread",
        "timeout": int(server.get("timeout", 30)), "graceful_timeout": 10, "preload_app": False,
        "accesslog": "-" if environment.get("accessLog") else None,
    }
    tls = https.get("options") or {}
    if tls.get("key") and tls.get("cert"):
        options.update(keyfile=tls["key"], certfile=tls["cert"], bind=f"{host}:{https.get('port', port)}")

    class _App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Flask:
            return factory()

    _App().run()
