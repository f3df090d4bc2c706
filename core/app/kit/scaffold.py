"""``python server.py new-project NAME``: a new project folder that answers on the next start.

Why a command: a newcomer's first own route should not start from copying the demo. The project
gets a config (``<name>-config``), a notification config with a welcome mail (``<name>-notifications``),
a controller (``<name>-hello``), a route file with prefix ``/<name>/v1``, ``GET ./hello`` and a JWT
WebSocket feed ``WS ./live``, and its own test (``tests/test_<name>.py``, run with
``pytest projects/<name>``: the fixtures come from core/app/kit/testing.py); nothing else in the
repository changes. It runs before any
project is loaded, so a broken project elsewhere does not stop it.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TextIO

NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
MAX_LENGTH = 40
RESERVED = {"assets", "docs", "api-docs", "generic"}
EXIT_USAGE = 2

CONFIG = '''"""Settings of the {name} project, read with ``Shared.config("{name}-config.<name>")``."""
from core import Config


class {cls}Config(Config):
    identity = "{name}-config"
    version = "1.0"
    greeting = "Hello from {name}"
'''

CONTROLLER = '''"""The {name} project's first controller: GET /{name}/v1/hello?name=..."""
from core import Controller, Shared


class {cls}Hello(Controller):
    identity = "{name}-hello"
    version = "1.0"
    group = "{name}"
    preconditions = {{
        "hello": {{
            "parameters": {{"query": {{"name": {{"type": str, "maxLength": 40, "default": "world"}}}}}},
            "responses": {{200: "Success"}},
        }}
    }}

    def hello(self, req, res):
        name = req.mia.validated_parameters["query"]["name"]
        res.response = {{"message": f"{{Shared.config('{name}-config.greeting')}}, {{name}}!"}}
'''

NOTIFICATIONS = '''"""Mail of the {name} project: queue with Shared.libs("generic-notificationManager").mail({{...}}).

The SMTP server here is a placeholder: set MIA_SMTP_HOST, MIA_SMTP_PORT, MIA_SMTP_USER and
MIA_SMTP_PASSWORD in the process environment (the test kit's mia_smtp does that for the tests).
"""
from core import Config


class {cls}Notifications(Config):
    identity = "{name}-notifications"
    version = "1.0"
    notifications = {{
        "defaultLanguage": "en",
        "connectors": {{"smtp": {{"host": "127.0.0.1", "port": 25, "from": "{name} <noreply@example.com>"}}}},
        "templates": {{"en": {{"welcome": {{"mail": {{"smtp": {{
            "subject": "Welcome to {name}, [name]",
            "text": "Hi [name], welcome to {name}.",
        }}}}}}}}}},
    }}
'''

ROUTES = '''"""Routes of the {name} project."""

routes = {{
    "group": "{name}",
    "name": "{name}",
    "version": "1.0",
    "prefix": ["/{name}/v1"],
    "routes": {{
        "./hello": {{
            "list": {{
                "identity": "{name}-hello",
                "description": "Says hello",
                "controller": [
                    {{"name": "{name}-hello", "function": "hello"}},
                    {{"name": "generic-defaultResponse"}},
                ],
            }}
        }},
        "./live": {{
            "ws": {{
                "identity": "{name}-live",
                "description": "Live events for signed-in users (Shared.ws('/{name}/v1/live').broadcast(...))",
                "controller": [{{"name": "generic-validateJWT", "function": "queryParameters"}}],
                "policy": {{"groups": ["{name}-users"], "groupPolicy": "at_least_one"}},
            }}
        }},
    }},
}}
'''


TEST = '''"""Tests of the {name} project: ``pytest projects/{name}`` from the repository root.

The fixtures come from mia's pytest plugin (core/app/kit/testing.py, loaded by the root conftest.py):
``mia_client`` calls the app in-process, ``mia_live`` is its URL on a real loopback server; both
start from an empty embedded store in every test. ``mia_smtp`` is a real SMTP server the mail goes
to, ``mia_cron`` runs a cron job once, ``mia_jwt`` issues tokens and ``mia_ws`` opens WebSockets.
"""
import json
import time
import urllib.request

from core import Shared


def test_hello_greets_by_name(mia_client):
    reply = mia_client.get("/{name}/v1/hello?name=Ada")
    assert reply.status_code == 200
    assert reply.json == {{"status": 200, "response": {{"message": "Hello from {name}, Ada!"}}}}


