"""Command line: ``python server.py <env> [nocron] [cron=A,B] [hot] [command]`` (mia.js's server.js).

    python server.py local                 serve the projects on the embedded default database
    python server.py local cron=JobName    run one cron job now and exit (exit code = success)
    python server.py local cron=A,B        run those cron jobs on their schedule, no web server
    python server.py local nocron          serve without running cron jobs
    python server.py local crons           list the cron jobs: next run, limits, last run (reads only)
    python server.py local crons suspend|resume|run|stop JOB   act on one job (also through a running server)
    python server.py local hot             development server that reloads changed files in place
    python server.py local routes          print the mounted routes and exit
    python server.py local config          print the effective configuration, secrets masked
    python server.py production check      the security self-check (exit 1 when a finding is high)
    python server.py new-project NAME      create projects/NAME with one working route
    python server.py local docs --format json|yaml|md|html --out FILE
    python server.py --help

Also the WSGI entry for other servers: ``wsgi_app()`` (MIA_ENV picks the environment).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from core.app.cli import USAGE, UsageError, closest, parse_args
from core.errors import StartupError


def wsgi_app() -> Any:  # a Flask app (Flask is imported by the factory, not here)
    """App factory for WSGI servers; the environment comes from MIA_ENV (default ``production``).

    Each worker process that calls it also starts its cron scheduler (see core/app/crons/modes.py);
    ``MIA_NOCRON=1`` serves without cron jobs."""
    from core.app.crons.modes import start_for_process
    from core.app.factory import create_app

    mode = os.environ.get("MIA_ENV", "production")
    app = create_app(mode)
    start_for_process(mode, nocron=os.environ.get("MIA_NOCRON", "") not in ("", "0"))
    return app


def main(argv: list[str]) -> int:
    try:
        args = parse_args(argv)
    except UsageError as exc:
        print(f"mia: {exc}\n{USAGE}", file=sys.stderr, end="")
        return 2
    if args.command == "help":
        print(USAGE, end="")
        return 0
    if args.command == "new-project":  # before create_app: scaffolding must not depend on loading projects
        from core.app.kit.scaffold import main as new_project

        return new_project(args.command_args, Path(__file__).resolve().parent)
    if args.command == "check":  # before create_app: it reports what would refuse start-up, never raises it
        from core.app.check import main as check

        return check(args.mode, args.command_args)
    root = Path(__file__).resolve().parent
    if args.command == "crons":  # before create_app: beside a running embedded server it goes through its endpoint
        from core.app.crons_command import crons

        return crons(args.mode, args.command_args, root)
    if args.cron_jobs and not args.nocron:  # beside a running embedded server: run inside it, never on an empty store
        from core.app.crons_command import beside_a_server

        code = beside_a_server(args.mode, args.cron_jobs, root)
        if code is not None:
            return code
    offline = args.command in ("routes", "docs", "config", "migrate")  # migrate: before any index is built
    try:
        from core.app.factory import create_app
        from core.app.summary import format_route_table

        # routes/docs/config only read: no database work, and the embedded store's snapshot is neither
        # loaded nor saved (a server running meanwhile would otherwise find its file replaced).
        keep_file = {"embedded": {"path": None}} if args.command in ("routes", "docs") else None
        app = create_app(args.mode, overrides=keep_file, run_init=not offline)
    except StartupError as exc:
        print(f"mia: start-up failed: {exc}", file=sys.stderr)
        if str(exc).startswith("unknown environment '"):  # a mistyped first word: show what is accepted
            near = closest(args.mode)
            if near:
                print(f"mia: did you mean 'python server.py local {near}'?", file=sys.stderr)
            print(USAGE, file=sys.stderr, end="")
        return 2
    if args.command == "routes":
        print("\n".join(format_route_table(app.config["mia.routes"])))
        for line in app.config["mia.warnings"]:
            print(f"mia: WARNING: {line}", file=sys.stderr)
        return 0
    if args.command == "config":
        from core.shared import Shared
        from core.startup.env_check import masked

        if args.command_args:
            print(f"mia: config takes no arguments\n{USAGE}", file=sys.stderr, end="")
            return 2
        print(json.dumps(masked(Shared.environment), indent=2, sort_keys=True, default=str))
        return 0
    if args.command == "migrate":
        from core.data import databases as data
        from core.data.migrate import migrate
        from core.notifications.settings import processor_settings
        from core.shared import Shared

        settings = processor_settings()
        models = [m for _, _, m in Shared.model_registry.items() if m.collection_name and not m.disabled]
        try:
            for line in migrate(Shared.db(settings.get("database")), models, settings["collections"]["queue"]):
                print(line)
        finally:
            data.shutdown()
        return 0
    if args.command == "docs":  # --format json|yaml|md|html --out FILE [--host VHOST_ID]
        from core.app.docs.export import main as export_docs

        return export_docs(app, args.command_args)
    from core.data import databases as db

    if args.cron_jobs and not args.nocron:  # no web server: one job once now, several on their schedule
        from core.app.crons import modes as cron_modes

        try:
            if not cron_modes.enabled():
                print(f"mia: {cron_modes.disabled_message(args.mode)}", file=sys.stderr)
                return 2
            if len(args.cron_jobs) == 1:
                return cron_modes.run_once(args.cron_jobs)
            return cron_modes.run_scheduled(args.cron_jobs, args.mode)
        finally:
            db.shutdown()
    from core.app.serving.serve import start
    from core.app.summary import summary

    print(summary(app), flush=True)
    try:
        return start(app, args.mode, hot=args.hot, nocron=args.nocron)
    except StartupError as exc:
        print(f"mia: start-up failed: {exc}", file=sys.stderr)
        db.shutdown()
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
