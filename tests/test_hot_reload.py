"""Hot mode in a subprocess: edited controllers and new route files take effect in the running
process; a broken edit is reported with its file name while the previous version keeps serving."""
from __future__ import annotations

import time

import pytest
from serving_fixtures import ServerProcess, free_ports, get, serving_tree

pytestmark = pytest.mark.timeout(120)

GREETING = '''
from core import Controller, Shared

class Greeting(Controller):
    identity = "greeting"
    def all(self, req, res):
        res.response = {text!r} + Shared.config("greeting-config.suffix")
'''
CONFIG = '''
from core import Config

class GreetingConfig(Config):
    identity = "greeting-config"
    suffix = {suffix!r}
'''
ROUTES = '''
routes = {{"group": "g", "prefix": "{prefix}", "routes": {{
    "./greet": {{"list": {{"identity": "greet{n}", "controller": [{{"name": "greeting"}}, {{"name": "out"}}]}}}}}}}}
'''


def eventually(check, timeout: float = 10.0):  # noqa: ANN001, ANN201 - a callable returning a value or None
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_hot_mode_reloads_in_place(tmp_path):
    (port,) = free_ports(1)
    tree = serving_tree(tmp_path / "app", {"server": {"http": {"host": "127.0.0.1", "port": port}}})
    controller = tree.write("projects/base/controllers/greeting.py", GREETING.format(text="hello"))
    config = tree.write("projects/base/config/greeting.py", CONFIG.format(suffix="!"))
    tree.write("projects/base/routes/greet.py", ROUTES.format(prefix="/g", n=1))
    base = f"http://127.0.0.1:{port}"
    with ServerProcess(tree.root, hot=True) as proc:
        proc.wait_ready(f"{base}/t/hello")
        pid = proc.proc.pid
        assert get(f"{base}/g/greet")[2] == {"status": 200, "response": "hello!"}

        controller.write_text(GREETING.format(text="bonjour"))  # an edited controller
        assert eventually(lambda: get(f"{base}/g/greet")[2].get("response") == "bonjour!"), proc.output()

        config.write_text(CONFIG.format(suffix="?"))  # an edited project config
        assert eventually(lambda: get(f"{base}/g/greet")[2].get("response") == "bonjour?"), proc.output()

        tree.write("projects/base/routes/more.py", ROUTES.format(prefix="/more", n=2))  # a new route file
        assert eventually(lambda: get(f"{base}/more/greet")[0] == 200), proc.output()
        assert get(f"{base}/more/greet")[2] == {"status": 200, "response": "bonjour?"}

        controller.write_text("from core import Controller\nclass Broken(Controller)\n")  # a syntax error
        assert eventually(lambda: "greeting.py" in proc.output().split("hot reload failed")[-1]
                          if "hot reload failed" in proc.output() else None), proc.output()
        assert get(f"{base}/g/greet")[2] == {"status": 200, "response": "bonjour?"}  # the old one serves
        assert get(f"{base}/more/greet")[0] == 200

        controller.write_text(GREETING.format(text="hallo"))  # fixed again
        assert eventually(lambda: get(f"{base}/g/greet")[2].get("response") == "hallo?"), proc.output()
        assert proc.proc.pid == pid and proc.proc.poll() is None  # the same process all along
        out = proc.output()
    assert "SyntaxError" in out and "projects/base/controllers/greeting.py" in out


def test_reload_subscribers_hear_about_each_swap(tree):
    """The hook the cron scheduler subscribes to: called with the new app and the changed files."""
    from core.app.serving import reload

    tree.write("projects/base/routes/t.py", 'routes = {"prefix": "/t", "routes": {}}')
    app = tree.app()
    switch = reload.AppSwitch(app)
    heard: list = []
    unsubscribe = reload.subscribe(lambda new_app, changed: heard.append((new_app, changed)))
    try:
        watcher = reload.Watcher(switch, "test", tree.root)
        path = tree.write("projects/base/routes/t2.py", 'routes = {"prefix": "/t2", "routes": {}}')
        assert watcher.reload([path]) is True
        assert heard == [(switch.app, [path])] and switch.app is not app
        tree.write("projects/base/routes/t3.py", "routes = [")
        assert watcher.reload([path]) is False and len(heard) == 1
    finally:
        unsubscribe()
        app.config["mia.databases"].close_all()
