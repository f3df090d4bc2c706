"""In-process throughput of the request path, as ratios against bare Flask measured in the same run.

    .venv/bin/python bench/bench_pipeline.py [--seconds 2]

Cases: (1) bare Flask returning JSON; (2) a mia route with one controller and the default output;
(3) the same with query + body preconditions; (4) (2) with 200 extra routes and 20 vhosts mounted,
to show that per-request cost does not grow with the number of routes. Each case calls the WSGI
app directly (no sockets), Falcon-style, so the numbers measure framework overhead only.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask, jsonify  # noqa: E402

from core.app.factory import create_app  # noqa: E402

CONTROLLERS = '''
from core import Controller

class Hello(Controller):
    identity = "hello"
    def all(self, req, res):
        res.send({"status": 200, "response": "hello"})

class Checked(Controller):
    identity = "checked"
    preconditions = {"all": {"parameters": {
        "query": {"limit": {"type": int, "min": 1, "max": 100, "default": 25},
                  "sort": {"type": str, "allow": ["name", "created"], "default": "created"}},
        "body": {"name": {"type": str, "required": True, "maxLength": 40},
                 "tags": {"type": list, "subType": str}}},
        "responses": {200: "Success"}}}
    def all(self, req, res):
        res.send({"status": 200, "response": req.mia.validated_parameters})
'''


def make_root(extra_routes: int, vhosts: int) -> Path:
    root = Path(tempfile.mkdtemp(prefix="mia-bench-"))
    (root / "config" / "env").mkdir(parents=True)
    hosts = [{"id": f"h{i}", "host": f"h{i}.example.com"} for i in range(vhosts)]
    (root / "config" / "env" / "bench.py").write_text(
        f"environment = {{'logLevel': 'none', 'hosts': {hosts!r}, 'defaultMongoDatabase': 'b', "
        "'mongoDatabases': {'b': {'url': None}}}")
    (root / "projects" / "b" / "controllers").mkdir(parents=True)
    (root / "projects" / "b" / "routes").mkdir()
    (root / "projects" / "b" / "controllers" / "c.py").write_text(textwrap.dedent(CONTROLLERS))
    routes = {"./hello": {"get": {"controller": [{"name": "hello"}]}},
              "./checked": {"post": {"controller": [{"name": "checked"}]}}}
    for i in range(extra_routes):
        routes[f"./extra{i}/:id/items"] = {"get": {"controller": [{"name": "hello"}]}}
    (root / "projects" / "b" / "routes" / "r.py").write_text(
        "routes = " + repr({"group": "b", "prefix": "/api", "routes": routes}))
    for i in range(vhosts):
        (root / "projects" / "b" / "routes" / f"h{i}.py").write_text("routes = " + repr(
            {"group": "b", "hostId": f"h{i}", "prefix": f"/v{i}", "routes": {
                "./x/:id": {"get": {"controller": [{"name": "hello"}]}}}}))
    return root


def environ(method: str, path: str, query: str = "", body: bytes = b"") -> dict:
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "localhost",
           "SERVER_PORT": "80", "HTTP_HOST": "localhost", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
           "wsgi.errors": sys.stderr, "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1"}
    if body:
        env.update(CONTENT_LENGTH=str(len(body)), CONTENT_TYPE="application/json")
    return env


def rate(app, method: str, path: str, seconds: float, query: str = "", body: bytes = b"") -> float:
    status_seen = []

    def start_response(status, headers, exc_info=None):
        status_seen.append(status)

    deadline, count = time.perf_counter() + seconds, 0
    while time.perf_counter() < deadline:
        for _ in range(50):
            b"".join(app(environ(method, path, query, body), start_response))
        count += 50
    assert all(s.startswith("200") for s in status_seen), set(status_seen)
    return count / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    seconds = parser.parse_args().seconds

    bare = Flask("bare")
    bare.add_url_rule("/api/hello", "hello", lambda: jsonify({"status": 200, "response": "hello"}))
    small = create_app("bench", make_root(0, 0))
    large = create_app("bench", make_root(200, 20))
    body = json.dumps({"name": "Ada", "tags": ["a", "b"]}).encode()
    cases = {
        "bare flask": (bare, "GET", "/api/hello", "", b""),
        "mia, one controller": (small, "GET", "/api/hello", "", b""),
        "mia, preconditions (query+body)": (small, "POST", "/api/checked", "limit=10&sort=name", body),
        "mia, one controller, 220 routes + 20 vhosts": (large, "GET", "/api/hello", "", b""),
    }
    # Interleaved rounds, best of each: machine noise (frequency, other load) hits every case alike.
    results = {name: 0.0 for name in cases}
    for _ in range(3):
        for name, (app, method, path, query, payload) in cases.items():
            results[name] = max(results[name], rate(app, method, path, seconds / 3, query, payload))
    base = results["bare flask"]
    print(f"{'case':<46}{'req/s':>10}{'ratio to bare Flask':>22}")
    for name, value in results.items():
        print(f"{name:<46}{value:>10.0f}{value / base:>22.2f}")
    growth = results["mia, one controller, 220 routes + 20 vhosts"] / results["mia, one controller"]
    print(f"\nrouting cost growth with 220 routes + 20 vhosts: {growth:.2f}x of the small app's rate")


if __name__ == "__main__":
    main()
