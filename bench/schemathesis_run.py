"""The long schemathesis run: every phase, many cases, against the live demo + generic API.

    .venv/bin/python bench/schemathesis_run.py [--max-examples 100] [--seed N] [--static-key]

tests/test_schemathesis.py is the bounded CI version (fuzzing only, ~300 cases, fixed seed). This
script starts the app (environment ``test``) on a free loopback port in this process, runs
schemathesis's examples, coverage and fuzzing phases from /api-docs with a random seed unless one is
given, and prints schemathesis's report (thousands of cases). The exclusions are the CI test's,
for the reasons written there.

``--static-key`` also registers a device with a static 32-character key allowed from 127.0.0.1 and
sends it with every request, so operations behind generic-validateAccessKey are fuzzed past the
authentication too. The key header then overrides the generated one, which breaks operations that
declare a different key format, and schemathesis's ``ignored_auth`` check expects 401 where mia.js
answers a missing key with 400 MissingRequiredParameter; read those findings with that in mind.
Exit code: schemathesis's (0 = no failure).
"""
from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_schemathesis import CONFIG, EXCLUDED_CHECKS  # noqa: E402

STATIC_KEY = "0123456789abcdef0123456789abcdef"  # demo value for this local run only


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Long schemathesis run against the live app.")
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--static-key", action="store_true", help="fuzz past generic-validateAccessKey too")
    args = parser.parse_args(argv)

    from werkzeug.serving import make_server

    from core import Shared
    from core.app.factory import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_app("test", ROOT)
    if args.static_key:
        Shared.models("generic-device-model").collection().insert_one({
            "id": "f" * 32, "status": "active", "culture": {"language": "en", "region": "gb"},
            "access": {"key": STATIC_KEY, "cidr": ["127.0.0.1/32"]}})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="mia-schemathesis-") as work:
        config = Path(work) / "schemathesis.toml"
        config.write_text(CONFIG)
        cmd = [str(Path(sys.executable).with_name("st")), "--config-file", str(config), "run",
               f"http://127.0.0.1:{server.server_port}/api-docs", "--phases", "examples,coverage,fuzzing",
               "--max-examples", str(args.max_examples), "--exclude-checks", ",".join(EXCLUDED_CHECKS),
               "--request-timeout", "10", "--workers", "1"]
        if args.seed is not None:
            cmd += ["--seed", str(args.seed)]
        if args.static_key:
            cmd += ["-H", f"key: {STATIC_KEY}"]
        try:
            return subprocess.run(cmd, cwd=work, timeout=3600).returncode
        finally:
            server.shutdown()
            app.config["mia.databases"].close_all()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
