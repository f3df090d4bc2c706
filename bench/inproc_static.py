"""The static-key list in-process: this project against bare Flask (and Eve) in one process, no sockets.

    .venv/bin/python bench/inproc_static.py [N per round, default 300] [rounds, default 15] [--eve]

Each stack's WSGI app is called with the same environ (``GET /demo-auth/v1/todo``, header ``key``,
``REMOTE_ADDR`` 127.0.0.1), the stacks alternating every N requests. Prints the CPU time per request
(process time, steadier than wall time on a shared machine) and the ratio per round.
"""
from __future__ import annotations

import gc
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from werkzeug.test import EnvironBuilder  # noqa: E402

from bench import apps  # noqa: E402


def environ() -> dict[str, Any]:
    return EnvironBuilder(path="/demo-auth/v1/todo", headers={"key": apps.STATIC_KEY},
                          environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()


def call(app: Any) -> tuple[str, bytes]:
    status: list[str] = []
    body = b"".join(app(environ(), lambda s, h, exc=None: status.append(s)))
    return status[0], body


def main() -> None:
    numbers = [int(a) for a in sys.argv[1:] if a.isdigit()]
    n = numbers[0] if numbers else 300
    rounds = numbers[1] if len(numbers) > 1 else 15
    stacks = {"ours": apps.ours(), "bare": apps.bare_flask()}
    if "--eve" in sys.argv:
        stacks["eve"] = apps.eve_app()
    for name, app in stacks.items():
        status, body = call(app)
        assert status.startswith("200"), (name, status, body[:200])
        for _ in range(200):
            call(app)
    gc.collect()
    cpu: dict[str, list[float]] = {name: [] for name in stacks}
    for _ in range(rounds):
        for name, app in stacks.items():
            start = time.process_time()
            for _ in range(n):
                call(app)
            cpu[name].append((time.process_time() - start) / n * 1e6)
    for name, values in cpu.items():
        print(f"{name}: best {min(values):.0f} us, median {sorted(values)[len(values) // 2]:.0f} us CPU per request")
    for other in [s for s in stacks if s != "ours"]:
        ratios = sorted(o / m for m, o in zip(cpu["ours"], cpu[other], strict=True))
        print(f"ours / {other} (speed, median of rounds) = {ratios[len(ratios) // 2]:.2f}")


if __name__ == "__main__":
    main()
