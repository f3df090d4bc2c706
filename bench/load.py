"""Load generation and server measurement for bench/run.py.

``drive`` runs wrk (Debian's package) with a Lua script that replays the given requests and prints
one JSON line of totals; without wrk a bundled load generator (threads, keep-alive ``http.client``
connections) does the same, slower. Both are bounded by ``seconds``. Server CPU comes from
``/proc/<pid>/stat`` (user + system ticks of the server's whole process tree), worker RSS from
``/proc/<pid>/status`` (the largest leaf process: the worker, not the supervisor).
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # connect/read/write errors and time-outs
    timeouts: int
    non_2xx: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


# ------------------------------------------------------------------------------------------ /proc
def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid``'s process tree, in seconds."""
    total = 0
    for member in tree(pid):
        try:
            with open(f"/proc/{member}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / TICKS


def rss_mb(pid: int) -> float:
    """RSS of the worker: the largest process of the tree that has no children (or ``pid`` itself)."""
    members = tree(pid)
    parents = set()
    for member in members:
        try:
            with open(f"/proc/{member}/stat") as handle:
                parents.add(int(handle.read().rsplit(")", 1)[1].split()[1]))
        except (OSError, IndexError, ValueError):
            continue
    leaves = [m for m in members if m not in parents] or [pid]
    best = 0
    for member in leaves:
        try:
            with open(f"/proc/{member}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        best = max(best, int(line.split()[1]))
        except OSError:
            continue
    return best / 1024


# ------------------------------------------------------------------------------------------ wrk
LUA = """
local reqs, n, i = {}, 0, 0
init = function(args)
  for line in io.lines(%(file)s) do
    local method, path, headers, body = line:match("^(%%S+)\\t(%%S+)\\t([^\\t]*)\\t?(.*)$")
    local h = {}
    for k, v in headers:gmatch("([^=|]+)=([^|]*)") do h[k] = v end
    if body == "" then body = nil end
    n = n + 1
    reqs[n] = wrk.format(method, path, h, body)
  end
end
request = function()
  i = i %% n + 1
  return reqs[i]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%%d,"duration_us":%%d,"connect":%%d,"read":%%d,"write":%%d,' ..
    '"status":%%d,"timeout":%%d,"p50":%%d,"p99":%%d}\\n', summary.requests, summary.duration, e.connect, e.read,
    e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def _lines(requests: list[Request]) -> str:
    out = []
    for req in requests:
        for text in (*req.headers, *req.headers.values()):
            if any(c in text for c in "\t\n|="):
                raise ValueError(f"header text {text!r} cannot go into the wrk request file")
        headers = "|".join(f"{k}={v}" for k, v in req.headers.items())
        out.append(f"{req.method}\t{req.path}\t{headers}\t{req.body.decode()}")
    return "\n".join(out) + "\n"


def wrk_drive(port: int, requests: list[Request], seconds: float, connections: int) -> Result:
    with tempfile.TemporaryDirectory(prefix="mia-wrk-") as tmp:
        data = Path(tmp) / "requests.txt"
        data.write_text(_lines(requests))
        script = Path(tmp) / "replay.lua"
        script.write_text(LUA % {"file": json.dumps(str(data))})
        command = ["wrk", "-t1", f"-c{connections}", f"-d{max(seconds, 1):.0f}s", "--timeout", "5s", "-s", str(script),
                   f"http://127.0.0.1:{port}"]
        if seconds < 1:  # wrk counts whole seconds; a sub-second run (tests) goes by request count instead
            command[3] = "-d1s"
        out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30).stdout
    line = next((x for x in out.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    raw = json.loads(line[8:])
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return Result(raw["requests"], raw["duration_us"] / 1e6, raw["p50"] / 1000, raw["p99"] / 1000, errors,
                  raw["timeout"], raw["status"])


# ------------------------------------------------------------------------------------------ Python
def py_drive(port: int, requests: list[Request], seconds: float, connections: int) -> Result:
    """Bundled load generator: one thread per connection (at most 32), keep-alive, same request cycle."""
    latencies: list[float] = []
    counts = {"errors": 0, "timeouts": 0, "non_2xx": 0}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    position = iter(range(1 << 62))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        mine: list[float] = []
        local = {"errors": 0, "timeouts": 0, "non_2xx": 0}
        while time.perf_counter() < deadline:
            req = requests[next(position) % len(requests)]
            started = time.perf_counter()
            try:
                conn.request(req.method, req.path, body=req.body or None, headers=req.headers)
                reply = conn.getresponse()
                reply.read()
                if not 200 <= reply.status < 400:
                    local["non_2xx"] += 1
            except TimeoutError:
                local["timeouts"] += 1
                local["errors"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                continue
            except (OSError, http.client.HTTPException):
                local["errors"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                continue
            mine.append(time.perf_counter() - started)
        conn.close()
        with lock:
            latencies.extend(mine)
            for key, value in local.items():
                counts[key] += value

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(min(connections, 32))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000 if latencies else 0.0

    return Result(len(latencies), elapsed, pct(0.50), pct(0.99), counts["errors"], counts["timeouts"],
                  counts["non_2xx"])


def drive(port: int, requests: list[Request], seconds: float, connections: int, loader: str = "auto") -> Result:
    """Load ``port`` for ``seconds`` with ``connections`` keep-alive connections replaying ``requests``."""
    use_wrk = loader == "wrk" or (loader == "auto" and shutil.which("wrk") is not None)
    return (wrk_drive if use_wrk else py_drive)(port, requests, seconds, connections)


def get(port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 2.0) -> int:
    """Status of one GET (0 when the server does not answer)."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("GET", path, headers=headers or {})
        status = conn.getresponse().status
        conn.close()
        return status
    except (OSError, http.client.HTTPException):
        return 0
