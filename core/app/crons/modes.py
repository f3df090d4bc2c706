"""How cron jobs run: alongside the web server, ``cron=Job`` once, ``cron=A,B`` on their schedule.

``python server.py local`` serves and schedules every job (unless ``cronJobs.enabled`` is not
True or ``nocron`` is given). ``cron=JobName`` runs that job's ``worker()`` once, now, without
the web server and without database coordination (mia.js's one-off mode); the exit code is 0 when
it succeeded, 1 when it raised, 2 for an unknown name or a disabled environment.
``cron=A,B`` runs those jobs on their schedule, coordinated like the server's, with no web
server, until SIGINT or SIGTERM. A disabled environment never runs a job, in any mode.

Who schedules (:func:`start_for_process`): every serving process that calls it once starts one
scheduler and counts as one *server* in mia.js's sense (its own id and heartbeat). The limits in
the database make that safe with any number of processes and machines: with gunicorn each worker
is a server, so ``max_instance_number_per_server`` counts per worker process, and
``max_instance_number_total`` holds across all of them. Serving code calls it once per process
after the fork (a second call in the same process returns the same scheduler; a forked child
starts its own, since threads do not survive ``fork``).
"""
from __future__ import annotations

import atexit
import logging
import os
import signal
import socket
import threading
from typing import Any

from core.app.crons.control import JobControl, format_rows
from core.app.crons.scheduler import CronScheduler
from core.cron import (  # run_once lives with the base class; re-exported for the run modes
    BaseCronJob,
    find_jobs,
    run_once,
    unknown_jobs,
)
from core.shared import Shared, flag

log = logging.getLogger("mia.cron")
__all__ = ["enabled", "listing", "run_once", "run_scheduled", "start_for_process", "stop_for_process"]
_process: dict[int, CronScheduler] = {}


def settings(environment: dict[str, Any] | None = None) -> dict[str, Any]:
    return dict(((environment if environment is not None else Shared.environment) or {}).get("cronJobs") or {})


def enabled(environment: dict[str, Any] | None = None) -> bool:
    """mia.js runs crons only when ``cronJobs.enabled`` is true."""
    return flag(settings(environment).get("enabled"))


def disabled_message(mode: str) -> str:
    return (f"Cron Manager is disabled for this environment ('{mode}': cronJobs.enabled is not True); "
            "no cron job runs")


def host_allowed(environment: dict[str, Any] | None = None, host_name: str | None = None) -> bool:
    """``cronJobs.allowedHosts``: when set, only those hosts run cron jobs at all."""
    hosts = settings(environment).get("allowedHosts") or []
    return not hosts or (host_name or socket.gethostname()) in hosts


def registered_jobs() -> list[type[BaseCronJob]]:
    return [cls for _, _, cls in Shared.cron_registry.items()]


def start_for_process(mode: str | None = None, *, nocron: bool = False, jobs: list[type[BaseCronJob]] | None = None,
                      host_name: str | None = None) -> CronScheduler | None:
    """The hook serving code calls once per process: start this process's scheduler, or None.

    None when crons are disabled for the environment, ``nocron`` was given, or this host is not in
    ``cronJobs.allowedHosts``; the reason is logged. The scheduler stops gracefully at exit."""
    mode = mode or Shared.mode
    if nocron:
        log.info("cron: nocron given; no cron job runs in this process")
        return None
    if not enabled():
        log.info(disabled_message(mode))
        return None
    if not host_allowed(host_name=host_name):
        log.info("cron: this host (%s) is not in cronJobs.allowedHosts; no cron job runs here",
                 host_name or socket.gethostname())
        return None
    existing = _process.get(os.getpid())
    if existing is not None:
        return existing
    _process.clear()  # a forked child drops its parent's scheduler (its threads did not survive the fork)
    scheduler = CronScheduler(Shared.db(), registered_jobs() if jobs is None else jobs, mode=mode,
                              settings=settings(), host_name=host_name).start()
    _process[os.getpid()] = scheduler
    atexit.register(scheduler.stop)
    return scheduler


def stop_for_process() -> None:
    """Stop this process's scheduler (graceful: running workers get ``cronJobs.stopTimeout`` s)."""
    scheduler = _process.pop(os.getpid(), None)
    if scheduler is not None:
        scheduler.stop()


def run_scheduled(names: list[str], mode: str | None = None, stop: threading.Event | None = None) -> int:
    """``cron=A,B``: those jobs on their schedule, no web server, until SIGINT/SIGTERM (or ``stop``)."""
    jobs, unknown = find_jobs(names)
    if unknown:
        return unknown_jobs(unknown)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    scheduler = start_for_process(mode, jobs=jobs)
    if scheduler is None:
        return 2
    print(f"mia: running cron job(s) {', '.join(names)} on their schedule; no web server (Ctrl-C stops)",
          flush=True)
    while not stop.wait(0.5):
        pass
    stop_for_process()
    return 0


def process_scheduler() -> CronScheduler | None:
    """This process's running scheduler (None outside a serving process or with crons off)."""
    return _process.get(os.getpid())


def controller() -> JobControl:
    """The operator's job control for the current app (and this process's scheduler, if it runs one)."""
    return JobControl(Shared.db(), registered_jobs(), Shared.mode, scheduler=process_scheduler(),
                      settings=settings())


def listing(host_name: str | None = None, database: Any = None) -> list[str]:
    """``python server.py <env> crons``: each job with its next fire time, limits and last run (reads only)."""
    control = JobControl(Shared.db() if database is None else database, registered_jobs(), Shared.mode,
                         host_name=host_name)
    lines = format_rows(control.rows())
    if not enabled():
        lines.append(disabled_message(Shared.mode))
    return lines
