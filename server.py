"""Command line: ``python server.py <env> [nocron] [cron=A,B] [hot]`` (mia.js's server.js).

    python server.py local                 serve the projects on the embedded default database
    python server.py local cron=JobName    run one cron job now and exit (exit code = success)
    python server.py local routes          print the mounted routes and exit
    python server.py new-project NAME      create projects/NAME with one working route
    python server.py local docs --format json|yaml|md|html --out FILE

Also the WSGI entry for gunicorn: ``gunicorn 'server:wsgi_app()'`` (MIA_ENV picks the environment).
"""
from __future__ import annotations

import os
import sys

from core.args import parse_args
from core.errors import StartupError


def wsgi_app():  # noqa: ANN201 - a Flask app
    """App factory for WSGI servers; the environment comes from MIA_ENV (default ``production``)."""
    from core.server import create_app

    return create_app(os.environ.get("MIA_ENV", "production"))


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.command == "new-project":  # before create_app: scaffolding must not depend on loading projects
        from pathlib import Path

        from core.scaffold import main as new_project

        return new_project(args.command_args, Path(__file__).resolve().parent)
    try:
        from core.server import create_app, route_table, summary

        # routes/docs only read: they must not load or save the embedded store's snapshot, or a
        # server running meanwhile would find its file replaced and keep its data unsaved.
        read_only = {"embedded": {"path": None}} if args.command in ("routes", "docs") else None
        app = create_app(args.mode, overrides=read_only)
    except StartupError as exc:
        print(f"mia: start-up failed: {exc}", file=sys.stderr)
        return 2
    if args.command == "routes":
        for row in route_table(app.config["mia.routes"]):
            print("  ".join(row))
        return 0
    if args.command == "docs":  # --format json|yaml|md|html --out FILE [--host VHOST_ID]
        from core.docs_export import main as export_docs

        return export_docs(app, args.command_args)
    print(summary(app), flush=True)
    from core.shared import Shared

    http = (Shared.environment.get("server") or {}).get("http") or {}
    host, port = http.get("host", "127.0.0.1"), int(http.get("port", 3000))
    print(f"mia: listening on http://{host}:{port}", flush=True)
    import signal

    from werkzeug.serving import run_simple

    from core import db

    signal.signal(signal.SIGTERM, _stop)  # SIGTERM is a clean shutdown, like Ctrl-C
    try:
        run_simple(host, port, app, threaded=True, use_reloader=args.hot)
    finally:
        db.shutdown()  # saves the embedded store's snapshot (embedded.path), closes clients
    return 0


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # werkzeug's serve_forever returns on it


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
