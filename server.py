"""Command line: ``python server.py <env> [nocron] [cron=A,B] [hot]`` (mia.js's server.js).

    python server.py local                 serve the projects on the embedded default database
    python server.py local cron=JobName    run one cron job now and exit (exit code = success)
    python server.py local cron=A,B        run those cron jobs on their schedule, no web server
    python server.py local nocron          serve without running cron jobs
    python server.py local crons           list the cron jobs: next run, limits, last run
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
    """App factory for WSGI servers; the environment comes from MIA_ENV (default ``production``).

    Each worker process that calls it also starts its cron scheduler (see core/app/cron_modes.py);
    ``MIA_NOCRON=1`` serves without cron jobs."""
    from core.app.cron_modes import start_for_process
    from core.app.factory import create_app

    mode = os.environ.get("MIA_ENV", "production")
    app = create_app(mode)
    start_for_process(mode, nocron=os.environ.get("MIA_NOCRON", "") not in ("", "0"))
    return app


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.command == "new-project":  # before create_app: scaffolding must not depend on loading projects
        from core.app.scaffold import main as new_project

        return new_project(args.command_args, Path(__file__).resolve().parent)
    offline = args.command in ("routes", "docs")  # `crons` reads the job documents: not offline
    try:
        from core.app.factory import create_app
        from core.app.summary import format_route_table

        # routes/docs only read: no database work, and the embedded store's snapshot is neither loaded
        # nor saved (a server running meanwhile would otherwise find its file replaced).
        app = create_app(args.mode, overrides={"embedded": {"path": None}} if offline else None,
                         run_init=not offline and args.command != "crons")  # crons only reads the job documents
    except StartupError as exc:
        print(f"mia: start-up failed: {exc}", file=sys.stderr)
        return 2
    if args.command == "routes":
        print("\n".join(format_route_table(app.config["mia.routes"])))
        return 0
    if args.command == "crons":
        from core.app.cron_modes import listing

        print("\n".join(listing()))
        return 0
    if args.command == "docs":  # --format json|yaml|md|html --out FILE [--host VHOST_ID]
        from core.app.docs_export import main as export_docs

        return export_docs(app, args.command_args)
    from core.data import databases as db

    if args.cron_jobs and not args.nocron:  # no web server: one job once now, several on their schedule
        from core.app import cron_modes

        try:
            if not cron_modes.enabled():
                print(f"mia: {cron_modes.disabled_message(args.mode)}", file=sys.stderr)
                return 2
            if len(args.cron_jobs) == 1:
                return cron_modes.run_once(args.cron_jobs)
            return cron_modes.run_scheduled(args.cron_jobs, args.mode)
        finally:
            db.shutdown()
    return serve(app, args)


def serve(app, args) -> int:  # noqa: ANN001 - a Flask app and RunArgs
    """gunicorn when the environment sets ``server.workers``, else the threaded development server."""
    from core.app import cron_modes
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

        def worker_app():  # noqa: ANN202 - runs in each worker after the fork
            worker = create_app(args.mode, run_init=embedded)
            cron_modes.start_for_process(args.mode, nocron=args.nocron)  # every worker is a cron server
            return worker

        run_gunicorn(worker_app, Shared.environment)
        return 0
    from werkzeug.serving import run_simple

    signal.signal(signal.SIGTERM, _stop)  # SIGTERM is a clean shutdown, like Ctrl-C
    # With `hot`, the first process only watches files; the served child (WERKZEUG_RUN_MAIN) schedules.
    if not args.hot or os.environ.get("WERKZEUG_RUN_MAIN") == "true":
        cron_modes.start_for_process(args.mode, nocron=args.nocron)
    try:
        run_simple(host, port, app, threaded=True, use_reloader=args.hot)
    finally:
        cron_modes.stop_for_process()  # running workers finish (cronJobs.stopTimeout), slots released
        db.shutdown()  # saves the embedded store's snapshot (embedded.path), closes clients
    return 0


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # werkzeug's serve_forever returns on it


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
