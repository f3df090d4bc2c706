"""Screenshot of the Swagger UI at /docs, taken by headless Chromium, to see what a developer sees.

    .venv/bin/python tools/docs_screenshot.py [--env test] [--out docs.png]

Starts the app on a free loopback port in this process, points Debian's Chromium
(``apt-get install -y chromium``) at ``http://127.0.0.1:<port>/docs/`` and writes a PNG. Chromium
runs with networking extras off and every host name but 127.0.0.1 unresolvable, so the page can
only render from the locally bundled assets: a UI that shows its operations proves there is no CDN.
Exit code 0 when the PNG was written.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"


def serve(mode: str) -> tuple[object, int]:
    """The app on 127.0.0.1 with a free port, served from a daemon thread."""
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from core.app.factory import create_app

    server = make_server("127.0.0.1", 0, create_app(mode), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_port


def screenshot(url: str, out: Path, timeout: float = 90.0) -> None:
    """Render ``url`` with headless Chromium into ``out`` (PNG)."""
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="mia-chromium-") as profile:
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", f"--screenshot={out}", "--window-size=1280,2000",
               "--virtual-time-budget=5000", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", url]
        subprocess.run(cmd, check=True, timeout=timeout, capture_output=True)
    if not out.is_file() or out.stat().st_size == 0:
        raise SystemExit(f"Chromium wrote no screenshot to {out}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="test", help="environment to start (default: test)")
    parser.add_argument("--out", default="docs-screenshot.png", help="PNG to write")
    args = parser.parse_args(argv)
    server, port = serve(args.env)
    out = Path(args.out).resolve()
    try:
        screenshot(f"http://127.0.0.1:{port}/docs/", out)
    finally:
        server.shutdown()  # type: ignore[attr-defined]
    print(f"wrote {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found: apt-get install -y chromium", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
