"""bench/run.py: its command line and the quick mode's output format (no timing is asserted)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent


def test_help_lists_the_options():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0
    for option in ("--quick", "--server", "--scale", "--soak", "--stacks", "--cases"):
        assert option in done.stdout


def test_quick_mode_prints_the_table_and_ends_with_the_ratio_line():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--stacks", "ours,bare",
                           "--cases", "full", "--rounds", "1", "--duration", "0.3", "--loader", "python",
                           "--port-base", str(free_port())], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert any(line.startswith("| full | this project |") for line in lines), done.stdout
    assert any(line.startswith("| full | bare Flask by hand |") for line in lines), done.stdout
    assert re.fullmatch(r"ratio_full_chain_vs_bare_flask=\d+\.\d\d", lines[-1]), lines[-1]


def test_scale_mode_serves_the_generated_routes_and_prints_the_table():
    """``--scale`` builds generated projects (bench/scale.py) and serves them: a broken generated
    environment once made every size answer "no answer"."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--scale", "30", "--duration", "0.3",
                           "--loader", "python", "--port-base", str(free_port())], capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line for line in done.stdout.splitlines() if re.match(r"\| (10|30) \|", line)]
    assert len(rows) == 2, done.stdout
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert float(cells[1]) > 0 and float(cells[2]) > 0  # first answer (s), worker RSS (MB)
        assert cells[6] == "0" and cells[7] == "0"  # time-outs, errors


def test_inproc_compares_all_four_cases_with_bare_flask():
    """bench/inproc.py (CPU per request without sockets) answers every case with a 200 in both stacks
    (it checks each before measuring) and prints one line per case with the ratio."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "inproc.py"), "5", "1"], capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if "bare/ours" in line]
    assert [line.split()[0] for line in lines] == ["full", "static", "post", "signed"], done.stdout
