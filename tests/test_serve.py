"""Serving under gunicorn (environments that set server.workers): the worker builds its app after the fork."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from conftest import ROOT, free_port

SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from core.app.serving.serve import run_gunicorn
from core.app.factory import create_app
from core.shared import Shared
overrides = {{"server": {{"http": {{"host": "127.0.0.1", "port": {port}}}, "workers": 1, "threads": 2}},
             "logLevel": "warn"}}
create_app("test", overrides=overrides, run_init=False)
run_gunicorn(lambda: create_app("test", overrides=overrides), Shared.environment)
"""



def test_gunicorn_worker_serves_the_app_and_stops_on_sigterm(tmp_path):
    port = free_port()
    home = tmp_path / "home"
    home.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT.format(root=str(ROOT), port=port)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "HOME": str(home)})
    try:
        deadline, body = time.monotonic() + 30, None
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/icecream/v1/flavours?flavour=Vanilla",
                                            timeout=2) as response:
                    body = json.loads(response.read())
            except OSError:
                time.sleep(0.2)
        assert body == {"status": 200, "response": "I love vanilla icecream"}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        output = proc.communicate(timeout=20)[0].decode(errors="replace")
    assert proc.returncode == 0, output
    assert output.count("Booting worker") == 1, output  # the embedded store allows one worker
    assert list(home.iterdir()) == [], "gunicorn wrote under $HOME (control socket)"
