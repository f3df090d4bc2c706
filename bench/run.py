"""Side-by-side HTTP benchmark: this project against bare Flask, Express 5, FastAPI and Eve, in one run.

    .venv/bin/python bench/run.py [--quick] [--server granian|gunicorn] [--rounds 3] [--duration 5]
                                  [--connections 32] [--cases full,static,...] [--stacks ours,bare,...]
                                  [--logs on,off] [--idle 30] [--soak 60] [--scale 1000,10000]
                                  [--loader auto|wrk|python]

"ours" is the shipped command, ``python server.py production``, with its shipped configuration; only the
worker count (1), ``allowDemo`` (the benchmarked routes are the demo's) and, in the "logs off" table,
``accessLog`` are changed through ``MIA_CFG_*`` (printed at the start). Every stack runs on loopback with
one worker process, the Python WSGI stacks on the same server (``--server``) with the same threads; each
peer as its users deploy it for speed: FastAPI with ``async def`` routes on uvicorn with uvloop and
httptools, Express 5 in production mode (with morgan when access logs are on). Every stack writes its
output to a file. Packages only the bench needs are in bench/requirements.txt; the bench installs them.

The stacks are interleaved over rounds (the order rotates), each run is bounded in time, and the numbers
that matter are ratios taken inside one round, reported as medians over rounds: a machine shared with
other work slows every stack of a round alike. One table per access-log setting (``--logs``). Printed per run:
req/s, p50/p99 latency, server CPU per request (from /proc), worker RSS.
``--quick`` (under 60 s) ends with ``ratio_full_chain_vs_bare_flask=<x.xx>``.
"""
from __future__ import annotations

import argparse
import compileall
import http.client
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.apps import DEVICE_ID, POST_BODY, SECRET, SECRET_ID, STATIC_KEY, TODO_ID  # noqa: E402
from bench.load import Request, Result, cpu_seconds, drive, get, rss_mb  # noqa: E402

PORT_BASE = 46000  # this bench's fixed range: 46000-46999 (the test passes free ports instead)
PY = sys.executable
BIN = Path(PY).parent
EXPRESS_VERSION = "5.2.1"
MORGAN_VERSION = "1.12.1"


@dataclass
class Stack:
    name: str
    label: str
    cases: tuple[str, ...]
    process: subprocess.Popen | None = None
    port: int = 0
    started: float = 0.0
    first_answer: float | None = None
    logs: bool = True
    device_id: str = DEVICE_ID
    todo_id: str = TODO_ID


CASES = {  # name -> (label, path probed for readiness)
    "full": "full chain: query precondition -> controller -> JSON",
    "static": "static-key list from the store",
    "signed": "v2-signed list (HMAC + one-time nonce)",
    "post": "validated JSON POST",
    "read": "one store read by id",
}
STACKS = {
    "ours": ("this project", ("full", "static", "signed", "post", "read")),
    "bare": ("bare Flask by hand", ("full", "static", "signed", "post", "read")),
    "express": ("Express 5 chain", ("full", "static", "signed", "post", "read")),
    "fastapi": ("FastAPI + uvicorn", ("full", "static", "post")),
    "eve": ("Eve", ("static",)),
    "ours-nolog": ("this project, accessLog off", ("full", "static")),
}


def requests_for(case: str, stack: Stack, seconds: float) -> list[Request]:
    port = stack.port
    if case == "full":
        return [Request("GET", "/icecream/v1/flavours?flavour=Vanilla", {"Origin": "http://app.example"})]
    if case == "static":
        return [Request("GET", "/demo-auth/v1/todo", {"key": STATIC_KEY})]
    if case == "read":
        return [Request("GET", f"/demo/v1/todo/{stack.todo_id}")]
    if case == "post":
        return [Request("POST", "/icecream/v1/rules/ab12", {"Content-Type": "application/json"}, POST_BODY)]
    from client.signing import v2_headers  # every request its own nonce: pre-signed, replayed once each

    count = int(max(seconds, 1) * 25000) + 1000
    stamp = str(int(time.time()))
    base, path = f"http://127.0.0.1:{port}", "/demo-auth/v1/todo"
    return [Request("GET", path, v2_headers(stack.device_id, SECRET_ID, SECRET, "GET", base, path, b"", stamp))
            for _ in range(count)]


