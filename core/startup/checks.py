"""Start-up checks that need the whole compiled project: models compiled, chains that cannot answer.

``compile_models`` compiles every registered model's rules and index specs without a database, so
``server.py ENV routes`` and ``docs`` stop on a model typo exactly as the real start does, naming the
model file. ``chain_warnings`` lists route methods whose chain has no step that can answer: no
controller with ``sends_response = True`` and none whose function calls ``.send(`` (such a chain
answers 404 to every request, e.g. ``generic-listServices`` without ``generic-defaultResponse``).
"""
from __future__ import annotations

import inspect
from typing import Any

from core.cron import PatternError, complete_time, environment_timezone, never_fires
from core.errors import StartupError
from core.shared import Shared


def compile_models() -> None:
    """Every enabled model's ``data`` rules and indexes, compiled; raises StartupError naming the file."""
    for _, _, model in Shared.model_registry.items():
        try:
            model.schema()
            model.indexes()
        except StartupError as exc:
            if exc.path:
                raise
            raise StartupError(str(exc), getattr(model, "source_file", None)) from exc
        except Exception as exc:  # noqa: BLE001 - any rule error stops the start, naming the model's file
            raise StartupError(f"model {model.identity}: {type(exc).__name__}: {exc}",
                               getattr(model, "source_file", None)) from exc


_seen: dict[Any, bool] = {}


def _may_send(step: Any) -> bool:
    marked = getattr(step.controller, "sends_response", None)
    if marked is not None:
        return bool(marked)
    function = inspect.unwrap(getattr(step.call, "__wrapped__", step.call))
    function = getattr(function, "__func__", function)
    if function not in _seen:
        try:
            _seen[function] = ".send(" in inspect.getsource(function)
        except (OSError, TypeError):  # no source (a C function, a lambda in a REPL): assume it may answer
            _seen[function] = True
    return _seen[function]


def chain_warnings(routes: list[Any]) -> list[str]:
    """One line per HTTP route method whose chain cannot send an answer (WebSocket handshakes need none)."""
    lines = []
    for route in routes:
        if route.is_websocket or any(_may_send(step) for step in route.controllers):
            continue
        lines.append(f"route {route.verb} {route.path} ({route.info.identity or '-'}) has no output controller: "
                     f"no step sends an answer, so it answers 404; add e.g. generic-defaultResponse "
                     f"(in {route.file.path})")
    return lines


def check_crons() -> tuple[list[str], list[str]]:
    """(warnings, notes) about the registered cron jobs; raises StartupError naming job and file.

    A job without ``time.timezone`` takes the environment's ``cronJobs.timezone`` (said in the
    summary); with neither, start-up stops: servers of one cluster in two zones would fire at
    different instants. A pattern that can never fire is a warning.
    """
    warnings, defaulted = [], []
    zone = environment_timezone()
    for identity, _, job in Shared.cron_registry.items():
        where = getattr(job, "source_file", None)
        try:
            time = complete_time(job.time)
        except PatternError as exc:
            raise StartupError(f"cron job {identity}: {exc}", where) from None
        if time["timezone"] is None:
            if zone is None:
                raise StartupError(f"cron job {identity} has no time.timezone and the environment sets no "
                                   "cronJobs.timezone: name the zone (e.g. 'UTC')", where)
            defaulted.append(identity)
        if never_fires(job.time):
            warnings.append(f"cron job {identity} can never fire: no chosen month has its dayOfMonth "
                            f"(time {job.time}) (in {where})")
    notes = [f"cron jobs without a timezone use cronJobs.timezone {zone!r}: {', '.join(defaulted)}"] if defaulted \
        else []
    return warnings, notes
