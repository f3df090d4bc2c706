"""WebSocket servers for production, measured side by side: idle sockets, message rate, HTTP beside it.

    .venv/bin/python bench/ws.py [--idle 1000] [--rate 100] [--seconds 10] [--slow 50]

Each candidate is the production set-up (granian for HTTP, one worker; the ``server.websocket``
listener for WebSocket routes) with a MongoDB URL (nothing here reaches it), differing only in
``server.websocket.engine``: ``threaded`` (werkzeug's threaded server in the primary, the previous
set-up) and ``gunicorn`` (gthread in its own process, the chosen one). Per candidate:

1. HTTP baseline: 200 sequential ``GET /t/hello`` on the granian port, median and p99;
2. ``--idle`` upgraded sockets opened and left silent (raw sockets: no client thread each);
3. ``--slow`` clients trickling a handshake's headers on the WebSocket port;
4. 10 echo clients sending ``--rate`` messages per second in total for ``--seconds``: messages
   answered, echo latency median and p99, the same HTTP probe meanwhile (its ratio to 1.);
5. whether a new handshake with an echo still works, every idle socket still open, and the WebSocket
   server's resident memory (VmRSS of its process).

Ratios against the baseline measured in the same run; absolute times depend on the machine.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import simple_websocket

ROOT = Path(__file__).resolve().parents[1]
URL = "mongodb://127.0.0.1:9/none?serverSelectionTimeoutMS=300"
SCRIPT = """
import sys
sys.path.insert(0, {repo!r})
from core.app.factory import create_app
from core.app.serving.serve import start
sys.exit(start(create_app("bench", {root!r}), "bench", {root!r}))
"""
FILES = {
    "config/system.py": "system = {'defaultCulture': {'language': 'en', 'region': 'gb'}}",
    "projects/b/controllers/b.py": '''
from core import Controller

class Hello(Controller):
    identity = "hello"
    def all(self, req, res):
        res.send({"status": 200, "response": "hello"})

class Echo(Controller):
    identity = "echo"
    def on_message(self, ws, req, message):
        ws.send(message)
''',
    "projects/b/routes/b.py": '''
routes = {"group": "b", "prefix": "/t", "routes": {
    "./hello": {"list": {"identity": "hello-route", "controller": [{"name": "hello"}]}},
    "./echo": {"ws": {"identity": "echo-ws", "controller": [], "handler": {"name": "echo"}}},
}}
''',
}
HANDSHAKE = (b"GET /t/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


def free_ports(count: int) -> list[int]:
    socks = [socket.socket() for _ in range(count)]
    for sock in socks:
        sock.bind(("127.0.0.1", 0))
    ports = [int(sock.getsockname()[1]) for sock in socks]
    for sock in socks:
        sock.close()
    return ports


def write_tree(root: Path, http_port: int, ws_port: int, engine: str, connections: int) -> None:
    for relative, text in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    shutil.copy(ROOT / "config" / "translations.py", root / "config" / "translations.py")
    env = {"logLevel": "none", "accessLog": False, "defaultMongoDatabase": "b", "mongoDatabases": {"b": {"url": URL}},
           "hosts": [], "server": {"http": {"host": "127.0.0.1", "port": http_port}, "engine": "granian",
                                   "workers": 1, "websocket": {"port": ws_port, "engine": engine,
                                                               "connections": connections}}}
    (root / "config" / "env").mkdir(parents=True, exist_ok=True)
    (root / "config" / "env" / "bench.py").write_text(f"environment = {env!r}")


def wait_up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/t/hello", timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no server on {port}")


def http_probe(port: int, count: int = 200) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        urllib.request.urlopen(f"http://127.0.0.1:{port}/t/hello", timeout=10).read()
        times.append(time.perf_counter() - started)
    return times


def p99(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.99) - 1)] if values else float("nan")


def open_idle(port: int, count: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(HANDSHAKE)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                raise RuntimeError(f"handshake {len(sockets) + 1} closed")
            head += chunk
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(f"handshake {len(sockets) + 1}: {head[:60]!r}")
        sockets.append(sock)
    return sockets


def still_open(sockets: list[socket.socket]) -> int:
    alive = 0
    for sock in sockets:
        sock.setblocking(False)
        try:
            alive += sock.recv(1) != b""
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    return alive


def echo_load(port: int, rate: float, seconds: float, clients: int = 10) -> tuple[int, int, list[float]]:
    """``rate`` messages per second in total over ``clients`` sockets: (sent, answered, latencies)."""
    results: list[tuple[int, int, list[float]]] = []

    def one() -> None:
        ws = simple_websocket.Client.connect(f"ws://127.0.0.1:{port}/t/echo")
        sent = answered = 0
        latencies: list[float] = []
        interval, deadline = clients / rate, time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                ws.send(f"m{sent}")
                sent += 1
                if ws.receive(timeout=5) == f"m{sent - 1}":
                    answered += 1
                    latencies.append(time.perf_counter() - started)
                time.sleep(max(0.0, interval - (time.perf_counter() - started)))
        finally:
            ws.close()
        results.append((sent, answered, latencies))

    threads = [threading.Thread(target=one) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 30)
    return (sum(r[0] for r in results), sum(r[1] for r in results), [x for r in results for x in r[2]])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def ws_server_pid(primary: int, engine: str) -> int:
    if engine == "threaded":
        return primary
    candidates = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    for pid in candidates:  # the gunicorn worker: its parent's command line is ws_run
        try:
            parent = int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
            if b"core.app.serving.ws_run" in Path(f"/proc/{parent}/cmdline").read_bytes() and parent != primary:
                return pid
        except (OSError, ValueError, IndexError):
            continue
    return primary


def measure(engine: str, args: argparse.Namespace) -> dict[str, Any]:
    http_port, ws_port = free_ports(2)
    root = Path(tempfile.mkdtemp(prefix="mia-ws-bench-"))
    write_tree(root, http_port, ws_port, engine, args.idle + args.slow + 100)
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT.format(repo=str(ROOT), root=str(root))], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    idle: list[socket.socket] = []
    slow: list[socket.socket] = []
    try:
        wait_up(http_port)
        wait_up(ws_port)
        baseline = http_probe(http_port)
        started = time.monotonic()
        idle = open_idle(ws_port, args.idle)
        opened = time.monotonic() - started
        for _ in range(args.slow):
            sock = socket.create_connection(("127.0.0.1", ws_port), timeout=10)
            sock.sendall(b"GET /t/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            slow.append(sock)
        during: list[float] = []
        probe = threading.Thread(target=lambda: during.extend(http_probe(http_port)))
        probe.start()
        sent, answered, latencies = echo_load(ws_port, args.rate, args.seconds)
        probe.join(60)
        fresh = simple_websocket.Client.connect(f"ws://127.0.0.1:{ws_port}/t/echo")
        fresh.send("after")
        works = fresh.receive(timeout=5) == "after"
        fresh.close()
        return {"engine": engine, "opened_s": opened, "idle_open": still_open(idle), "sent": sent,
                "answered": answered, "echo_ms_median": statistics.median(latencies) * 1000,
                "echo_ms_p99": p99(latencies) * 1000, "http_ms_base": statistics.median(baseline) * 1000,
                "http_ms_during": statistics.median(during) * 1000, "http_p99_during": p99(during) * 1000,
                "new_handshake_after": works, "rss_mib": rss_kib(ws_server_pid(proc.pid, engine)) / 1024}
    finally:
        for sock in idle + slow:
            sock.close()
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--slow", type=int, default=50)
    parser.add_argument("--engines", default="threaded,gunicorn")
    args = parser.parse_args(argv)
    rows = [measure(engine, args) for engine in args.engines.split(",")]
    print(f"| ws server | {args.idle} idle open | opened in | msgs answered | echo median / p99 | "
          "HTTP median before / during (ratio) | HTTP p99 during | new handshake after | RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|")
    for row in rows:
        ratio = row["http_ms_during"] / row["http_ms_base"]
        print(f"| {row['engine']} | {row['idle_open']} | {row['opened_s']:.1f} s | {row['answered']}/{row['sent']} | "
              f"{row['echo_ms_median']:.1f} / {row['echo_ms_p99']:.1f} ms | {row['http_ms_base']:.1f} / "
              f"{row['http_ms_during']:.1f} ms ({ratio:.2f}x) | {row['http_p99_during']:.1f} ms | "
              f"{'yes' if row['new_handshake_after'] else 'NO'} | {row['rss_mib']:.0f} MiB |")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
