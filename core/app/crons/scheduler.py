"""One APScheduler 3 ``BackgroundScheduler`` per server process, coordinated through MongoDB.

APScheduler only decides *when* a tick is due; whether it runs is decided by the database
(core/data/cron_slots.py): each tick reserves a slot with one atomic update under the job's
per-server and total limits, runs ``worker()`` and releases the slot, also when the worker raised.
Two internal jobs keep the server honest: the heartbeat (renews this server's lease, frees the
slots of servers whose lease ran out) and the manager (re-reads every job's config from the
database and applies changes to the running timers: time, suspension, forced runs, placement).

Scheduling choices, deliberately:

* A due tick is handed to a fresh daemon thread at once (``TickExecutor``), so a slow worker never
  delays another job's tick and never holds a pool thread; overlapping runs of one job are allowed
  and limited only through the database (``max_instance_number_per_server``), as in mia.js.
* ``coalesce=True``: after a stall (suspended VM, a blocked process) a job runs once, not once per
  missed tick. ``misfire_grace_time`` = ``cronJobs.misfireGraceTime`` (default 60 s): a tick up to a
  minute late still runs, so a daily job is not lost to a short hiccup; later than that it is skipped
  and logged, and the next tick follows the pattern.
* A tick is counted by its *scheduled* fire time, so with ``max_instance_number_total`` n at most n
  runs start per tick on all servers together, whatever the clock skew between them.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.base import BaseExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from core.cron import BaseCronJob, PatternError, cron_trigger, pattern_text
from core.data.cron_slots import DEAD_SERVER_INTERVAL, CronStore, Slot
from core.shared import bound, current_state

log = logging.getLogger("mia.cron")
MANAGER_TIME = {"second": "*/10"}  # how often every server re-reads the job configs (mia.js: twice a minute)
MISFIRE_GRACE = 60
STOP_TIMEOUT = 10.0


class TickExecutor(BaseExecutor):
    """Runs each due tick as ``func(*args, scheduled_run_time)`` on its own daemon thread.

    APScheduler's own executors do not tell the function which fire time it serves; the slot
    reservation needs it to count runs per tick."""

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        run_time = run_times[-1]  # coalesced: the latest due time
        late = datetime.now(UTC) - run_time
        if job.misfire_grace_time is not None and late > timedelta(seconds=job.misfire_grace_time):
            log.warning("cron: tick of %s at %s missed by %s; skipped", job.id, run_time, late)
            self._run_job_success(job.id, [JobExecutionEvent(EVENT_JOB_MISSED, job.id, job._jobstore_alias,
                                                             run_time)])
            return
        # The thread's name carries the scheduled second, so log lines (and workers) can tell the tick.
        thread = threading.Thread(target=job.func, args=(*job.args, run_time), kwargs=job.kwargs,
                                  name=f"cron-{job.id}@{run_time.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}", daemon=True)
        thread.start()
        self._run_job_success(job.id, [])


@dataclass
class JobState:
    """One job in this process: its instance, effective config and timer state."""

    cls: type[BaseCronJob]
    instance: BaseCronJob
    config: dict[str, Any]
    preset: dict[str, Any]
    initialized: bool = False
    scheduled: bool = False
    running: dict[str, tuple[Slot, threading.Thread]] = field(default_factory=dict)


class CronScheduler:
    """The cron jobs of one server process: start(), then stop() (graceful) at shutdown."""

    def __init__(self, database: Any, jobs: list[type[BaseCronJob]], *, mode: str = "local",
                 settings: dict[str, Any] | None = None, host_name: str | None = None,
                 server_id: str | None = None) -> None:
        self.settings = dict(settings or {})
        self.state = current_state()  # the app whose jobs these are: every run sees its Shared
        dead_after = float(self.settings.get("deadServerInterval") or DEAD_SERVER_INTERVAL * 1000) / 1000
        self.store = CronStore(database, mode=mode, host_name=host_name, server_id=server_id, dead_after=dead_after)
        self.mode = mode
        self.jobs: dict[str, JobState] = {}
        for cls in jobs:
            instance = cls()
            preset = cls.preset_config()
            state = JobState(cls, instance, dict(preset), preset)
            instance._stop_check = self._stop_check(cls.identity or cls.__name__)
            self.jobs[cls.identity or cls.__name__] = state
        grace = self.settings.get("misfireGraceTime", MISFIRE_GRACE)
        self.scheduler = BackgroundScheduler(
            executors={"default": TickExecutor()},
            job_defaults={"coalesce": True, "misfire_grace_time": grace, "max_instances": 1})
        self.heartbeat_seconds = max(0.25, min(10.0, dead_after / 4))
        self._stopping = threading.Event()
        self._lock = threading.RLock()
        self._managing = threading.Lock()  # the manager and the heartbeat never overlap themselves
        self._beating = threading.Lock()
        self.started = False

    # -- life cycle ---------------------------------------------------------------------------------
    def start(self) -> CronScheduler:
        """Register this server, create the timers (DB config wins over the preset), start ticking."""
        self.store.register()
        defaults = {"allowedHosts": self.settings.get("allowedHosts") or [],
                    "environment": self.settings.get("environment") or []}
        for identity, state in self.jobs.items():
            try:
                state.config = self.store.ensure_job(identity, state.preset, defaults)
                self._warn_if_preset_differs(identity, state)
                self._apply(identity, state)
            except Exception:  # one broken job must not keep the others from running
                log.exception("cron: '%s' could not be started", identity)
        self.scheduler.add_job(self.heartbeat, IntervalTrigger(seconds=self.heartbeat_seconds),
                               args=(), id="mia-cron-heartbeat", misfire_grace_time=None)
        manager_time = self.settings.get("managerTime") or MANAGER_TIME
        self.scheduler.add_job(self.manage, cron_trigger(manager_time), args=(), id="mia-cron-manager",
                               misfire_grace_time=None)
        self.scheduler.start()
        self.started = True
        log.info("cron: server %s on %s runs %d job(s): %s", self.store.server_id, self.store.host_name,
                 len(self.jobs), ", ".join(sorted(self.jobs)) or "none")
        return self

    @staticmethod
    def _warn_if_preset_differs(identity: str, state: JobState) -> None:
        """The database copy wins (mia.js); say so when the code's preset was changed since."""
        keys = ("time", "isSuspended", "maxInstanceNumberTotal", "maxInstanceNumberPerServer")
        changed = [k for k in keys if state.config.get(k) != state.preset.get(k)]
        if changed:
            log.warning("cron: '%s' runs with its database config (%s differ from the code); edit or delete "
                        "the cronJobExecution document {typeName: '%s'} to change it", identity,
                        ", ".join(changed), identity)

    def stop(self, timeout: float | None = None) -> None:
        """Stop ticking, let running workers finish up to ``timeout`` s, then release what is left."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self.started:
            self.scheduler.shutdown(wait=False)
        timeout = float(self.settings.get("stopTimeout", STOP_TIMEOUT) if timeout is None else timeout)
        deadline = datetime.now(UTC) + timedelta(seconds=timeout)
        for _slot, thread in self._running():
            thread.join(max(0.0, (deadline - datetime.now(UTC)).total_seconds()))
        try:
            for slot, _thread in self._running():
                log.warning("cron: '%s' still running after %.0f s at shutdown; its slot is released",
                            slot.identity, timeout)
                self.store.release(slot, result="interrupted")
            self.store.unregister()
        except Exception:  # the database may be gone at shutdown: the leases then expire by themselves
            log.warning("cron: could not release the slots at shutdown; they expire with this server's lease",
                        exc_info=True)

    def _running(self) -> list[tuple[Slot, threading.Thread]]:
        with self._lock:
            return [entry for state in self.jobs.values() for entry in state.running.values()]

    # -- timers --------------------------------------------------------------------------------------
    def _allowed(self, identity: str, config: dict[str, Any]) -> bool:
        hosts, envs = config.get("allowedHosts") or [], config.get("environment") or []
        if hosts and self.store.host_name not in hosts:
            log.info("cron: '%s' is not allowed to run on this host (%s)", identity, self.store.host_name)
            return False
        if envs and self.mode not in envs:
            log.info("cron: '%s' is not allowed to run on this environment (%s)", identity, self.mode)
            return False
        return True

    def _apply(self, identity: str, state: JobState, was_forced: bool = False) -> None:
        """Create, change, pause or drop the job's timer to match ``state.config`` (mia's _startOrRestartTimer).

        A forced run starts when ``forceRun`` turns true, not again on another edit made while the
        forced run still holds the flag (a ``stopJob`` during it would otherwise start a second run)."""
        config = state.config
        state.instance.config = config
        if not self._allowed(identity, config):
            if state.scheduled:
                self.scheduler.remove_job(identity)
                state.scheduled = False
            return
        if not state.initialized:
            state.instance.initialize()
            state.initialized = True
        trigger = cron_trigger(config["time"])  # RANDOM seconds are drawn anew each time (mia.js)
        if state.scheduled:
            self.scheduler.reschedule_job(identity, trigger=trigger)
            log.info("cron: '%s' detected config update: %s", identity, pattern_text(config["time"]))
        else:
            self.scheduler.add_job(self._tick, trigger, args=(identity,), id=identity)
            state.scheduled = True
        if config["isSuspended"]:
            self.scheduler.pause_job(identity)
        else:
            self.scheduler.resume_job(identity)
        log.debug("cron: '%s' pattern %s, hosts %s, max on this server %s, overall %s, active %s", identity,
                  pattern_text(config["time"]), config["allowedHosts"] or "(any)",
                  config["maxInstanceNumberPerServer"], config["maxInstanceNumberTotal"], not config["isSuspended"])
        if config["forceRun"] and not was_forced:
            threading.Thread(target=self._run, args=(identity, None), name=f"cron-{identity}-forced",
                             daemon=True).start()

    def manage(self, run_time: datetime | None = None) -> None:
        """The manager job: apply database config changes to the timers; drop orphaned documents."""
        if self._stopping.is_set() or not self._managing.acquire(blocking=False):
            return
        try:
            with bound(self.state):
                self._manage()
        finally:
            self._managing.release()

    def _manage(self) -> None:
        for identity, state in self.jobs.items():
            try:
                config = self.store.read_config(identity, state.preset)
                if config != state.config:
                    was_forced = bool(state.config.get("forceRun"))
                    state.config = config
                    self._apply(identity, state, was_forced)
            except Exception:  # a bad edit of one job must not stop the manager
                log.exception("cron: applying the config of '%s' failed", identity)
        try:
            self.store.delete_orphans(list(self.jobs))
        except Exception:
            log.exception("cron: cleaning orphaned job documents failed")

    def heartbeat(self, run_time: datetime | None = None) -> None:
        """Renew this server's lease and free the slots of dead servers."""
        if self._stopping.is_set() or not self._beating.acquire(blocking=False):
            return
        try:
            self.store.beat()
            self.store.reap_dead_servers()
        except Exception:  # a database hiccup: the next beat tries again
            log.warning("cron: heartbeat failed", exc_info=True)
        finally:
            self._beating.release()

    # -- one run -----------------------------------------------------------------------------------
    def _tick(self, identity: str, run_time: datetime | None = None) -> None:
        self._run(identity, run_time)

    def run_now(self, identity: str) -> bool:
        """One forced run now, within the limits (a forced run is not counted per tick); True if it ran."""
        return self._run(identity, None)

    def _run(self, identity: str, tick: datetime | None) -> bool:
        with bound(self.state):
            return self._run_bound(identity, tick)

    def _run_bound(self, identity: str, tick: datetime | None) -> bool:
        state = self.jobs[identity]
        if self._stopping.is_set() or self.store.suspended:
            return False
        try:
            slot = self.store.reserve(identity, state.config, tick)
        except Exception:
            log.warning("cron: '%s' could not reserve a slot", identity, exc_info=True)
            return False
        if slot is None:
            return False
        with self._lock:
            state.running[slot.id] = (slot, threading.current_thread())
        debug = state.config.get("debugOutput")
        if debug:
            self._debug(identity, state, "+1")
        error: BaseException | None = None
        try:
            result = state.instance.worker()
            if inspect.iscoroutine(result):
                asyncio.run(result)
        except Exception as exc:  # recorded on the execution document; the slot is released below
            error = exc
            log.exception("cron: '%s' failed", identity)
        finally:
            with self._lock:
                state.running.pop(slot.id, None)
            try:
                self.store.release(slot, error)
            except Exception:
                log.warning("cron: '%s' could not release its slot (it expires with this server's lease)",
                            identity, exc_info=True)
        if debug:
            self._debug(identity, state, "-1", slot)
        return True

    def _debug(self, identity: str, state: JobState, sign: str, slot: Slot | None = None) -> None:
        here, overall = self.store.counts(identity)
        lapsed = f", time lapsed: {int((datetime.now(UTC) - slot.started).total_seconds() * 1000)}ms" if slot else ""
        log.info("cron: '%s' %s active instances on this server: %d/%s, overall: %d/%s%s", identity, sign, here,
                 state.config["maxInstanceNumberPerServer"] or "unlimited", overall,
                 state.config["maxInstanceNumberTotal"] or "unlimited", lapsed)

    def _stop_check(self, identity: str) -> Any:
        def check() -> bool:
            return self._stopping.is_set() or self.store.stop_requested(identity)
        return check

    def next_fire_time(self, identity: str) -> datetime | None:
        job = self.scheduler.get_job(identity) if self.started else None
        return job.next_run_time if job is not None else None


def preview_next_fire(config: dict[str, Any]) -> datetime | None:
    """The next time a job with ``config`` would fire (for listings; None when suspended or broken)."""
    if config.get("isSuspended"):
        return None
    try:
        trigger = cron_trigger(config.get("time") or {})
    except PatternError:
        return None
    return trigger.get_next_fire_time(None, datetime.now(UTC))
