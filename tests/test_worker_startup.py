"""A production worker's start-up: what it loads, and the collector around the build.

Libraries behind features a worker may never use (push connectors, JWT, WebSocket routes, the
OpenAPI documents) load on first use; the tests of those features show they still work. Start-up
time itself is measured by ``bench/run.py --scale``, not asserted here.
"""
from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

from core.app.serving import memory

ROOT = Path(__file__).resolve().parent.parent
ON_FIRST_USE = ("httpx", "jwt", "cryptography", "flask_sock", "simple_websocket", "apispec", "marshmallow",
                "jsonschema")
WORKER = f"""
import json, sys
from core.app.serving import memory
memory.pause_collection()
from core.app.factory import create_app
create_app("production", overrides={{"server": {{"workers": 1}}, "embedded": {{"path": None}}, "logLevel": "warn"}})
memory.freeze_after_build()
print(json.dumps([name for name in {ON_FIRST_USE!r} if name in sys.modules]))
"""


def test_a_production_worker_loads_no_library_of_a_feature_it_has_not_used():
    done = subprocess.run([sys.executable, "-c", WORKER], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_freeze_after_build_collects_once_and_turns_the_paused_collector_back_on():
    assert gc.isenabled()
    frozen_before = gc.get_freeze_count()
    memory.pause_collection()
    try:
        assert not gc.isenabled()
        assert memory.freeze_after_build() >= frozen_before
        assert gc.isenabled()
    finally:
        gc.unfreeze()  # the test process's objects go back to the collected generations
        gc.enable()


def test_freeze_after_build_leaves_a_collector_it_did_not_pause_alone():
    gc.disable()
    try:
        memory.freeze_after_build()
        assert not gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()
