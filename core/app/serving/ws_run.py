"""The production server for WebSocket routes: gunicorn gthread on ``server.websocket`` (a child process).

granian's WSGI interface has no WebSockets, so the ``server.websocket`` listener is served by gunicorn's
gthread worker in its own process (chosen by measurement, README "Production": bench/ws.py): one thread
per open socket (``server.websocket.connections``, default 2000, is also gthread's connection cap),
flask-sock's simple-websocket on top, gunicorn's process supervision, graceful stop and parse errors
in the JSON envelope (core/app/serving/gunicorn_worker.py). It builds its own app after the fork, runs
no cron jobs, and dies with the primary. With the embedded store the primary serves the listener itself
(threaded), since the data lives in one process.

``python -m core.app.serving.ws_run '<json spec>'``; the spec comes from ``serve._run_granian``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]


def main(argv: list[str]) -> int:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from core.app.serving.lifecycle import die_with_parent

    spec: dict[str, Any] = json.loads(argv[0])
    die_with_parent(int(spec["parent"]))
    from core.app.factory import create_app
    from core.app.serving.listeners import Listener
    from core.app.serving.serve import run_gunicorn

    print(f"mia: WebSocket routes: gunicorn gthread, up to {int(spec['connections'])} open sockets "
          f"(server.websocket.connections)", flush=True)
    listener = Listener("websocket", "http", str(spec["listener"]["host"]), int(spec["listener"]["port"]))

    def worker_app() -> Any:  # after the fork: this process's own app, clients and WebSocket hub
        die_with_parent()
        return create_app(spec["mode"], spec["root"], run_init=False)

    run_gunicorn(worker_app, spec["environment"], listener=listener, threads=int(spec["connections"]), processes=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
