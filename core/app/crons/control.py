"""Job control for operators: list, suspend, resume, run and stop cron jobs, and the server's endpoint.

Why: suspending, forcing or stopping a job used to mean editing ``cronJobExecution`` by hand, and
nothing outside the process could do it on the embedded store. :class:`JobControl` does each action
as one update of the job's execution document (the same fields the schedulers' managers already
apply: ``config.isSuspended``, ``config.forceRun``, ``config.stopJob``), so it works from
``server.py <env> crons ...`` against MongoDB, and inside a running server through its endpoint:

``GET /_mia/crons`` lists; ``POST /_mia/crons/<job>/<suspend|resume|run|stop|once>`` acts (``once``:
what ``cron=Job`` does, run the worker now in that server, uncoordinated, and answer its result).
The endpoint answers only a loopback peer that came without proxy headers (``X-Forwarded-For``,
``Forwarded``, ``X-Real-IP``), names this machine in ``Host`` and sends ``X-Mia-Control: 1`` (so neither
a proxy on the same host, a web page in a local browser nor DNS rebinding reaches it), or a caller
sending ``X-Mia-Admin-Key`` equal to ``control.adminKey``; anyone else gets the 404 any unknown path
gets. ``control.enabled: False`` removes it.
Listing reads only; it never writes a document.
"""
from __future__ import annotations

import difflib
import hmac
import ipaddress
import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, request

from core.app.crons.scheduler import CronScheduler, preview_next_fire
from core.cron import BaseCronJob, PatternError, normalise_config, pattern_text, run_once
from core.data.cron_slots import CronStore
from core.errors import MiaError
from core.http.output import error_response
from core.shared import Shared, flag

log = logging.getLogger("mia.cron")
ACTIONS = ("suspend", "resume", "run", "stop")
PATH = "/_mia/crons"
ADMIN_HEADER = "X-Mia-Admin-Key"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP", "HTTP_X_FORWARDED_HOST")
HEADER = f"{'job':32} {'pattern':28} {'next run':19}  {'limits':13} {'state':11} last run"


class UnknownJob(LookupError):
    """No registered cron job has that identity."""


def _when(moment: Any) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if isinstance(moment, datetime) else "-"


def format_rows(rows: list[dict[str, Any]]) -> list[str]:
    """The listing's text lines (the same for a local database and a server's endpoint)."""
    lines = [HEADER]
    for row in rows:
        lines.append(f"{row['job']:32} {row['pattern']:28} {row['next']:19}  {row['limits']:13} "
                     f"{row['state']:11} {row['last']}")
    if len(lines) == 1:
        lines.append("(no cron jobs)")
    return lines


