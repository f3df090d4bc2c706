"""The one lock every write of the embedded store runs under (core.data.embedded wraps the writes).

Why: mongomock checks, then acts: two threads deleting (or expiring) one document raised KeyError, a
unique index could be checked by two inserts at once. The threaded server runs requests in parallel,
so every write of the embedded store goes through this lock (it serves one process; MongoDB does its
own locking), and snapshots, reloads and index builds (core.data.embedded_index) take it too.
"""
from __future__ import annotations

import threading

WRITE_LOCK = threading.RLock()
