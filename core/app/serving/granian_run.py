"""One granian server for one listener (a child process of ``server.py``); and its WSGI factory.

Why a process per listener: granian binds one address per server, while mia serves HTTP and HTTPS
at once. ``python -m core.app.serving.granian_run '<json spec>'`` runs granian's WSGI interface in the
foreground; ``worker_app`` is the factory each granian worker calls after the fork, so every worker
builds its own app and database clients. The spec comes from :func:`core.app.serving.serve.granian_spec`.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]


def worker_app() -> Any:
    """The WSGI app for one granian worker: the mia app, or the HTTP->HTTPS redirect."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    spec = json.loads(os.environ["MIA_LISTENER_SPEC"])
    if spec["role"] == "redirect":
        from core.app.serving.listeners import redirect_app

        return redirect_app(spec["environment"])
    from core.app.serving.lifecycle import at_worker_exit, die_with_parent, stop_process
    from core.app.serving.memory import freeze_after_build, pause_collection

    die_with_parent()  # this granian process gone (kill -9 of the primary chain): no orphan keeps serving
    pause_collection()  # until the app is built: one collection at the end instead of dozens during the imports
    from core.app.crons.modes import start_for_process
    from core.app.factory import create_app
    from core.app.serving.listeners import refuse_upgrades
    from core.app.serving.transport import refuse_broken_chunked

    app = create_app(spec["mode"], spec.get("root"), run_init=spec.get("run_init", False))
    start_for_process(spec["mode"], nocron=spec.get("nocron", False))  # every worker is a cron server
    at_worker_exit(stop_process)  # after granian finished the requests: crons, then the databases
    freeze_after_build()  # the collector neither rescans nor copies the start-up objects
    return refuse_broken_chunked(refuse_upgrades(app, spec.get("websocket_url")))


def main(argv: list[str]) -> int:
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    from core.app.serving.lifecycle import die_with_parent

    spec = json.loads(argv[0])
    if spec.get("parent"):
        die_with_parent(int(spec["parent"]))  # the primary's death stops this server and so its workers
    os.environ["MIA_LISTENER_SPEC"] = argv[0]  # read by worker_app in the forked workers
    listener = spec["listener"]
    tls: dict[str, Any] = {}
    if listener.get("cert"):
        tls = {"ssl_cert": Path(listener["cert"]), "ssl_key": Path(listener["key"]),
               "ssl_key_password": listener.get("passphrase"), "ssl_protocol_min": "tls1.2"}
        if listener.get("ca"):
            tls["ssl_ca"] = Path(listener["ca"])
    bind: dict[str, Any] = ({"uds": Path(listener["socket"])} if listener.get("socket")
                            else {"address": listener["host"], "port": int(listener["port"])})
    server = Server(
        "core.app.serving.granian_run:worker_app", factory=True, interface=Interfaces.WSGI,
        workers=int(spec["workers"]), blocking_threads=int(spec["threads"]), backlog=1024,
        backpressure=spec.get("backpressure"),
        http1_settings=HTTP1Settings(header_read_timeout=int(spec["header_timeout_ms"])),
        workers_kill_timeout=int(spec["graceful_timeout"]) or None, working_dir=ROOT,
        respawn_failed_workers=True,  # a crashed or killed worker is replaced; the others keep serving
        log_enabled=True, log_level=LogLevels.warning, log_access=False, **bind, **tls)
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