def test_hello_refuses_a_name_over_40_characters(mia_client):
    reply = mia_client.get("/{name}/v1/hello?name=" + "x" * 41)
    assert reply.status_code == 400
    assert reply.json["errors"][0]["code"] == "MaxLengthExceeded"


def test_hello_over_http(mia_live):
    with urllib.request.urlopen(mia_live + "/{name}/v1/hello", timeout=10) as reply:
        assert reply.status == 200
        assert json.load(reply)["response"]["message"] == "Hello from {name}, world!"


def test_a_welcome_mail_arrives(mia_app, mia_smtp, mia_cron):
    manager = Shared.libs("generic-notificationManager")
    manager.mail({{"configId": "{name}-notifications", "template": "welcome",
                  "replacements": {{"name": "Ada"}}}}).address("ada@example.com")
    mia_cron("generic-notificationProcessor")  # delivers what is due, now
    [mail] = mia_smtp.wait(1)
    assert (mail["To"], mail["Subject"]) == ("ada@example.com", "Welcome to {name}, Ada")


def test_the_live_feed_takes_a_token_and_delivers_broadcasts(mia_jwt, mia_ws):
    tokens = mia_jwt("ada@example.com", groups=["{name}-users"])
    feed = mia_ws("/{name}/v1/live", token=tokens["accessToken"])
    channel = Shared.ws("/{name}/v1/live")
    deadline = time.monotonic() + 5
    while channel.count() == 0 and time.monotonic() < deadline:  # the server registers the socket
        time.sleep(0.02)
    channel.broadcast({{"event": "hello"}})
    assert feed.receive(timeout=5) == {{"event": "hello"}}
'''


def class_prefix(name: str) -> str:
    """``my-shop`` -> ``MyShop`` (class names of the generated files)."""
    return "".join(part.capitalize() for part in re.split(r"[-_]", name))


def check_name(name: str, projects_dir: Path) -> str | None:
    """Why ``name`` cannot be used, or None when it can."""
    if not NAME.match(name) or len(name) > MAX_LENGTH:
        return (f"invalid project name {name!r}: use 1-{MAX_LENGTH} lower-case letters and digits, "
                "starting with a letter, words joined by '-' or '_' (e.g. my-shop)")
    if name in RESERVED:
        return f"invalid project name {name!r}: it is reserved"
    if (projects_dir / name).exists():
        return f"projects/{name} already exists; choose another name or delete that folder first"
    return None


def create_project(name: str, projects_dir: Path) -> list[Path]:
    """Write the project files; returns them. Raises ValueError when ``name`` is not usable."""
    problem = check_name(name, projects_dir)
    if problem:
        raise ValueError(problem)
    values = {"name": name, "cls": class_prefix(name)}
    files = {
        Path("config") / "config.py": CONFIG,
        Path("config") / "notifications.py": NOTIFICATIONS,
        Path("controllers") / "hello.py": CONTROLLER,
        Path("routes") / "api.py": ROUTES,
        Path("tests") / f"test_{name.replace('-', '_')}.py": TEST,
    }
    written = []
    for relative, template in files.items():
        path = projects_dir / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values), encoding="utf-8")
        written.append(path)
    return written


def main(args: list[str], root: Path, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """The command: exit code 0 on success, 2 for a missing, invalid or taken name."""
    if len(args) != 1:
        print("usage: python server.py new-project NAME", file=err)
        return EXIT_USAGE
    name = args[0]
    projects_dir = Path(root) / "projects"
    try:
        written = create_project(name, projects_dir)
    except ValueError as exc:
        print(f"mia: new-project: {exc}", file=err)
        return EXIT_USAGE
    for path in written:
        print(f"created {path.relative_to(root)}", file=out)
    python = _python(Path(root))
    print(f"Start the server ({python} server.py local) and open http://127.0.0.1:3000/{name}/v1/hello",
          file=out)
    print(f"Run its tests with: {python} -m pytest projects/{name}", file=out)
    return 0


def _python(root: Path) -> str:
    """How to call Python here: the repository's ``.venv`` when there is one, else the running interpreter
    (relative to ``root`` when it lives below it), so the printed commands work as written."""
    venv = root / ".venv" / "bin" / "python"
    if venv.exists():
        return ".venv/bin/python"
    executable = Path(sys.executable)
    try:
        return str(executable.relative_to(root))
    except ValueError:
        return str(executable)
