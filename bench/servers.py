"""Production server candidates, measured side by side: throughput, slow clients, WebSockets.

    .venv/bin/python bench/servers.py [--seconds 5] [--rounds 3]

Each candidate is ``python server.py production`` with ``MIA_CFG_SERVER__*`` overrides (one worker,
the embedded store), driven with ``wrk -t1 -c32`` on ``GET /icecream/v1/flavours?flavour=Vanilla``,
interleaved over rounds (medians). Then 50 slowloris clients trickle header bytes and the time of
one normal request is taken (a server whose threads the slow clients hold does not answer within
5 s). WebSocket: a flask-sock echo route is not part of the demo, so that column is what the
server supports (tests/test_serving_ws.py proves it for the chosen set-up).
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
URL_PATH = "/icecream/v1/flavours?flavour=Vanilla"
CANDIDATES = {
    "gunicorn gthread 1x4": {"MIA_CFG_SERVER__ENGINE": "gunicorn", "MIA_CFG_SERVER__THREADS": "4"},
    "gunicorn gthread 1x1": {"MIA_CFG_SERVER__ENGINE": "gunicorn", "MIA_CFG_SERVER__THREADS": "1"},
    "granian wsgi 1w x1 thread": {"MIA_CFG_SERVER__ENGINE": "granian", "MIA_CFG_SERVER__THREADS": "1"},
    "granian wsgi 1w x4 threads": {"MIA_CFG_SERVER__ENGINE": "granian", "MIA_CFG_SERVER__THREADS": "4"},
    "granian wsgi 1w x4, no access log": {"MIA_CFG_SERVER__ENGINE": "granian", "MIA_CFG_SERVER__THREADS": "4",
                                          "MIA_CFG_ACCESSLOG": "false"},
    "werkzeug threaded": {"MIA_CFG_SERVER__ENGINE": "threaded"},
}
WEBSOCKETS = {"gunicorn": "yes (flask-sock on gthread)", "granian": "no (WSGI): server.websocket listener",
              "threaded": "yes"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(env_extra: dict[str, str], port: int) -> subprocess.Popen:
    env = {**os.environ, **env_extra, "MIA_CFG_SERVER__WORKERS": "1", "MIA_CFG_SERVER__HTTP__PORT": str(port),
           "MIA_CFG_SERVER__HTTP__HOST": "127.0.0.1", "MIA_CFG_EMBEDDED__PATH": "null",
           "MIA_CFG_ALLOWDEMO": "true"}  # the measured route is the demo's
    proc = subprocess.Popen([sys.executable, "server.py", "production"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{URL_PATH}", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"server did not start: {env_extra}")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def wrk(port: int, seconds: int) -> float:
    out = subprocess.run(["wrk", "-t1", "-c32", f"-d{seconds}s", f"http://127.0.0.1:{port}{URL_PATH}"],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(match.group(1)) if match else 0.0


def slowloris(port: int, clients: int = 50) -> float | None:
    """Seconds for one normal request while ``clients`` connections trickle headers; None: > 5 s."""
    sockets = []
    for _ in range(clients):
        sock = socket.create_connection(("127.0.0.1", port), timeout=2)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-a: ")
        sockets.append(sock)
    try:
        time.sleep(0.5)
        for sock in sockets:
            try:
                sock.sendall(b"b")
            except OSError:
                pass
        started = time.monotonic()
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{URL_PATH}", timeout=5).read()
        except OSError:
            return None
        return time.monotonic() - started
    finally:
        for sock in sockets:
            sock.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args(argv)
    names = [n for n in CANDIDATES if not args.only or any(o in n for o in args.only)]
    results: dict[str, list[float]] = {n: [] for n in names}
    slow: dict[str, float | None] = {}
    for _ in range(args.rounds):
        for name in names:
            port = free_port()
            proc = start(CANDIDATES[name], port)
            try:
                wrk(port, 1)  # warm-up
                results[name].append(wrk(port, args.seconds))
                if name not in slow:
                    slow[name] = slowloris(port)
            finally:
                stop(proc)
    base = statistics.median(results[names[0]]) or 1.0
    print(f"| server | req/s (median of {args.rounds}) | vs {names[0]} | normal request during 50 slowloris | "
          "WebSockets |")
    print("|---|---:|---:|---|---|")
    for name in names:
        rate = statistics.median(results[name])
        s = slow[name]
        kind = name.split()[0] if not name.startswith("werkzeug") else "threaded"
        print(f"| {name} | {rate:,.0f} | {rate / base:.2f}x | {f'{s:.3f} s' if s is not None else 'no answer in 5 s'} "
              f"| {WEBSOCKETS[kind]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
