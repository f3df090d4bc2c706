"""Start-up as a mia.js user meets it (issue 25): ``disabled``, ``routes`` = the start's checks, WS in
listings, chains without output, environments that extend a base, did-you-mean on the command line."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import simple_websocket

from conftest import ROOT, serve_live
from core.app.factory import create_app
from core.app.summary import format_route_table, summary
from core.errors import StartupError
from core.shared import Shared

CONTROLLERS = '''
from core import Controller

class On(Controller):
    identity = "on"
    def all(self, req, res):
        res.response = "on"

class Off(Controller):
    identity = "off"
    disabled = True
    def all(self, req, res):
        res.response = "off"
'''
ROUTES = '''
routes = {"group": "g", "prefix": "/p", "routes": {
    "./on": {"list": {"identity": "on-route", "controller": [{"name": "on"}, {"name": "out"}]}},
    "./off": {"list": {"identity": "off-route", "controller": [{"name": "off"}, {"name": "out"}]}},
}}
'''
CRONS = '''
from core import BaseCronJob

class Runs(BaseCronJob):
    identity = "runs-job"
    time = {"second": "0", "timezone": "UTC"}
    def worker(self):
        pass

class Sleeps(BaseCronJob):
    identity = "sleeps-job"
    disabled = True
    time = {"second": "0", "timezone": "UTC"}
    def worker(self):
        raise AssertionError("a disabled job ran")
'''


def test_disabled_controllers_and_crons_are_not_registered_listed_run_or_mounted(tree):
    tree.write("projects/base/controllers/c.py", CONTROLLERS)
    tree.write("projects/base/routes/r.py", ROUTES)
    tree.write("projects/base/crons/j.py", CRONS)
    app = tree.app()
    client = app.test_client()
    assert client.get("/p/on").get_json() == {"status": 200, "response": "on"}
    assert client.get("/p/off").status_code == 404
    assert [r.info.identity for r in app.config["mia.routes"]] == ["on-route"]
    assert [name for name, _, _ in Shared.cron_registry.items()] == ["runs-job"]
    warning = next(line for line in app.config["mia.warnings"] if "off-route" in line)
    assert "controller off is disabled" in warning and "routes/r.py" in warning
    assert "WARNING: route list /p/off" in summary(app)
    from core.app.crons.modes import listing
    assert not any("sleeps-job" in line for line in listing())


def test_routes_compiles_models_as_the_start_does(tree):
    tree.write("projects/base/models/m.py", '''
from core import BaseModel

class Broken(BaseModel):
    identity = "broken-model"
    collection_name = "broken"
    data = {"name": {"type": str, "maxLenght": 3}}
''')
    with pytest.raises(StartupError) as caught:
        create_app("test", tree.root, run_init=False)  # what `server.py ENV routes` and `docs` build
    assert "maxLenght" in str(caught.value) and caught.value.path.endswith("models/m.py")


def test_a_chain_without_an_output_controller_warns_at_start_up_with_the_route_file(tree):
    tree.write("projects/base/routes/r.py", '''
routes = {"group": "g", "prefix": "/p", "routes": {
    "./services": {"list": {"identity": "listing", "controller": [{"name": "generic-listServices"}]}},
    "./fine": {"list": {"identity": "fine", "controller": [{"name": "out"}]}},
}}
''')
    for name in ("controllers/services", "controllers/output"):
        source = ROOT / "projects" / "generic" / name
        for path in source.glob("*.py"):
            tree.write(f"projects/generic/{name}/{path.name}", path.read_text())
    app = tree.app()
    [warning] = app.config["mia.warnings"]
    assert "GET /p/services (listing) has no output controller" in warning and "routes/r.py" in warning
    assert app.test_client().get("/p/services").status_code == 404  # what the warning predicts


def test_routes_and_the_summary_show_websocket_routes_as_ws():
    done = subprocess.run([sys.executable, "server.py", "local", "routes"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "MIA_CFG_EMBEDDED__PATH": "null"})
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if "/live/todos" in line]
    assert lines and all(line.startswith("WS ") for line in lines)
    app = create_app("test", ROOT, run_init=False)
    table = format_route_table(app.config["mia.routes"])
    assert any(line.startswith("WS ") and "/demo/v1/live/todos" in line for line in table)
    assert not any(line.startswith("GET ") and "/live/todos" in line for line in table)


def test_the_access_log_writes_a_socket_session_as_ws(monkeypatch):
    from core.app import access_log

    recorded: list[tuple] = []
    original = access_log.WRITER.record
    monkeypatch.setattr(access_log.WRITER, "record", lambda *line: (recorded.append(line), original(*line))[1])
    monkeypatch.setattr(access_log.WRITER, "enabled_for", lambda identity: True)
    app = create_app("test", ROOT)
    try:
        with serve_live(app) as url:
            ws = simple_websocket.Client.connect(url.replace("http", "ws") + "/demo-auth/v1/live/todos",
                                                 headers={"key": "9cd43d5622a2fa78b67b3412a2d8c614"})
            ws.receive(timeout=5)
            ws.close()
            for _ in range(100):  # the line is recorded when the session ends
                if any(line[1] == "/demo-auth/v1/live/todos" for line in recorded):
                    break
                time.sleep(0.05)
        lines = [line for line in recorded if line[1] == "/demo-auth/v1/live/todos"]
        assert lines and all(line[0] == "WS" for line in lines), recorded
    finally:
        app.config["mia.hub"].close_all()
        app.config["mia.databases"].close_all()


def test_an_environment_extends_a_base_key_by_key(tree):
    tree.env({"debug": True, "rateLimit": {"maxRequests": 100, "interval": 5}, "title": "base",
              "cronJobs": {"enabled": False, "allowedHosts": ["a"]}}, mode="local")
    tree.write("config/env/stage.py", '''
extends = "local"
environment = {"title": "stage", "cronJobs": {"allowedHosts": ["b"]}}
''')
    tree.app(mode="stage")
    env = Shared.environment
    assert (env["title"], env["debug"], env["rateLimit"]) == ("stage", True, {"maxRequests": 100, "interval": 5})
    assert env["cronJobs"] == {"enabled": False, "allowedHosts": ["b"]}  # merged key by key, lists replaced
    assert env["mode"] == "stage"


def test_extends_names_an_unknown_or_circular_base_at_start_up(tree):
    tree.write("config/env/a.py", 'extends = "b"\nenvironment = {}')
    tree.write("config/env/b.py", 'extends = "a"\nenvironment = {}')
    with pytest.raises(StartupError, match="circle: a -> b -> a"):
        tree.app(mode="a")
    tree.write("config/env/c.py", 'extends = "nope"\nenvironment = {}')
    with pytest.raises(StartupError, match="unknown environment 'nope'") as caught:
        tree.app(mode="c")
    assert caught.value.path.endswith("env/c.py")


@pytest.mark.parametrize("argv, hint", [(["local", "routs"], "(did you mean 'routes'?)"),
                                        (["local", "nocrn"], "(did you mean 'nocron'?)"),
                                        (["rotes"], "did you mean 'python server.py local routes'?")])
def test_an_unknown_word_gets_a_did_you_mean(argv, hint):
    done = subprocess.run([sys.executable, "server.py", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and hint in done.stderr


# ------------------------------------------------------------------------------------------ cron patterns
def _job(tree, time: str) -> None:
    tree.write("projects/base/crons/job.py", f'''
from core import BaseCronJob

class Job(BaseCronJob):
    identity = "hourlyReport"
    time = {time}
    def worker(self):
        pass
''')


def test_an_empty_cron_field_stops_start_up_naming_job_and_file(tree):
    _job(tree, '{"second": "0", "minute": "", "timezone": "UTC"}')
    with pytest.raises(StartupError) as caught:
        tree.app()
    assert "hourlyReport" in str(caught.value) and "time.minute is empty" in str(caught.value)
    assert caught.value.path.endswith("crons/job.py")


def test_a_missing_timezone_stops_start_up_or_takes_the_environments(tree):
    _job(tree, '{"second": "0", "minute": "0"}')
    with pytest.raises(StartupError) as caught:
        tree.app()
    assert "hourlyReport has no time.timezone" in str(caught.value) and caught.value.path.endswith("crons/job.py")
    tree.env({"cronJobs": {"timezone": "Europe/Berlin"}})
    app = tree.app()
    assert "cron jobs without a timezone use cronJobs.timezone 'Europe/Berlin': hourlyReport" in summary(app)
    from core.cron import cron_trigger
    assert str(cron_trigger({"second": "0", "minute": "0"}).timezone) == "Europe/Berlin"
    assert str(cron_trigger({"second": "0", "timezone": "UTC"}).timezone) == "UTC"  # the job's own wins


def test_a_pattern_that_can_never_fire_warns_at_start_up(tree):
    _job(tree, '{"second": "0", "minute": "0", "hour": "0", "dayOfMonth": "30-31", "month": "1", '
               '"timezone": "UTC"}')  # February 30/31
    app = tree.app()
    [warning] = app.config["mia.warnings"]
    assert "cron job hourlyReport can never fire" in warning and "crons/job.py" in warning
    _job(tree, '{"second": "0", "minute": "0", "hour": "0", "dayOfMonth": "29", "month": "1", "timezone": "UTC"}')
    assert tree.app().config["mia.warnings"] == []  # February 29 comes in leap years


# ------------------------------------------------------------------------------------------ malformed JSON
def test_malformed_json_answers_400_with_the_parsers_reason_and_position(client):
    reply = client.post("/demo/v1/todo", data='{"name": "x",\n  }', content_type="application/json")
    assert reply.status_code == 400
    [entry] = reply.get_json()["errors"]
    assert entry == {"code": "BadRequest", "msg": "Something is not ok with your request",
                     "reason": "Expecting property name enclosed in double quotes", "position": 16, "line": 2,
                     "column": 3}
    reply = client.post("/demo/v1/todo", data='{"name": NaN}', content_type="application/json")
    assert reply.get_json()["errors"][0]["reason"] == "NaN is not JSON"
    reply = client.post("/demo/v1/todo", data='"just a string"', content_type="application/json")
    assert reply.get_json()["errors"][0]["reason"] == "a JSON body must be an object or an array"
