"""Serving: picks the server for the environment and runs every listener until SIGTERM.

Engines (``server.engine``; default ``granian`` when ``server.workers`` is set, else ``threaded``):

* ``granian``, the production server (chosen by measurement, README "Production server"): one
  granian process per app listener (HTTP, HTTPS, a unix socket) with ``server.workers`` workers and
  ``server.threads`` blocking threads each. granian reads headers in Rust before a Python thread is
  used, cuts clients that take longer than ``server.headerTimeout`` for their headers, and on
  SIGTERM finishes running requests (``server.gracefulTimeout``). Its WSGI interface has no
  WebSockets, so flask-sock routes are served on the ``server.websocket`` listener by gunicorn
  gthread in its own process (core/app/serving/ws_run.py; the threaded server in this process with
  the embedded store); a handshake on the granian ports answers 426.
* ``threaded``: werkzeug's threaded server, one thread per connection, every listener in this
  process (development, hot reload, and WebSockets on every port).
* ``gunicorn``: gthread workers for operators who want it (one listener; no slow-client guard).

Every engine stops in the same order (core/app/serving/lifecycle.py): requests, crons, databases.
:func:`start` is the one entry point: ``server.py <env>`` calls it with the built app.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

from core.app.serving import listeners as listen
from core.errors import StartupError

logger = logging.getLogger("mia.server")
ROOT = Path(__file__).resolve().parents[3]


def listen_address(environment: dict[str, Any]) -> tuple[str, int]:
    http = (environment.get("server") or {}).get("http") or {}
    return str(http.get("host", "127.0.0.1")), int(http.get("port", 3000))


def workers(environment: dict[str, Any]) -> int:
    return max(1, int((environment.get("server") or {}).get("workers", 1) or 1))


def engine(environment: dict[str, Any]) -> str:
    server = environment.get("server") or {}
    return str(server.get("engine") or ("granian" if server.get("workers") else "threaded"))


def graceful_timeout(environment: dict[str, Any]) -> float:
    return float((environment.get("server") or {}).get("gracefulTimeout", 30))


def websocket_settings(environment: dict[str, Any]) -> dict[str, Any]:
    return dict((environment.get("server") or {}).get("websocket") or {})


def websocket_connections(environment: dict[str, Any]) -> int:
    """``server.websocket.connections``: open WebSockets the production WebSocket server holds (a thread each)."""
    return int(websocket_settings(environment).get("connections", 2000))


def check_shared_counters(app: Flask, environment: dict[str, Any], processes: int) -> None:
    """Several processes without memcached would each count rate limits alone (N x the limit).

    Start-up is refused when the environment or a route file sets a rate limit; otherwise (device
    limits live in the database) a loud warning is printed.
    """
    if processes <= 1 or (environment.get("memcached") or {}).get("servers"):
        return
    limited = bool(environment.get("rateLimit")) or any(route.info.rate_limits for route in app.config["mia.routes"])
    message = (f"{processes} server processes without memcached: rate limits would count per process "
               f"and allow {processes}x the limit. Set memcached.servers (MIA_MEMCACHED_SERVERS) or use "
               "one worker")
    if limited:
        raise StartupError(message)
    print(f"mia: WARNING: {message}", file=sys.stderr, flush=True)


def start(app: Flask, mode: str, root: Path | str | None = None, hot: bool = False, nocron: bool = False) -> int:
    """Serve ``app`` (built by ``create_app(mode)``) on every listener of its environment until stopped.

    Every serving process also runs its cron scheduler unless ``nocron`` (core/app/crons/modes.py: each
    process is one mia.js "server"; the database limits make that safe): the threaded server here, each
    granian or gunicorn worker after the fork."""
    from core.app.serving.lifecycle import stop_process
    from core.shared import Shared

    environment = Shared.environment
    planned = listen.plan(environment)
    chosen = "threaded" if hot else engine(environment)
    app_listeners = [item for item in planned if item.role == "app"]
    embedded = app.config["mia.databases"].mode() == "embedded"
    if chosen == "granian" and embedded and (len(app_listeners) > 1 or workers(environment) > 1):
        print("mia: WARNING: the embedded store lives in one process, so HTTP and HTTPS are served by the "
              "threaded server in this process (set MIA_MONGO_URL for the production server)", flush=True)
        chosen = "threaded"
    for line in listen.describe(planned):
        print(line, flush=True)
    print(f"mia: server: {chosen}" + (f", {workers(environment)} worker(s)" if chosen != "threaded" else ""),
          flush=True)
    if chosen == "threaded":
        from core.app.crons import modes as cron_modes
        from core.app.serving.threaded import serve_threaded

        cron_modes.start_for_process(mode, nocron=nocron)
        unsubscribe = _restart_crons_on_reload(mode, nocron) if hot else None
        try:
            return serve_threaded(app, planned, environment, mode=mode, root=root, hot=hot)
        finally:
            if unsubscribe is not None:
                unsubscribe()
            stop_process()  # requests are done: stop the crons (slots released), then close the databases
    if chosen == "gunicorn":
        return _run_gunicorn_engine(app, mode, root, environment, nocron)
    if chosen != "granian":
        raise StartupError(f"server.engine must be granian, threaded or gunicorn, got {chosen!r}")
    return _run_granian(app, mode, root, planned, environment, nocron)


def _restart_crons_on_reload(mode: str, nocron: bool) -> Callable[[], None]:
    """Hot mode: a reload that touched a ``crons`` folder restarts this process's scheduler with the
    new job classes (running workers finish first; their slots are released)."""
    from core.app.crons import modes as cron_modes
    from core.app.serving import reload

    def restart(_app: Any, changed: list[Path]) -> None:
        if any("crons" in Path(path).parts for path in changed):
            cron_modes.stop_for_process()
            cron_modes.start_for_process(mode, nocron=nocron)

    return reload.subscribe(restart)


def granian_spec(listener: listen.Listener, mode: str, root: Path | str | None, environment: dict[str, Any],
                 run_init: bool, websocket_url: str | None, nocron: bool = False) -> dict[str, Any]:
    """What one granian child needs: the listener, the app to build, workers, threads and timeouts."""
    server = environment.get("server") or {}
    if listener.key:
        head = Path(listener.key).read_text(errors="replace")[:200]
        if "BEGIN RSA PRIVATE KEY" in head or "BEGIN EC PRIVATE KEY" in head:
            raise StartupError(f"server.https.key {listener.key}: granian reads PKCS#8 keys only; convert it with "
                               "'openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8' (or use server.engine 'threaded')")
    return {
        "listener": {k: getattr(listener, k) for k in ("role", "scheme", "host", "port", "socket", "cert", "key",
                                                       "ca", "passphrase")},
        "role": listener.role, "mode": mode, "root": str(root or ROOT), "run_init": run_init, "nocron": nocron,
        "workers": workers(environment) if listener.role == "app" else 1,
        "threads": int(server.get("threads", 4)) if listener.role == "app" else 1,
        "backpressure": server.get("backpressure"),
        "header_timeout_ms": int(float(server.get("headerTimeout", 10)) * 1000),
        "graceful_timeout": graceful_timeout(environment),
        "websocket_url": websocket_url,
        "environment": environment if listener.role == "redirect" else None,
        "parent": os.getpid(),
    }


def _run_granian(app: Flask, mode: str, root: Path | str | None, planned: list[listen.Listener],
                 environment: dict[str, Any], nocron: bool = False) -> int:
    from core.app.serving.lifecycle import stop_process
    from core.data import databases as db

    embedded = app.config["mia.databases"].mode() == "embedded"
    app_listeners = [item for item in planned if item.role == "app"]
    websocket = next((item for item in planned if item.role == "websocket"), None)
    if embedded and websocket is not None:
        print("mia: WARNING: embedded store: the WebSocket listener (this process) and the granian worker "
              "each hold their own copy of the data; set MIA_MONGO_URL to share it", flush=True)
    check_shared_counters(app, environment, workers(environment) * len(app_listeners))
    ws_server = None
    children = []
    ws_engine = "threaded" if embedded else str((websocket_settings(environment)).get("engine") or "gunicorn")
    if websocket is not None and ws_engine == "threaded":  # the embedded store lives in one process: here
        from core.app.serving.threaded import start_listener

        ws_server = start_listener(app, websocket, environment)
    else:
        db.shutdown()  # the workers build their own clients; the embedded snapshot is saved for them
    if websocket is not None and ws_engine == "gunicorn":
        spec = {"mode": mode, "root": str(root or ROOT), "parent": os.getpid(),
                "listener": {"host": websocket.host, "port": websocket.port},
                "connections": websocket_connections(environment), "environment": {"server": environment["server"]}}
        children.append(subprocess.Popen(
            [sys.executable, "-m", "core.app.serving.ws_run", json.dumps(spec, default=str)], cwd=str(ROOT)))
    for item in planned:
        if item.role == "websocket":
            continue
        spec = granian_spec(item, mode, root, environment, embedded, websocket.url if websocket else None, nocron)
        children.append(subprocess.Popen(
            [sys.executable, "-m", "core.app.serving.granian_run", json.dumps(spec, default=str)], cwd=str(ROOT)))
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    failed = False
    while not stop.wait(0.2):
        if any(child.poll() is not None for child in children):
            failed = True
            print("mia: a server process exited; stopping", file=sys.stderr, flush=True)
            break
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)  # granian: stop accepting, finish running requests
    deadline = time.monotonic() + graceful_timeout(environment) + 5
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    if ws_server is not None:
        ws_server.stop(graceful_timeout(environment))
        stop_process()
    return 1 if failed else 0


def _run_gunicorn_engine(app: Flask, mode: str, root: Path | str | None, environment: dict[str, Any],
                         nocron: bool = False) -> int:
    from core.app.crons import modes as cron_modes
    from core.app.factory import create_app
    from core.app.serving.lifecycle import die_with_parent
    from core.app.serving.memory import freeze_after_build, pause_collection
    from core.data import databases as db

    embedded = app.config["mia.databases"].mode() == "embedded"
    check_shared_counters(app, environment, workers(environment))
    db.shutdown()

    def worker_app() -> Flask:  # runs in each worker after the fork: its own app, clients and scheduler
        die_with_parent()  # a killed primary takes its workers with it
        pause_collection()  # one collection once the app is built (freeze_after_build), none during the build
        worker = create_app(mode, root, run_init=embedded)
        cron_modes.start_for_process(mode, nocron=nocron)
        freeze_after_build()
        return worker

    run_gunicorn(worker_app, environment)
    return 0


def run_gunicorn(factory: Callable[[], Flask], environment: dict[str, Any], listener: listen.Listener | None = None,
                 threads: int | None = None, processes: int | None = None) -> None:
    """Run ``factory`` under gunicorn gthread (``gunicorn_worker.JsonThreadWorker``: JSON parse errors, a body
    timeout) with the environment's workers, threads and TLS settings, on its one app listener or ``listener``.

    A worker's requests are done when gunicorn calls ``worker_exit``: its crons stop, then its databases
    close (core/app/serving/lifecycle.py)."""
    from gunicorn.app.base import BaseApplication

    from core.app.serving import gunicorn_worker
    from core.app.serving.lifecycle import stop_process
    from core.app.serving.transport import body_timeout

    gunicorn_worker.BODY_TIMEOUT = body_timeout(environment)  # inherited by the forked workers
    server = environment.get("server") or {}
    planned = [listener] if listener is not None else [item for item in listen.plan(environment) if item.role == "app"]
    if len(planned) != 1:
        raise StartupError("server.engine 'gunicorn' serves one listener; use granian for HTTP and HTTPS together")
    item = planned[0]
    threads = threads or int(server.get("threads", 4))
    options: dict[str, Any] = {
        "bind": f"unix:{item.socket}" if item.socket else f"{item.host}:{item.port}",
        "workers": processes or workers(environment), "threads": threads,
        "worker_connections": max(1000, threads),  # gthread's cap on open connections per worker
        "worker_class": "core.app.serving.gunicorn_worker.JsonThreadWorker",
        "timeout": int(server.get("timeout", 30)), "graceful_timeout": int(graceful_timeout(environment)),
        "preload_app": False, "control_socket_disable": True,  # gunicorn 27 would create ~/.gunicorn/
        "keyfile": item.key, "certfile": item.cert, "ca_certs": item.ca,
        "accesslog": None, "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,
        "worker_exit": lambda _arbiter, _worker: stop_process(),
    }

    class _App(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Flask:
            return factory()

    _App().run()