# ------------------------------------------------------------------------------------------ servers
def free_ports(first: int, last: int) -> Iterator[int]:
    """Ports of ``first..last`` that can be bound now (an outgoing connection may hold one of them)."""
    for port in range(first, last + 1):
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        yield port


def python_command(target: str, server: str, port: int, threads: int, logs: bool, factory: bool = True) -> list[str]:
    """A WSGI peer on the same server settings as ours (workers, blocking threads, backlog); its own access
    log when ``logs`` (granian's, gunicorn's), as its users turn one on."""
    if server == "granian":
        return [str(BIN / "granian"), "--interface", "wsgi", "--workers", "1", "--blocking-threads", str(threads),
                "--backlog", "1024", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                "--no-ws", "--access-log" if logs else "--no-access-log", *(["--factory"] if factory else []), target]
    return [str(BIN / "gunicorn"), "-w", "1", "-k", "gthread", "--threads", str(threads), "-b", f"127.0.0.1:{port}",
            "--log-level", "warning", *(["--access-logfile", "-"] if logs else []),
            f"{target}()" if factory else target]


def shipped_threads() -> int:
    """``server.threads`` of the shipped production environment (4 when it names none)."""
    import runpy

    environment = runpy.run_path(str(ROOT / "config" / "env" / "production.py"))["environment"]
    return int((environment.get("server") or {}).get("threads", 4))


def ours_environment(port: int, logs: bool, server: str, data: Path) -> dict[str, str]:
    """What bench/run.py changes of the shipped ``production`` environment (printed at the start)."""
    changed = {"PORT": str(port), "MIA_CFG_SERVER__WORKERS": "1", "MIA_CFG_ALLOWDEMO": "true",
               "MIA_CFG_EMBEDDED__PATH": str(data / f"ours-{port}.json")}
    if not logs:
        changed["MIA_CFG_ACCESSLOG"] = "false"
    if server == "gunicorn":
        changed["MIA_CFG_SERVER__ENGINE"] = "gunicorn"
    return changed


def express_dir(quiet: bool) -> Path | None:
    """Express (and morgan) installed with npm into a temp dir (reused across runs), or None without node/npm."""
    if not shutil.which("node") or not shutil.which("npm"):
        return None
    target = Path(tempfile.gettempdir()) / f"mia-bench-express-{EXPRESS_VERSION}"
    if not (target / "node_modules" / "express").is_dir() or not (target / "node_modules" / "morgan").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(target),
                               f"express@{EXPRESS_VERSION}", f"morgan@{MORGAN_VERSION}"], capture_output=True,
                              text=True, timeout=180)
        if done.returncode != 0:
            if not quiet:
                print(f"# express skipped: npm install failed: {done.stderr.strip()[:200]}")
            return None
    return target / "node_modules"


