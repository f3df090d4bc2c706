"""Command line: ``python server.py <env> [nocron] [cron=A,B] [hot]`` (mia.js's server.js).

    python server.py local                 serve the projects on the embedded default database
    python server.py local cron=JobName    run one cron job now and exit (exit code = success)
    python server.py local hot             development server that restarts when a file changes
    python server.py local routes          print the mounted routes and exit
    python server.py new-project NAME      create projects/NAME with one working route
    python server.py local docs --format json|yaml|md|html --out FILE

Also the WSGI entry for gunicorn: ``gunicorn 'server:wsgi_app()'`` (MIA_ENV picks the environment).
"""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from core.app.cli import parse_args
from core.errors import StartupError


def wsgi_app():  # noqa: ANN201 - a Flask app
    """App factory for WSGI servers; the environment comes from MIA_ENV (default ``production``)."""
    from core.app.factory import create_app

    return create_app(os.environ.get("MIA_ENV", "production"))


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.command == "new-project":  # before create_app: scaffolding must not depend on loading projects
        from core.app.scaffold import main as new_project

        return new_project(args.command_args, Path(__file__).resolve().parent)
    offline = args.command in ("routes", "docs")
    if args.hot and not offline and not args.cron_jobs and not os.environ.get("WERKZEUG_RUN_MAIN"):
        return hot_parent(args)  # the reloader's parent never builds the app nor opens the store
    try:
        from core.app.factory import create_app
        from core.app.summary import format_route_table

        # routes/docs only read: no database work, and the embedded store's snapshot is neither loaded
        # nor saved (a server running meanwhile would otherwise find its file replaced).
        app = create_app(args.mode, overrides={"embedded": {"path": None}} if offline else None,
                         run_init=not offline)
    except StartupError as exc:
        print(f"mia: start-up failed: {exc}", file=sys.stderr)
        return 2
    if args.command == "routes":
        print("\n".join(format_route_table(app.config["mia.routes"])))
        return 0
    if args.command == "docs":  # --format json|yaml|md|html --out FILE [--host VHOST_ID]
        from core.app.docs_export import main as export_docs

        return export_docs(app, args.command_args)
    from core.data import databases as db

    if args.cron_jobs and not args.nocron:  # one-off: run the jobs now, no web server, exit code = success
        from core.cron import run_once

        try:
            return run_once(args.cron_jobs)
        finally:
            db.shutdown()
    return serve(app, args)


def serve(app, args) -> int:  # noqa: ANN001 - a Flask app and RunArgs
    """gunicorn when the environment sets ``server.workers``, else the threaded development server."""
    from core.app.factory import create_app
    from core.app.serve import listen_address, run_gunicorn
    from core.app.summary import summary
    from core.data import databases as db
    from core.shared import Shared

    print(summary(app), flush=True)
    host, port = listen_address(Shared.environment)
    print(f"mia: listening on http://{host}:{port}", flush=True)
    if (Shared.environment.get("server") or {}).get("workers"):  # production: gunicorn
        # The primary process created the indexes and ran init; each worker builds its own app and
        # clients after the fork. An embedded store lives in one process, so its worker seeds it itself.
        embedded = app.config["mia.databases"].mode() == "embedded"
        db.shutdown()
        run_gunicorn(lambda: create_app(args.mode, run_init=embedded), Shared.environment)
        return 0
    from werkzeug.serving import run_simple

    signal.signal(signal.SIGTERM, _stop)  # SIGTERM is a clean shutdown, like Ctrl-C
    try:
        run_simple(host, port, app, threaded=True, use_reloader=args.hot)
    finally:
        db.shutdown()  # saves the embedded store's snapshot (embedded.path), closes clients
    return 0


def hot_parent(args) -> int:  # noqa: ANN001 - RunArgs
    """``hot`` mode's watching parent: restarts the child that serves; it holds no app and no data.

    Only the child (WERKZEUG_RUN_MAIN set) builds the app, so only it opens the embedded store: a
    parent with its own stale copy would overwrite the child's data on stop.
    """
    from werkzeug.serving import run_simple

    from core.app.serve import listen_address
    from core.startup.config import load_root_config

    try:
        environment = load_root_config(Path(__file__).resolve().parent, args.mode)[1]
    except StartupError as exc:
        print(f"mia: start-up failed: {exc}", file=sys.stderr)
        return 2
    host, port = listen_address(environment)
    signal.signal(signal.SIGTERM, _stop)

    def unused(environ, start_response):  # noqa: ANN001, ANN202 - never called in the parent
        raise RuntimeError("the reloader's parent does not serve")

    try:
        run_simple(host, port, unused, threaded=True, use_reloader=True)
    except KeyboardInterrupt:
        pass
    return 0


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # werkzeug's serve_forever returns on it


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
