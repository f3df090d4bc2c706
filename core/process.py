"""This process's id, kept in memory and renewed in a forked child.

Why: code on the request path asks whether it still runs in the process that started its thread
or batch (the access log's writer, the overload watchdog); ``os.getpid()`` is a system call each
time, and a forked worker must not take its parent's answer.
"""
from __future__ import annotations

import os

_PID = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _PID.__setitem__(0, os.getpid()))


def current_pid() -> int:
    """``os.getpid()`` without the system call."""
    return _PID[0]
