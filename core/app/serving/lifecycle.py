"""The end of a serving process, the same on every engine, and its tie to the process that started it.

An orderly stop runs in this order: the server stops accepting and lets running requests finish
(each engine does that itself), then :func:`stop_process` stops the cron scheduler (running jobs get
``cronJobs.stopTimeout`` seconds, then are recorded ``interrupted``; slots and the heartbeat are
released) and only then closes the databases (the embedded store saves its snapshot and frees the
data file's lock). Closing the databases first made every stop print ``Cannot use MongoClient after
close`` and left the job's slot held until ``deadServerInterval``.

:func:`die_with_parent` ties a worker to the primary: when the primary is killed (``kill -9``, OOM),
the kernel sends the worker SIGTERM (Linux ``PR_SET_PDEATHSIG``), so no orphan keeps the port and
the data file's lock. :func:`at_worker_exit` runs the stop in a granian worker, whose process ends
with ``os._exit`` (Python's ``atexit`` does not run there).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
from collections.abc import Callable

log = logging.getLogger("mia.server")
PR_SET_PDEATHSIG = 1


def stop_process() -> None:
    """Stop this process's cron scheduler, write the pending access lines, then close its databases."""
    from core.app import access_log
    from core.app.crons import modes as cron_modes
    from core.data import databases as db

    try:
        cron_modes.stop_for_process()  # running workers finish or are recorded interrupted; slots released
    except Exception:  # the databases must close even when a job misbehaves
        log.exception("stopping the cron scheduler failed")
    stop_broadcasts()  # the broadcast reader polls the database: it stops before the clients close
    access_log.flush()  # the requests are done: their lines are written before the process goes
    db.shutdown()  # saves the embedded store's snapshot, closes clients


def stop_broadcasts() -> None:
    """Close this process's WebSocket hub: its broadcast reader stops, open sockets get 1001 (going away)."""
    from core.http.wshub import Hub
    from core.shared import current_state

    for handle in list(current_state()._handles.values()):
        if isinstance(handle, Hub):
            try:
                handle.close_all()
            except Exception:  # noqa: BLE001 - the databases must close even when a socket misbehaves
                log.exception("stopping the broadcast reader failed")


def at_worker_exit(fn: Callable[[], None] = stop_process) -> None:
    """Run ``fn`` when this multiprocessing worker ends cleanly (granian workers skip ``atexit``)."""
    from multiprocessing import util

    util.Finalize(None, fn, exitpriority=100)


def die_with_parent(parent: int | None = None, signum: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send ``signum`` to this process when its parent dies; False where unsupported.

    ``parent`` is the pid the caller expects as its parent: when it died before the call, this
    process was already re-parented and signals itself at once."""
    if not sys.platform.startswith("linux"):
        return False
    parent = os.getppid() if parent is None else parent
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if os.getppid() != parent:
        os.kill(os.getpid(), signum)
    return True
