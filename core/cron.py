"""Cron jobs: the base class project crons subclass, and mia's time pattern as an APScheduler trigger.

A job declares mia.js's settings under Python names (``time``, ``is_suspended``, ``allowed_hosts``,
``environment``, ``max_instance_number_total``, ``max_instance_number_per_server``, ``debug_output``)
and implements ``worker(self)``. The time pattern keeps mia.js's semantics exactly (cron npm 1.4.1,
spec mia-core-behaviour §5.2), which differ from APScheduler's ``CronTrigger``: months count from 0,
Sunday is 0, out-of-range values are clamped, ``RANDOM`` in ``second`` draws a second, and day of
month and day of week must both match. So every field is expanded here to the set of values
mia.js would fire on, and the trigger gets that set in APScheduler's numbering. The one-off mode
(``cron=JobName``: run now, no coordination) is here too, as it needs nothing but the registry.
Scheduling, coordination through MongoDB and the other run modes live in core/data/cron_slots.py
and core/app/ (scheduler.py, cron_modes.py).
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import random
import re
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from apscheduler.triggers.cron import CronTrigger

from core.shared import Identified, RegistryError, Shared

log = logging.getLogger("mia.cron")

# mia's field order, its value range (cron npm 1.4.1 constraints) and APScheduler's field name.
FIELDS: tuple[tuple[str, int, int, str], ...] = (
    ("second", 0, 59, "second"),
    ("minute", 0, 59, "minute"),
    ("hour", 0, 23, "hour"),
    ("dayOfMonth", 1, 31, "day"),
    ("month", 0, 11, "month"),
    ("dayOfWeek", 0, 6, "day_of_week"),
)
# cron npm's parseDefaults: a missing second is 0 (a 5-field pattern), any other missing field is every value.
DEFAULTS = {"second": "0", "minute": "*", "hour": "*", "dayOfMonth": "*", "month": "*", "dayOfWeek": "*"}
ALIASES = {name: n for n, name in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
ALIASES.update({name: n for n, name in enumerate("sun mon tue wed thu fri sat".split())})
_ALIAS = re.compile(r"[a-z]{1,3}", re.IGNORECASE)
_RANGE = re.compile(r"^(\d+)(?:-(\d+))?(?:/(\d+))?$")
TIME_KEYS = frozenset(name for name, *_ in FIELDS) | {"timezone"}

# The Python attribute -> mia.js's key in the execution document's ``config`` (and its default).
CONFIG_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("is_suspended", "isSuspended"),
    ("debug_output", "debugOutput"),
    ("allowed_hosts", "allowedHosts"),
    ("environment", "environment"),
    ("max_instance_number_total", "maxInstanceNumberTotal"),
    ("max_instance_number_per_server", "maxInstanceNumberPerServer"),
)


class PatternError(ValueError):
    """A time pattern mia.js would reject (unknown alias, unparsable field, unknown key)."""


def parse_field(text: Any, low: int, high: int) -> list[int]:
    """The values one field fires on, exactly as cron npm 1.4.1's ``_parseField`` computes them.

    ``*`` is ``low-high``; a list is split on commas; each part is ``a``, ``a-b``, ``a/s`` or
    ``a-b/s`` (``a/s`` without an upper bound is just ``a``, as in cron 1.4.1). Values are clamped
    into ``[low, high]``; a range whose end is below its start yields its start. Names (``jan``,
    ``sun``) are replaced by their numbers first.
    """
    source = str(text).strip()
    if not source:
        raise PatternError("empty field")

    def alias(match: re.Match[str]) -> str:
        name = match.group(0).lower()
        if name not in ALIASES:
            raise PatternError(f"Unknown alias: {name}")
        return str(ALIASES[name])

    source = _ALIAS.sub(alias, source).replace("*", f"{low}-{high}")
    values: set[int] = set()
    for part in source.split(","):
        match = _RANGE.match(part)
        if not match:
            raise PatternError(f"Field ({source}) cannot be parsed")
        lower_text, upper_text, step_text = match.groups()
        step = int(step_text) if step_text and int(step_text) else 1
        lower = min(max(low, int(lower_text)), high)
        upper = min(high, int(upper_text)) if upper_text is not None else lower
        pointer = lower
        while True:  # do ... while, as in cron npm: the start always counts
            values.add(pointer)
            pointer += step
            if pointer > upper:
                break
    return sorted(values)


def draw_random(second: Any, rng: random.Random | None = None) -> str:
    """mia's ``RANDOM`` in ``second``: each occurrence becomes a second 0..60 (60 is clamped to 59 later)."""
    rng = rng or random.Random()
    return re.sub("RANDOM", lambda _: str(rng.randint(0, 60)), str(second))


