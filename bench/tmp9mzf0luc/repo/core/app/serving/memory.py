"""Memory after start-up: move everything the build created out of the garbage collector's sight.

Why: a built app is hundreds of thousands of long-lived objects (compiled routes, validators,
werkzeug rule tables, modules). Left in the collected generations, every full collection walks
them all (a 10,000-route worker stalled ~1.9 s), and in forked workers the walk writes to every
object's header, so pages shared copy-on-write with the primary process get copied.
``gc.freeze()`` moves them to the permanent generation: never scanned, never written by the GC.

Call :func:`freeze_after_build` once the app is built: in the primary process before it forks the
workers (they inherit the frozen generation), and in a worker that builds its own app. A worker
calls :func:`pause_collection` first, before its imports: while the heap only grows, each automatic
collection rescans everything built so far (a third of a 10,000-route worker's build), and the one
collection in :func:`freeze_after_build` finds the same garbage.
"""
from __future__ import annotations

import gc

_paused = False


def pause_collection() -> None:
    """No automatic collection until :func:`freeze_after_build` (which collects once and turns it back on)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def freeze_after_build() -> int:
    """Collect the start-up garbage, then freeze what survives; returns how many objects are frozen."""
    global _paused
    gc.collect()
    gc.freeze()
    if _paused:
        _paused = False
        gc.enable()
    return gc.get_freeze_count()