def start(stack: Stack, args: argparse.Namespace, port: int, node_modules: Path | None,
          extra_env: dict[str, str] | None = None) -> None:
    logs = stack.logs
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MIA_ENV": "production", **(extra_env or {})}
    if stack.name == "ours" and extra_env and "BENCH_ROOT" in extra_env:  # --scale: a generated project
        command = python_command("bench.apps:ours", args.server, port, args.threads, logs)
    elif stack.name in ("ours", "ours-nolog"):
        command = [PY, str(ROOT / "server.py"), "production"]
        env.update(ours_environment(port, logs, args.server, args.data))
        env.setdefault("MIA_JWT_SECRET", secrets.token_urlsafe(48))  # production refuses to start without one
    elif stack.name == "bare":
        command = python_command("bench.apps:bare_flask", args.server, port, args.threads, logs)
    elif stack.name == "eve":
        command = python_command("bench.apps:eve_app", args.server, port, args.threads, logs)
    elif stack.name == "fastapi":
        command = [str(BIN / "uvicorn"), "--factory", "bench.fastapi_app:app", "--host", "127.0.0.1",
                   "--port", str(port), "--workers", "1", "--loop", "uvloop", "--http", "httptools",
                   "--log-level", "warning", "--access-log" if logs else "--no-access-log"]
    else:
        command = ["node", str(ROOT / "bench" / "express" / "app.js")]
        env.update(PORT=str(port), NODE_PATH=str(node_modules), NODE_ENV="production", ACCESS_LOG="1" if logs else "0")
    stack.port = port
    stack.started = time.perf_counter()
    output = open(args.data / f"{stack.name}-{port}.log", "wb")  # noqa: SIM115 - the child keeps it open
    stack.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output,
                                     stderr=None if args.verbose else subprocess.STDOUT, start_new_session=True)
    output.close()


def discover_ids(stack: Stack) -> None:
    """Ours serves the shipped demo: register a device for the signed case and take a todo id for the read."""
    import json

    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    try:
        conn.request("POST", "/demo-auth/v1/devices", body=b'{"culture": {"code": "en-gb"}}',
                     headers={"Content-Type": "application/json"})
        stack.device_id = json.loads(conn.getresponse().read())["response"]["id"]
        conn.request("GET", "/demo/v1/todo")
        stack.todo_id = json.loads(conn.getresponse().read())["response"][0]["_id"]
    finally:
        conn.close()


def idle_cpu(stack: Stack, seconds: float) -> float:
    """Percent of one core the idle server used over ``seconds`` (its scheduler, processors, pollers)."""
    assert stack.process is not None
    before, started = cpu_seconds(stack.process.pid), time.perf_counter()
    time.sleep(seconds)
    return (cpu_seconds(stack.process.pid) - before) / (time.perf_counter() - started) * 100


def wait_ready(stack: Stack, path: str, headers: dict[str, str] | None = None, limit: float = 90.0) -> bool:
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        if stack.process is not None and stack.process.poll() is not None:
            return False
        if get(stack.port, path, headers, timeout=limit) == 200:
            stack.first_answer = time.perf_counter() - stack.started
            return True
        time.sleep(0.02)
    return False


def stop(stack: Stack) -> None:
    if stack.process is None or stack.process.poll() is not None:
        return
    os.killpg(stack.process.pid, signal.SIGTERM)  # the server's own session: supervisor and workers
    try:
        stack.process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(stack.process.pid, signal.SIGKILL)
        stack.process.wait(5)


# ------------------------------------------------------------------------------------------ runs
@dataclass
class Run:
    stack: str
    case: str
    round: int
    result: Result
    cpu_us: float
    rss: float


