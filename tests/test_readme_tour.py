"""README.md's tour, run literally, so the README cannot rot.

The tour's ``sh`` blocks are run in order, in a fresh copy of the repository in a temp dir, as
subprocesses: the start command (``.venv/bin/python server.py local``) starts (or restarts) the
server in the background, every other line runs in bash and must exit 0 and print what
``EXPECTED`` says. ``python`` blocks whose first line is ``# file: <path>`` are written into the
copy first. ``text`` blocks right after an ``sh`` block are sample output: they must appear in
that block's output (hex ids may differ). Substitutions: ``.venv/bin/python`` -> this venv's
python, ``localhost:3000`` -> a free loopback port (also passed as ``PORT``). Loopback only;
every command and every wait is bounded.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TOUR_HEADING = "## The 10-minute tour"
START = ".venv/bin/python server.py local"
IGNORED = shutil.ignore_patterns(".venv", ".git", ".mia-data", "__pycache__", ".pytest_cache", ".ruff_cache",
                                 ".schemathesis", "node_modules", "*.pyc")
COMMAND_TIMEOUT = 60
START_TIMEOUT = 60
_HEX_ID = re.compile(r"[0-9a-f]{24,32}")


def _names(output: str) -> list[str]:
    return re.findall(r'"name":"([^"]*)"', output)


def _routes(*rows: str) -> Callable[[str], bool]:
    """Each ``"GET /path identity"`` is a line of ``server.py routes`` (columns padded, any host)."""
    def check(output: str) -> bool:
        return all(re.search(rf"^{verb} +{re.escape(path)} +\* +{re.escape(identity)}$", output, re.M)
                   for verb, path, identity in (row.split() for row in rows))
    return check


# Every command of the tour, exactly as written in the README, and what its output must contain
# (snippets, or a check function). A command missing here fails the test: edit both together.
EXPECTED: dict[str, list[str] | Callable[[str], bool]] = {
    ".venv/bin/python server.py local routes": _routes("GET /demo/v1/todo todos", "POST /demo-auth/v1/devices devices",
                                                       "GET /demo-auth/v1/users/me getProfile"),
    "curl -s http://localhost:3000/demo/v1/todo": lambda out: _names(out) == [
        "Eat some icecreme", "Go out for lunch", "Get some sleep", "Get this demo done", "Create own project"],
    "curl -s -X POST -H 'Content-Type: application/json' -d '{\"name\": \"Read the README\"}' "
    "http://localhost:3000/demo/v1/todo": ['{"status":200,"response":{"id":"'],
    "curl -s 'http://localhost:3000/demo/v1/todo?sort=name&ascending=false&limit=3'": lambda out: _names(out) == [
        "Read the README", "Go out for lunch", "Get this demo done"],
    "curl -s 'http://localhost:3000/demo/v1/todo?limit=500&sort=colour'": ['"code":"MaxValueExceeded"',
                                                                          '"code":"ValueNotAllowed"'],
    "curl -s http://localhost:3000/demo/v1/todo/not-an-id": ['"status":400', '"code":"PatternMismatch"'],
    "curl -s http://localhost:3000/demo/v1/todo.html": ["<!DOCTYPE html>", "<td>Read the README</td>"],
    "curl -s http://localhost:3000/demo/assets/": ["<title>mia.py demo</title>"],
    "curl -s -X POST -H 'Content-Type: application/json' -d '{\"culture\": {\"code\": \"en-gb\"}}' "
    "http://localhost:3000/demo-auth/v1/devices": lambda out: re.fullmatch(
        r'\{"status":200,"response":\{"id":"[0-9a-f]{32}"\}\}\s*', out) is not None,
    "curl -s 'http://localhost:3000/demo-auth/v1/todo?limit=2'": ['"status":400', '"id":"key"',
                                                                 '"code":"MissingRequiredParameter"'],
    "curl -s -H 'key: 9cd43d5622a2fa78b67b3412a2d8c614' 'http://localhost:3000/demo-auth/v1/todo?limit=2'":
        lambda out: out.startswith('{"status":200,') and len(_names(out)) == 2,
    "curl -s -X POST -H 'Content-Type: application/json' -d '{\"email\": \"ada@example.com\", \"name\": \"Ada\", "
    "\"culture\": \"de-de\"}' http://localhost:3000/demo-notify/v1/welcome": lambda out: re.fullmatch(
        r'\{"status":200,"response":\{"mail":"[0-9a-f]{32}","push":null\}\}\s*', out) is not None,
    ".venv/bin/python welcome_push.py": ["rejected ApnsNotConfigured"],
    ".venv/bin/python signed_request.py": ["registered device ", "200 {'status': 200, 'response': {'id': '",
                                           "200 ['Create own project', 'Eat some icecreme', 'Get some sleep']"],
    "curl -s -o /dev/null -w '%{http_code} %{content_type}\\n' http://localhost:3000/docs/": ["200 text/html"],
    "curl -s http://localhost:3000/docs/openapi.json | grep -o '\"operationId\":\"todos_demo_v1\"'":
        ['"operationId":"todos_demo_v1"'],
    ".venv/bin/python sign_up.py": ["200 ada@example.com"],
    "curl -s -X POST -H 'Content-Type: application/json' -d '{\"login\": \"ada@example.com\", \"password\": "
    "\"lovelace-demo-1\"}' http://localhost:3000/demo/v1/token": ['{"status":200,"response":{"tokenType":"Bearer",'
                                                                  '"accessToken":"ey', '"refreshToken":"'],
    ".venv/bin/python live_feed.py": ['{"event":"welcome","username":"ada@example.com"}',
                                      '{"event":"created","todo":{"name":"Watch it live",'],
    ".venv/bin/python server.py local routes | grep hello": _routes("GET /hello/v1/greeting greeting"),
    ".venv/bin/python server.py new-project shop": ["created projects/shop/routes/api.py"],
    "curl -s 'http://localhost:3000/hello/v1/greeting?name=Ada'": [
        '{"status":200,"response":{"greeting":"Hello, Ada!"}}'],
    "curl -s 'http://localhost:3000/hello/v1/greeting?name=Mallory'": [
        '{"status":403,"errors":[{"code":"NotWelcome","msg":"Not you again"}]}'],
    "curl -s http://localhost:3000/hello/v1/greeting": ['"status":400', '"code":"MissingRequiredParameter"'],
    "curl -s 'http://localhost:3000/shop/v1/hello?name=Ada'": [
        '{"status":200,"response":{"message":"Hello from shop, Ada!"}}'],
    "curl -s 'http://localhost:3000/demo/v1/todo?sort=name&ascending=false&limit=2'": lambda out: _names(out) == [
        "Watch it live", "Sent with a signature"],  # saved on shutdown, loaded on the restart
}


# ---------------------------------------------------------------------------------------- parsing
def section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start:end if end != -1 else len(text)]


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """``[(language, body), ...]`` of the fenced code blocks, in order."""
    return [(lang, body) for lang, body in re.findall(r"^```(\w*)\n(.*?)^```\s*$", text, re.M | re.S)]


def commands(body: str) -> list[str]:
    """Shell lines of a block: ``\\``-continued lines joined, blanks and comments dropped."""
    out, pending = [], ""
    for line in body.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line and not line.startswith("#"):
            out.append(line)
    return out


def tour_steps() -> list[tuple[str, str]]:
    return fenced_blocks(section(README.read_text(encoding="utf-8"), TOUR_HEADING))


def normalise(text: str) -> str:
    return _HEX_ID.sub("<id>", text.strip())


# ---------------------------------------------------------------------------------------- running

class Tour:
    """A copy of the checkout, its server process and the commands' outputs."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.server: subprocess.Popen[bytes] | None = None
        self.log = root / "tour-server.log"
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("MIA_") and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
        self.env.update(PORT=str(port), NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")

    def substitute(self, text: str) -> str:
        return (text.replace(".venv/bin/python", shlex.quote(sys.executable))
                .replace("localhost:3000", f"127.0.0.1:{self.port}"))

    def start(self, command: str) -> None:
        self.stop()
        with self.log.open("ab") as log:
            self.server = subprocess.Popen(shlex.split(self.substitute(command)), cwd=self.root, env=self.env,
                                           stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        url = f"http://127.0.0.1:{self.port}/demo/v1/services"
        while time.monotonic() < deadline:
            assert self.server.poll() is None, f"the server exited:\n{self.server_log()}"
            try:
                with urllib.request.urlopen(url, timeout=2) as reply:  # noqa: S310 - loopback only
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        pytest.fail(f"the server did not answer within {START_TIMEOUT}s:\n{self.server_log()}")

    def stop(self) -> None:
        if self.server is None:
            return
        if self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)  # server.py's clean shutdown
            try:
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait(timeout=5)
        self.server = None

    def server_log(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def run(self, command: str) -> str:
        result = subprocess.run(["bash", "-o", "pipefail", "-c", self.substitute(command)], cwd=self.root,
                                env=self.env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        assert result.returncode == 0, (f"{command!r} exited {result.returncode}\nstdout: {result.stdout}\n"
                                        f"stderr: {result.stderr}\nserver log:\n{self.server_log()}")
        return result.stdout

    def write(self, body: str) -> None:
        first, _, rest = body.partition("\n")
        relative = first.removeprefix("# file:").strip()
        assert relative and not Path(relative).is_absolute() and ".." not in Path(relative).parts
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.substitute(body), encoding="utf-8")


def check(command: str, output: str) -> None:
    assert command in EXPECTED, f"README tour command without an expectation in this test: {command!r}"
    expected = EXPECTED[command]
    if callable(expected):
        assert expected(output), f"{command!r} printed:\n{output}"
    else:
        for snippet in expected:
            assert snippet in output, f"{command!r} should print {snippet!r}, printed:\n{output}"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A fresh copy of the repository (no venv, no git, no saved data)."""
    target = tmp_path / "checkout"
    shutil.copytree(ROOT, target, ignore=IGNORED)
    for name in ("hello", "shop"):
        assert not (target / "projects" / name).exists(), f"projects/{name} must not exist before the tour"
    return target


# ---------------------------------------------------------------------------------------- tests
def test_the_tour_runs_as_written(checkout):
    steps = tour_steps()
    tour = Tour(checkout, free_port())
    ran: list[str] = []
    outputs: list[str] = []
    try:
        for lang, body in steps:
            if lang == "python" and body.startswith("# file:"):
                tour.write(body)
            elif lang == "sh":
                outputs = []
                for command in commands(body):
                    if command == START:
                        tour.start(command)
                        continue
                    output = tour.run(command)
                    check(command, output)
                    ran.append(command)
                    outputs.append(output)
            elif lang == "text" and outputs:
                sample = normalise(body)
                assert any(sample in normalise(out) for out in outputs), (
                    f"the README's sample output is not what the commands print:\n{body}\nprinted:\n"
                    + "\n".join(outputs))
    finally:
        tour.stop()
    assert sorted(set(ran)) == sorted(EXPECTED), "every expected command is in the README's tour"
    assert tour.server is None
    assert (checkout / "projects" / "hello" / "controllers" / "greeting.py").is_file()


def test_the_tour_covers_the_newcomers_first_hour():
    """The steps the README promises: routes, curl, device, signing script, docs, own project, real engines."""
    text = section(README.read_text(encoding="utf-8"), TOUR_HEADING)
    shell = "\n".join(body for lang, body in fenced_blocks(text) if lang == "sh")
    files = [body.partition("\n")[0] for lang, body in fenced_blocks(text) if lang == "python"]
    assert START in shell and "server.py local routes" in shell
    assert "/demo-auth/v1/devices" in shell and "signed_request.py" in shell and "/docs/" in shell
    assert files == ["# file: signed_request.py", "# file: sign_up.py", "# file: live_feed.py",
                     "# file: projects/hello/controllers/greeting.py", "# file: projects/hello/routes/api.py",
                     "# file: welcome_push.py"]
    assert "MIA_MONGO_URL=" in text and "MIA_MEMCACHED_SERVERS=" in text


def test_the_two_commands_are_the_ones_ci_runs():
    text = README.read_text(encoding="utf-8")
    blocks = [body.strip() for lang, body in fenced_blocks(section(text, "## The two commands")) if lang == "sh"]
    assert blocks == [
        "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/python server.py local",
        "python3 -m venv .venv && .venv/bin/pip install -r requirements-dev.lock && .venv/bin/ruff check . "
        "&& .venv/bin/mypy && .venv/bin/python -m pytest",
    ]
    ci_lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.strip()]
    assert ci_lines[-1] == blocks[1]  # CI runs exactly the README's test command
    assert "apt-get install -y memcached" in text