def complete_time(time: dict[str, Any] | None) -> dict[str, Any]:
    """The six fields (mia's defaults for missing ones) plus ``timezone``; unknown keys are an error."""
    time = dict(time or {})
    unknown = sorted(set(time) - TIME_KEYS)
    if unknown:
        raise PatternError(f"unknown time key(s) {', '.join(unknown)}; use {', '.join(sorted(TIME_KEYS))}")
    empty = [name for name, *_ in FIELDS if isinstance(time.get(name), str) and not time[name].strip()]
    if empty:  # mia.js refuses it; silently taking the default ran an hourly job every minute
        raise PatternError(f"time.{empty[0]} is empty: give a value or leave the key out (missing second = 0, "
                           "any other missing field = *)")
    out: dict[str, Any] = {name: time[name] if time.get(name) is not None else DEFAULTS[name]
                           for name, *_ in FIELDS}
    out["timezone"] = time.get("timezone") or None
    return out


# Days each month (mia's numbering, from 0) can have; February 29 exists in leap years.
MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def never_fires(time: dict[str, Any]) -> bool:
    """True when no chosen month has any chosen day of month (``dayOfMonth: 31, month: 1``).

    cron npm 1.4.1 moved such a fire to another day; here it never fires, and start-up warns.
    Every weekday falls on every day 1-31 in some year, so the day of week cannot make it impossible.
    """
    values = expand(time, random.Random(0))
    return not any(day <= MONTH_DAYS[month] for month in values["month"] for day in values["dayOfMonth"])


def environment_timezone() -> str | None:
    """The environment's ``cronJobs.timezone``: the zone of jobs whose ``time`` names none."""
    value = (Shared.environment.get("cronJobs") or {}).get("timezone")
    return value if isinstance(value, str) and value else None


def expand(time: dict[str, Any], rng: random.Random | None = None) -> dict[str, list[int]]:
    """Every field of a mia time pattern as the sorted values mia.js fires on (mia's numbering)."""
    full = complete_time(time)
    out: dict[str, list[int]] = {}
    for name, low, high, _ in FIELDS:
        text = str(full[name])
        if "RANDOM" in text:
            if name != "second":
                raise PatternError(f"RANDOM is only allowed in 'second', not in '{name}'")
            text = draw_random(text, rng)
        try:
            out[name] = parse_field(text, low, high)
        except PatternError as exc:
            raise PatternError(f"time.{name} {full[name]!r}: {exc}") from None
    return out


def _join(values: list[int], full: range) -> str:
    return "*" if values == list(full) else ",".join(str(v) for v in values)


def apscheduler_fields(values: dict[str, list[int]]) -> dict[str, str]:
    """mia's values in APScheduler's numbering: months from 1, Monday = 0 (so mia's Sunday 0 -> 6)."""
    out: dict[str, str] = {}
    for name, low, high, target in FIELDS:
        field = values[name]
        if name == "month":
            field = [v + 1 for v in field]
            low, high = 1, 12
        elif name == "dayOfWeek":
            field = sorted((v + 6) % 7 for v in field)
        out[target] = _join(field, range(low, high + 1))
    return out


def cron_trigger(time: dict[str, Any], rng: random.Random | None = None) -> CronTrigger:
    """An APScheduler ``CronTrigger`` firing exactly when mia.js's pattern would (``RANDOM`` drawn now).

    No timezone -> the environment's ``cronJobs.timezone``; without that the server's local time
    (start-up refuses a loaded job with neither: core/startup/checks.py ``check_crons``)."""
    fields = apscheduler_fields(expand(time, rng))
    timezone = complete_time(time)["timezone"] or environment_timezone()
    try:
        return CronTrigger(timezone=timezone, **fields) if timezone else CronTrigger(**fields)
    except (ValueError, LookupError) as exc:
        raise PatternError(f"time.timezone {timezone!r}: {exc}") from None


def pattern_text(time: dict[str, Any]) -> str:
    """mia's pattern string ``second minute hour dayOfMonth month dayOfWeek`` (for listings and logs)."""
    full = complete_time(time)
    text = " ".join(str(full[name]) for name, *_ in FIELDS)
    zone = full["timezone"] or environment_timezone()
    return f"{text} ({zone})" if zone else text


def _count(value: Any, key: str) -> int:
    if isinstance(value, bool) or value is None:
        value = 0 if value is None else value
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise PatternError(f"{key} must be a number, got {value!r}") from None
    if number < 0:
        raise PatternError(f"{key} must be 0 (unlimited) or more, got {number}")
    return number