def measure(stack: Stack, case: str, rnd: int, args: argparse.Namespace, seconds: float, connections: int) -> Run:
    requests = requests_for(case, stack, seconds)
    assert stack.process is not None
    cpu_before = cpu_seconds(stack.process.pid)
    result = drive(stack.port, requests, seconds, connections, args.loader)
    cpu = cpu_seconds(stack.process.pid) - cpu_before
    run = Run(stack.name, case, rnd, result, cpu / result.requests * 1e6 if result.requests else 0.0,
              rss_mb(stack.process.pid))
    if not args.quiet:
        r = result
        print(f"  r{rnd} {case:7s} {stack.name:8s} {r.rps:9.0f} req/s  p50 {r.p50_ms:6.2f} ms  p99 {r.p99_ms:7.2f} ms"
              f"  cpu {run.cpu_us:6.0f} us/req  rss {run.rss:5.1f} MB  err {r.errors} non2xx {r.non_2xx}", flush=True)
    return run


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(runs: list[Run], stacks: dict[str, Stack]) -> dict[str, float]:
    print("\n| case | stack | req/s | p50 ms | p99 ms | server CPU us/req | worker RSS MB | errors | non-2xx |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for case in CASES:
        for name in STACKS:
            mine = [r for r in runs if r.case == case and r.stack == name]
            if not mine:
                continue
            print(f"| {case} | {STACKS[name][0]} | {median([r.result.rps for r in mine]):,.0f} | "
                  f"{median([r.result.p50_ms for r in mine]):.2f} | {median([r.result.p99_ms for r in mine]):.2f} | "
                  f"{median([r.cpu_us for r in mine]):.0f} | {max(r.rss for r in mine):.1f} | "
                  f"{sum(r.result.errors for r in mine)} | {sum(r.result.non_2xx for r in mine)} |")
    ratios: dict[str, float] = {}
    print("\nratios of req/s inside each round (median over rounds):")
    _print_ratios(runs, ratios, "", lambda ours, base: ours.result.rps / base.result.rps if base.result.rps else None,
                  "ours / {other:8s}")
    print("server CPU per request, other / ours inside each round (median; steadier than req/s on a busy machine):")
    _print_ratios(runs, ratios, "cpu_", lambda ours, base: base.cpu_us / ours.cpu_us if ours.cpu_us else None,
                  "{other:8s} / ours")
    firsts = {n: s.first_answer for n, s in stacks.items() if s.first_answer is not None}
    print("first answer after start (s): " + ", ".join(f"{n} {t:.2f}" for n, t in firsts.items()))
    return ratios


def _print_ratios(runs: list[Run], ratios: dict[str, float], key_prefix: str,
                  ratio: Callable[[Run, Run], float | None], label: str) -> None:
    """Per case and other stack: ``ratio(ours, other)`` inside each round, printed and stored as the median.

    A round where either side answered errors or anything but 2xx is left out, and said so."""
    failed: set[tuple[str, str]] = set()
    for case in CASES:
        for other in ("bare", "express", "fastapi", "eve", "ours-nolog"):
            per_round = []
            for rnd in sorted({r.round for r in runs}):
                ours = [r for r in runs if r.case == case and r.stack == "ours" and r.round == rnd]
                base = [r for r in runs if r.case == case and r.stack == other and r.round == rnd]
                if any(r.result.non_2xx or r.result.errors for r in ours + base):
                    failed.add((case, other))  # a stack that answers errors fast is not faster
                    continue
                value = ratio(ours[0], base[0]) if ours and base else None
                if value is not None:
                    per_round.append(value)
            if per_round:
                ratios[f"{key_prefix}{case}_vs_{other}"] = median(per_round)
                print(f"  {case:7s} {label.format(other=other)} = {median(per_round):.2f}  "
                      f"(rounds: {', '.join(f'{x:.2f}' for x in per_round)})")
            if (case, other) in failed:
                print(f"  {case:7s} {label.format(other=other)}: rounds with errors or non-2xx answers not compared")


def ensure_bench_packages(names: list[str]) -> None:
    """Install bench/requirements.txt into this interpreter when a peer it names is missing."""
    import importlib.util

    wanted = {"fastapi": ("fastapi", "uvicorn", "uvloop", "httptools"), "eve": ("eve",)}
    missing = [m for n in names for m in wanted.get(n, ()) if importlib.util.find_spec(m) is None]
    if missing:
        print(f"# installing bench/requirements.txt ({', '.join(missing)} missing)", flush=True)
        subprocess.run([PY, "-m", "pip", "install", "-q", "-r", str(ROOT / "bench" / "requirements.txt")], check=True,
                       timeout=600)


def benchmark(args: argparse.Namespace) -> int:
    names = [n for n in args.stacks.split(",") if n]
    ensure_bench_packages(names)
    node_modules = express_dir(args.quiet) if "express" in names else None
    if node_modules is None and "express" in names:
        names.remove("express")
        print("# express skipped: node/npm not found")
    print("# ours: python server.py production, shipped configuration; changed: "
          + ", ".join(f"{k}={v}" for k, v in ours_environment(0, False, args.server, args.data).items()
                      if k not in ("PORT", "MIA_CFG_ACCESSLOG", "MIA_CFG_EMBEDDED__PATH"))
          + " (and MIA_CFG_ACCESSLOG=false in the logs-off table; the data file in a temp dir)")
    print(f"# Python WSGI stacks on {args.server}, 1 worker x {args.threads} threads; FastAPI on uvicorn + uvloop + "
          "httptools (async def); Express 5 (NODE_ENV=production)")
    ports = free_ports(args.port_base, args.port_base + 899)
    first: dict[str, float] = {}
    for mode in [m for m in args.logs.split(",") if m]:
        logs = mode == "on"
        session_names = list(names)
        if logs and "ours" in names and args.log_cost:
            session_names.append("ours-nolog")  # the access log's cost, measured inside each round
        print(f"\n## access logs {mode} in every stack", flush=True)
        code, ratios = session(args, session_names, logs, node_modules, ports)
        if code:
            return code
        first = first or ratios
    if "full_vs_bare" in first:
        print(f"ratio_full_chain_vs_bare_flask={first['full_vs_bare']:.2f}")
    return 0


def session(args: argparse.Namespace, names: list[str], logs: bool, node_modules: Path | None,
            ports: Iterator[int]) -> tuple[int, dict[str, float]]:
    """Start the stacks with access logs on or off, run the interleaved rounds, print the table and ratios."""
    cases = [c for c in args.cases.split(",") if c]
    stacks = {n: Stack(n, STACKS[n][0], STACKS[n][1], logs=logs and n != "ours-nolog") for n in names}
    ratios: dict[str, float] = {}
    try:
        for stack in stacks.values():  # one after another: a first answer timed alone, not in a crowd
            start(stack, args, next(ports), node_modules)
            probe = requests_for(next(c for c in ("full", "static") if c in stack.cases), stack, 0)[0]
            if not wait_ready(stack, probe.path, probe.headers):
                print(f"# {stack.name} did not start (its output: {args.data}/{stack.name}-{stack.port}.log)")
                return 2, ratios
            if stack.name.startswith("ours"):
                discover_ids(stack)
        if logs and args.idle and "ours" in stacks:
            print(f"idle: ours used {idle_cpu(stacks['ours'], args.idle):.2f}% of one core over {args.idle:.0f} s "
                  "(cron scheduler, notification processor, broadcast poller; no requests)", flush=True)
        for case in cases:  # warm-up, not counted: V8's JIT, CPython's caches, the store's first pages
            for stack in stacks.values():
                if case in stack.cases and args.warmup > 0:
                    drive(stack.port, requests_for(case, stack, args.warmup), args.warmup, args.connections,
                          args.loader)
        runs: list[Run] = []
        order = list(stacks)
        for rnd in range(1, args.rounds + 1):
            for case in cases:
                for name in order:
                    if case in stacks[name].cases:
                        runs.append(measure(stacks[name], case, rnd, args, args.duration, args.connections))
            order = order[1:] + order[:1]  # rotate, so no stack always runs first
        ratios = report(runs, stacks)
        if args.soak and logs:
            soak = measure(stacks["ours"], "full", 0, args, args.soak, 64)
            print(f"soak: {args.soak:.0f} s at 64 connections on the full chain: {soak.result.requests} requests, "
                  f"{soak.result.errors} errors, {soak.result.timeouts} time-outs, {soak.result.non_2xx} non-2xx, "
                  f"p99 {soak.result.p99_ms:.1f} ms")
    finally:
        for stack in stacks.values():
            stop(stack)
    return 0, ratios


def scaling(args: argparse.Namespace) -> int:
    """First answer after start, worker RSS, p99 against the 10-route case, time-outs.

    Each size's project is written (and byte-compiled) before its server starts, as a deployed
    server's files are there before it starts: the first answer times the server, not the generator.
    """
    from bench.scale import make_root, probe_paths

    sizes = [10] + [int(n) for n in args.scale.split(",") if n]
    ports = free_ports(args.port_base + 900, args.port_base + 999)
    rows = []
    for size in sizes:
        stack = Stack("ours", f"{size} routes", (), logs=False)
        root = make_root(size)
        start(stack, args, next(ports), None, {"BENCH_ROOT": str(root)})
        try:
            paths = probe_paths(size)
            if not wait_ready(stack, paths[0], limit=180):
                print(f"# {size} routes: no answer")
                return 2
            assert stack.process is not None
            result = drive(stack.port, [Request("GET", p) for p in paths], args.duration, args.connections,
                           args.loader)
            rows.append((size, stack.first_answer or 0.0, rss_mb(stack.process.pid), result))
        finally:
            stop(stack)
            shutil.rmtree(root, ignore_errors=True)
    base_p99 = rows[0][3].p99_ms or 1e-9
    print("\n| routes | first answer s | worker RSS MB | req/s | p99 ms | p99 / 10-route p99 | time-outs | errors |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, first, rss, r in rows:
        print(f"| {size:,} | {first:.2f} | {rss:.1f} | {r.rps:,.0f} | {r.p99_ms:.2f} | {r.p99_ms / base_p99:.2f} | "
              f"{r.timeouts} | {r.errors + r.non_2xx} |")
    return 0


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 rounds x 2 s, full chain and static key (< 60 s)")
    parser.add_argument("--server", choices=("granian", "gunicorn"), default="granian",
                        help="WSGI server of the Python stacks (default granian: the fastest measured)")
    parser.add_argument("--threads", type=int, default=shipped_threads(),
                        help="blocking threads per WSGI worker (default: the shipped production server.threads)")
    parser.add_argument("--logs", default="on,off", help="access-log settings to run, one table each (on,off)")
    parser.add_argument("--log-cost", action=argparse.BooleanOptionalAction, default=True,
                        help="in the logs-on table, also run ours with accessLog off (the log's cost per round)")
    parser.add_argument("--idle", type=float, default=20.0,
                        help="seconds ours stays idle before the load, to measure its background CPU (0: skip)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of uncounted load per stack and case first")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma list of {', '.join(CASES)}")
    peers = [n for n in STACKS if n != "ours-nolog"]  # ours-nolog joins the logs-on table by itself (--log-cost)
    parser.add_argument("--stacks", default=",".join(peers), help=f"comma list of {', '.join(peers)}")
    parser.add_argument("--soak", type=float, default=0, help="then N seconds at 64 connections on the full chain")
    parser.add_argument("--scale", default="", help="instead: scaling check for these route counts (1000,10000)")
    parser.add_argument("--loader", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--port-base", type=int, default=PORT_BASE, help="first port of the servers (default 46000)")
    parser.add_argument("--quiet", action="store_true", help="only the tables and the ratio line")
    parser.add_argument("--verbose", action="store_true", help="show the servers' stderr")
    args = parser.parse_args(argv)
    args.data = Path(tempfile.mkdtemp(prefix="mia-bench-"))  # the stacks' output files and ours' data file
    if args.quick:
        if args.logs == "on,off":
            args.logs = "on"
        args.idle, args.log_cost = 0.0, False
        args.rounds = min(args.rounds, 2)
        args.duration = min(args.duration, 2.0)
        args.warmup = min(args.warmup, 0.5)
        if args.cases == ",".join(CASES):
            args.cases = "full,static"
    return args


def byte_compile() -> None:
    """Byte-compile the repository's own sources, as they are on a server after its first start.

    Where ``PYTHONDONTWRITEBYTECODE`` is set (CI, containers) the servers would otherwise compile
    every module of core/ and projects/ from source on each start, while their installed libraries
    load compiled: first answers would time the byte compiler.
    """
    for folder in ("core", "projects", "client", "bench", "config", "init"):
        if (ROOT / folder).is_dir():
            compileall.compile_dir(str(ROOT / folder), quiet=1)


def main(argv: list[str]) -> int:
    args = parse(argv)
    byte_compile()
    return scaling(args) if args.scale else benchmark(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
