"""CPU per request in-process, no sockets: this project against bare Flask doing the same by hand.

    .venv/bin/python bench/inproc.py [N per round, default 300] [rounds, default 9] [--cases full,static,post,signed]
    .venv/bin/python bench/inproc.py --profile static [N]   # cProfile of ours on one case, top functions

Ours is the shipped ``production`` configuration as bench/run.py starts it with access logs off (one
worker, the demo allowed, no journal file, ``accessLog: False``); bare Flask is bench/apps.py's. Each case
calls both WSGI apps with the same request, the stacks alternating every N requests, and prints process
time per request (steadier than wall time on a shared machine) and the ratio bare / ours per round
(above 1: ours spends less CPU). The signed case pre-signs every request (its own nonce) before timing.
"""
from __future__ import annotations

import argparse
import gc
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from werkzeug.test import EnvironBuilder  # noqa: E402

from bench import apps  # noqa: E402

CASES = ("full", "static", "post", "signed")
HOST = "127.0.0.1:3000"


def ours_app(journal: str | None = None) -> Any:
    from core.app.factory import create_app
    from core.app.serving.listeners import refuse_upgrades
    from core.app.serving.transport import refuse_broken_chunked
    from core.shared import Shared

    overrides = {"server": {"workers": 1}, "embedded": {"path": journal}, "accessLog": False, "allowDemo": True}
    app = create_app("production", overrides=overrides)
    app = refuse_broken_chunked(refuse_upgrades(app, None))  # as core/app/serving/granian_run.py serves it
    apps._seed({"devices": Shared.models("generic-device-model").collection(),
                "todos": Shared.models("demo-todos").collection()})
    return app


def register_device(app: Any) -> str:
    import json

    client = app.test_client()
    answer = client.post("/demo-auth/v1/devices", data=b'{"culture": {"code": "en-gb"}}',
                         headers={"Content-Type": "application/json"}, base_url=f"http://{HOST}")
    return str(json.loads(answer.data)["response"]["id"])


def environ_maker(case: str, device_id: str) -> Callable[[], dict[str, Any]]:
    """A function returning a fresh environ of ``case`` per call (the signed case: a fresh nonce each)."""
    base = {"REMOTE_ADDR": "127.0.0.1"}
    if case == "full":
        built = EnvironBuilder(path="/icecream/v1/flavours", query_string="flavour=Vanilla", base_url=f"http://{HOST}",
                               headers={"Origin": "http://app.example"}, environ_base=base).get_environ()
    elif case == "static":
        built = EnvironBuilder(path="/demo-auth/v1/todo", headers={"key": apps.STATIC_KEY}, base_url=f"http://{HOST}",
                               environ_base=base).get_environ()
    elif case == "post":
        built = EnvironBuilder(path="/icecream/v1/rules/ab12", method="POST", data=apps.POST_BODY,
                               base_url=f"http://{HOST}", headers={"Content-Type": "application/json"},
                               environ_base=base).get_environ()
    else:
        from client.signing import v2_headers

        built = EnvironBuilder(path="/demo-auth/v1/todo", base_url=f"http://{HOST}", environ_base=base).get_environ()
        stamp = str(int(time.time()))
        pool: list[dict[str, str]] = []

        def signed() -> dict[str, Any]:
            if not pool:
                pool.extend(v2_headers(device_id, apps.SECRET_ID, apps.SECRET, "GET", f"http://{HOST}",
                                       "/demo-auth/v1/todo", b"", stamp) for _ in range(2000))
            headers = pool.pop()
            return {**built, "HTTP_KEY": headers["key"], "HTTP_SIGNATUREMETHOD": headers["signaturemethod"],
                    "HTTP_NONCE": headers["nonce"]}
        return signed
    body = built.get("wsgi.input").read() if case == "post" else b""

    def fresh() -> dict[str, Any]:
        environ = dict(built)
        environ["wsgi.input"] = io.BytesIO(body)
        return environ
    return fresh


def call(app: Any, environ: dict[str, Any]) -> tuple[str, bytes]:
    status: list[str] = []
    result = app(environ, lambda s, h, exc=None: status.append(s))
    body = b"".join(result)
    if hasattr(result, "close"):
        result.close()
    return status[0], body


def prepare(case: str, stacks: dict[str, Any], device_ids: dict[str, str]) -> dict[str, Callable[[], dict[str, Any]]]:
    makers = {name: environ_maker(case, device_ids[name]) for name in stacks}
    for name, app in stacks.items():
        if case == "signed":  # pre-sign outside the timed loop
            makers[name]()
        status, body = call(app, makers[name]())
        assert status.startswith("200"), (case, name, status, body[:300])
    return makers


def measure(case: str, stacks: dict[str, Any], device_ids: dict[str, str], n: int, rounds: int) -> None:
    makers = prepare(case, stacks, device_ids)
    for name, app in stacks.items():
        for _ in range(200):
            call(app, makers[name]())
    cpu: dict[str, list[float]] = {name: [] for name in stacks}
    for _ in range(rounds):
        for name, app in stacks.items():
            environs = [makers[name]() for _ in range(n)]
            gc.collect()
            start = time.process_time()
            for environ in environs:
                call(app, environ)
            cpu[name].append((time.process_time() - start) / n * 1e6)
    line = [f"{case:7}"]
    for name, values in cpu.items():
        line.append(f"{name} {sorted(values)[len(values) // 2]:6.1f} us (best {min(values):6.1f})")
    ratios = sorted(b / o for o, b in zip(cpu["ours"], cpu["bare"], strict=True))
    line.append(f"bare/ours {ratios[len(ratios) // 2]:.2f} (worst {ratios[0]:.2f})")
    print("  ".join(line), flush=True)


def profile(case: str, stacks: dict[str, Any], device_ids: dict[str, str], n: int, name: str) -> None:
    import cProfile
    import pstats

    makers = prepare(case, stacks, device_ids)
    app = stacks[name]
    for _ in range(300):
        call(app, makers[name]())
    environs = [makers[name]() for _ in range(n)]
    profiler = cProfile.Profile()
    profiler.enable()
    for environ in environs:
        call(app, environ)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(45)
    stats.sort_stats("cumulative").print_stats(60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("numbers", nargs="*", type=int)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--profile", help="a case: cProfile ours on it instead of measuring")
    parser.add_argument("--stack", default="ours", help="with --profile: ours or bare")
    parser.add_argument("--journal", help="ours' embedded data file (as bench/run.py gives it; default: none)")
    args = parser.parse_args()
    n = args.numbers[0] if args.numbers else 300
    rounds = args.numbers[1] if len(args.numbers) > 1 else 9
    stacks = {"ours": ours_app(args.journal), "bare": apps.bare_flask()}
    device_ids = {"ours": register_device(stacks["ours"]), "bare": apps.DEVICE_ID}
    if args.profile:
        profile(args.profile, stacks, device_ids, n, args.stack)
        return
    for case in args.cases.split(","):
        measure(case, stacks, device_ids, n, rounds)


if __name__ == "__main__":
    main()
