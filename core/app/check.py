"""``python server.py <env> check``: the security self-check of an environment, without starting it.

Prints one line per finding (severity, key or variable, what to do): the configuration's range and
choice problems (core/startup/env_check.py), then weak or missing secrets, demo values, CORS ``*``
with credentials, missing HTTPS in production and memcached missing beside several processes
(core/startup/selfcheck.py). Exit 1 when any finding is high (production would refuse to start),
0 otherwise, 2 when the environment cannot be read at all. Nothing is served and no database is
touched: the routes are compiled as ``routes`` compiles them.
"""
from __future__ import annotations

from pathlib import Path

from core.app.factory import ROOT, create_app
from core.errors import StartupError
from core.shared import Shared
from core.startup import selfcheck
from core.startup.config import load_root_config
from core.startup.selfcheck import HIGH, Finding


def report(mode: str, root: Path | None = None) -> tuple[int, list[str]]:
    """(exit code, lines) of the self-check of environment ``mode``."""
    root = Path(root or ROOT)
    problems: list[tuple[str, str]] = []
    try:
        _, environment, _ = load_root_config(root, mode, problems=problems)
    except StartupError as exc:
        return 2, [f"mia: check failed: {exc}"]
    found = [Finding(HIGH, key, message) for key, message in problems]
    routes: list = []
    notes: list[str] = []
    if problems:
        notes.append("routes were not compiled (fix the configuration first); CORS is unchecked")
    else:
        try:
            app = create_app(mode, root, overrides={"embedded": {"path": None}}, run_init=False)
        except StartupError as exc:
            found.append(Finding(HIGH, "start-up", str(exc)))
        else:
            routes, environment = app.config["mia.routes"], Shared.environment
            app.config["mia.databases"].close_all()
    found += selfcheck.findings(environment, routes)
    counts = {level: sum(1 for f in found if f.severity == level) for level in (HIGH, "medium", "low")}
    kind = "production" if selfcheck.production(environment) else "development (allowDemo)"
    lines = [f"mia: security self-check of environment '{mode}' ({kind})"]
    lines += [f.line() for f in found] or ["no findings"]
    lines += [f"note: {n}" for n in notes]
    lines.append(f"{counts[HIGH]} high, {counts['medium']} medium, {counts['low']} low")
    return (1 if counts[HIGH] else 0), lines


def main(mode: str, args: list[str]) -> int:
    if args:
        print("mia: check takes no arguments")
        return 2
    code, lines = report(mode)
    print("\n".join(lines))
    return code