def _names(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise PatternError(f"{key} must be a list of strings, got {value!r}")
    return list(value)


def normalise_config(config: dict[str, Any]) -> dict[str, Any]:
    """A job config in mia's keys, checked (mia's generic-cronJobConfigModel); raises PatternError.

    Used for the code's preset and for the copy an operator edits in the database."""
    if not isinstance(config, dict):
        raise PatternError("config must be a document")
    time = config.get("time") or {}
    if not isinstance(time, dict):
        raise PatternError("time must be a document")
    cron_trigger(time, random.Random(0))  # parses every field and the timezone (RANDOM drawn and dropped)
    return {
        "time": {k: v for k, v in time.items() if v is not None},
        "isSuspended": config.get("isSuspended") is True,
        "debugOutput": config.get("debugOutput") is True,
        "allowedHosts": _names(config.get("allowedHosts"), "allowedHosts"),
        "environment": _names(config.get("environment"), "environment"),
        "maxInstanceNumberTotal": _count(config.get("maxInstanceNumberTotal"), "maxInstanceNumberTotal"),
        "maxInstanceNumberPerServer": _count(config.get("maxInstanceNumberPerServer"), "maxInstanceNumberPerServer"),
        "forceRun": config.get("forceRun") is True,
        "stopJob": config.get("stopJob") is True,
    }


class BaseCronJob(Identified, ABC):
    """A job with a mia-style ``time`` pattern and a ``worker(self)`` function.

    The class attributes are the *preset*: on the first start they are written to the job's
    execution document in MongoDB, and from then on the database copy wins (an operator changes
    the time, suspends the job or forces a run by editing it). One instance per job and process
    runs every tick, so concurrent runs share it. ``self.config`` is the effective config (mia's
    keys) of the current process; ``self.should_stop()`` tells a long worker to wind down.
    """

    time: ClassVar[dict[str, Any]] = {}
    is_suspended: ClassVar[bool] = False
    allowed_hosts: ClassVar[list[str]] = []
    environment: ClassVar[list[str]] = []
    max_instance_number_total: ClassVar[int] = 0  # 0 = unlimited
    max_instance_number_per_server: ClassVar[int] = 0  # 0 = unlimited
    debug_output: ClassVar[bool] = False
    force_run: bool = False  # True while the one-off mode (cron=JobName) runs the worker
    _stop_check: Any = None  # set by the scheduler

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A broken pattern fails when the module is loaded, so start-up names the file."""
        super().__init_subclass__(**kwargs)
        if "time" in cls.__dict__ or any(attr in cls.__dict__ for attr, _ in CONFIG_ATTRIBUTES):
            try:
                cls.preset_config()
            except PatternError as exc:
                raise PatternError(f"cron job {cls.identity or cls.__name__}: {exc}") from None

    def __init__(self) -> None:
        self.config: dict[str, Any] = self.preset_config()
        self._stop_check: Any = None

    @classmethod
    def preset_config(cls) -> dict[str, Any]:
        """The code's declarations as a config document in mia.js's keys."""
        config = {key: getattr(cls, attr) for attr, key in CONFIG_ATTRIBUTES}
        config["time"] = dict(cls.time or {})
        return normalise_config(config)

    def initialize(self) -> None:
        """Called once per process before the job's timer is first created (mia's ``initialize``)."""

    @abstractmethod
    def worker(self) -> Any:
        """The job's work; an exception marks the run as failed (recorded, the slot is released)."""

    def should_stop(self) -> bool:
        """True when the server is shutting down or an operator set ``config.stopJob`` (mia's shouldJobStop)."""
        check = getattr(self, "_stop_check", None)
        return bool(check and check())


# -- the one-off mode (python server.py <env> cron=JobName): no scheduler, no database coordination --
def find_jobs(names: list[str]) -> tuple[list[type[BaseCronJob]], list[str]]:
    """The job classes for ``names`` (identities, case-sensitive) and the names nobody registered."""
    found, unknown = [], []
    for name in names:
        try:
            found.append(Shared.crons(name))
        except RegistryError:
            unknown.append(name)
    return found, unknown


def unknown_jobs(names: list[str]) -> int:
    known = sorted(identity for identity, _, _ in Shared.cron_registry.items())
    for name in names:
        log.error("unknown cron job %r; known jobs: %s", name, ", ".join(known) or "none")
    return 2


def run_once(names: list[str]) -> int:
    """Run the named jobs now, one after another, without coordination; the exit code tells success."""
    jobs, unknown = find_jobs(names)
    if unknown:
        return unknown_jobs(unknown)
    for job_class in jobs:
        job = job_class()
        job.force_run = True
        try:
            job.initialize()
            result = job.worker()
            if inspect.iscoroutine(result):
                asyncio.run(result)
        except Exception:  # noqa: BLE001 - reported through the exit code
            log.exception("cron job %s failed", job_class.identity)
            return 1
        log.info("cron job %s finished", job_class.identity)
    return 0