class JobControl:
    """The operator's actions on one database's job documents (and this process's scheduler, if any)."""

    def __init__(self, database: Any, jobs: list[type[BaseCronJob]], mode: str,
                 scheduler: CronScheduler | None = None, settings: dict[str, Any] | None = None,
                 host_name: str | None = None) -> None:
        self.store = CronStore(database, mode=mode, host_name=host_name)
        self.jobs = {cls.identity or cls.__name__: cls for cls in jobs}
        self.mode = mode
        self.scheduler = scheduler
        self.settings = dict(settings or {})

    def job(self, name: str) -> type[BaseCronJob]:
        if name not in self.jobs:
            close = difflib.get_close_matches(name, list(self.jobs), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; known: {', '.join(sorted(self.jobs)) or 'none'}"
            raise UnknownJob(f"unknown cron job '{name}'{hint}")
        return self.jobs[name]

    # -- reading ----------------------------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        """One row per job: pattern, next run, limits, state, last run. Reads only."""
        rows = []
        for identity, cls in sorted(self.jobs.items()):
            doc = self.store.document(identity) or {}
            try:
                config = normalise_config(doc["config"]) if doc.get("config") else cls.preset_config()
            except PatternError:
                config = cls.preset_config()
            allowed = (not config["allowedHosts"] or self.store.host_name in config["allowedHosts"]) and (
                not config["environment"] or self.mode in config["environment"])
            running = len(doc.get("runningJobsOverall") or [])
            state = "suspended" if config["isSuspended"] else ("active" if allowed else "not here")
            if running:
                state = "stopping" if config.get("stopJob") else f"running {running}"
            limits = f"{config['maxInstanceNumberPerServer'] or '-'}/srv {config['maxInstanceNumberTotal'] or '-'}/all"
            stats = doc.get("stats") or {}
            last = "never"
            if stats.get("lastStarted"):
                result = "running" if running else stats.get("lastResult", "?")
                last = (f"{result} {_when((stats.get('lastEnded') or stats['lastStarted']).get('time'))} "
                        f"(runs {stats.get('timesStarted', 0)}, failed {stats.get('timesFailed', 0)})")
                if result == "failed" and stats.get("lastError"):
                    last += f": {stats['lastError'].get('message', '')[:60]}"
            rows.append({"job": identity, "pattern": pattern_text(config["time"]),
                         "next": _when(preview_next_fire(config) if allowed else None), "limits": limits,
                         "state": state, "last": last, "suspended": bool(config["isSuspended"]), "running": running})
        return rows

    def live_servers(self) -> int:
        now = datetime.now(UTC)
        return int(self.store.heartbeats.count_documents({"status": "active", "leaseUntil": {"$gt": now}}))

    # -- acting -----------------------------------------------------------------------------------
    def act(self, name: str, action: str) -> tuple[int, str]:
        """(exit code, one line): 0 done, 1 refused (e.g. run of a suspended job); UnknownJob for a bad name."""
        cls = self.job(name)
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
        defaults = {"allowedHosts": self.settings.get("allowedHosts") or [],
                    "environment": self.settings.get("environment") or []}
        config = self.store.ensure_job(name, cls.preset_config(), defaults)  # acting may create the document
        doc = self.store.document(name) or {}
        running = len(doc.get("runningJobsOverall") or [])
        if action == "suspend":
            self._set(name, {"config.isSuspended": True})
            return 0, f"'{name}' suspended: no new run starts{self._when_applied()}" + (
                f"; {running} running instance(s) finish ('crons stop {name}' asks them to stop)" if running else "")
        if action == "resume":
            self._set(name, {"config.isSuspended": False})
            return 0, f"'{name}' resumed{self._when_applied()}"
        if action == "stop":
            if not running:
                return 1, f"'{name}' is not running; nothing to stop"
            self._set(name, {"config.stopJob": True})
            return 0, (f"asked {running} running instance(s) of '{name}' to stop (their worker checks "
                       "self.should_stop(); the flag is cleared when the run ends)")
        if config.get("isSuspended"):
            return 1, f"'{name}' is suspended; 'crons resume {name}' first"
        self._set(name, {"config.forceRun": True})
        if self.scheduler is None and not self.live_servers():
            return 0, f"'{name}' will run once as soon as a server with cron jobs starts (none is running now)"
        return 0, f"'{name}' runs once now{self._when_applied()} (within its instance limits)"

    def _set(self, name: str, fields: dict[str, Any]) -> None:
        self.store.executions.update_one({"typeName": name}, {"$set": fields})
        if self.scheduler is not None:  # inside a server: apply at once instead of at the next manager tick
            threading.Thread(target=self.scheduler.manage, name="cron-control-apply", daemon=True).start()

    def _when_applied(self) -> str:
        if self.scheduler is not None:
            return ""
        every = pattern_text(self.settings.get("managerTime") or {"second": "*/10"})
        return f" (each server applies it at its next manager tick, {every})"

    def once(self, name: str) -> tuple[int, str]:
        """``cron=Job`` inside this server: the worker now, uncoordinated; (0 success | 1 failed, line)."""
        self.job(name)
        code = run_once([name])
        return code, f"'{name}' ran in the server (pid {os.getpid()}): {'success' if code == 0 else 'failed'}"


# -- the endpoint --------------------------------------------------------------------------------
def _loopback(environ: dict[str, Any]) -> bool:
    if any(environ.get(name) for name in PROXY_HEADERS):
        return False  # a proxy on this host forwards other clients: never trust those as local
    try:
        address = ipaddress.ip_address(str(environ.get("REMOTE_ADDR") or "").split("%")[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool((mapped or address).is_loopback)


def _loopback_host(environ: dict[str, Any]) -> bool:
    """The Host names this machine: a DNS-rebound name (evil.example -> 127.0.0.1) does not."""
    host = str(environ.get("HTTP_HOST") or "").lower()
    name = host[1:].split("]")[0] if host.startswith("[") else host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name in LOOPBACK_NAMES


def allowed(environ: dict[str, Any], settings: dict[str, Any]) -> bool:
    """The admin key (compared in constant time), or a loopback peer without proxy headers that names
    this machine in ``Host`` and sends ``X-Mia-Control: 1`` (a header a web page cannot send to
    another origin without a CORS preflight this endpoint never grants)."""
    key = settings.get("adminKey")
    sent = environ.get("HTTP_" + ADMIN_HEADER.upper().replace("-", "_"))
    if key and sent:
        return hmac.compare_digest(str(sent).encode(), str(key).encode())
    return environ.get("HTTP_X_MIA_CONTROL") == "1" and _loopback_host(environ) and _loopback(environ)


def install(app: Flask, environment: dict[str, Any], make_control: Callable[[], JobControl],
            crons_enabled: Callable[[], bool]) -> None:
    """Mount ``/_mia/crons`` (before direct dispatch is installed) unless ``control.enabled`` is false.

    ``make_control`` gives the current app's :class:`JobControl` (core/app/crons/modes.py's ``controller``)."""
    settings = dict(environment.get("control") or {})
    if not flag(settings.get("enabled"), default=True):
        return

    def guard() -> None:
        if not allowed(request.environ, settings):
            raise MiaError(404)

    def listing() -> Any:
        guard()
        return {"status": 200, "response": {"server": "mia", "mode": Shared.mode, "pid": os.getpid(),
                                             "enabled": crons_enabled(), "jobs": make_control().rows()}}

    def act(job: str, action: str) -> Any:
        guard()
        control = make_control()
        try:
            code, message = control.once(job) if action == "once" else control.act(job, action)
        except UnknownJob as exc:
            return error_response(MiaError(404, code="UnknownCronJob", msg=str(exc)), request)
        except ValueError as exc:
            return error_response(MiaError(400, code="UnknownAction", msg=str(exc)), request)
        log.info("cron control: %s %s from %s: %s", action, job, request.remote_addr, message)
        return {"status": 200, "response": {"code": code, "message": message}}

    app.add_url_rule(PATH, "mia-crons", listing, methods=["GET"])
    app.add_url_rule(f"{PATH}/<job>/<action>", "mia-crons-act", act, methods=["POST"])
