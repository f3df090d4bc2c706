"""The embedded store at a real size (issue 24): writes, indexed reads, start-up and memory.

    .venv/bin/python bench/embedded.py [--quick] [--sizes 1000,10000,100000,1000000]

1. ``insert_one`` into ``devices`` (3 unique indexes, 2 plain ones, as the generic device model declares)
   and ``find_one`` by an indexed field at each size; a duplicate must be refused. Also mongomock-ng's
   own unique check and scan (this store's index structures swapped out) at the small sizes, as the
   baseline, and one size with the journal on (fsync per write). Ratios: largest size / 1,000.
2. Start-up of the real server (``python server.py bench`` in a copy of the repository, logLevel info)
   on a BSON snapshot of 100,000 ``demo-todos`` + 100,000 ``devices`` (their indexes in the snapshot,
   as after a clean stop), and of 1,000,000 ``demo-todos``: seconds from the process start to the first
   200 answer, with the progress lines it logged, and the process's RSS against the documents' BSON size.
``--quick`` keeps sizes to 100,000 and skips the 1,000,000 start-up (about a minute).
The machine may be shared: ratios inside one run matter more than the absolute figures.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bson  # noqa: E402
import mongomock_ng  # noqa: E402
from bson import ObjectId  # noqa: E402
from pymongo.errors import DuplicateKeyError  # noqa: E402

from core.data import embedded_fast, embedded_index  # noqa: E402
from core.data.embedded import make_thread_safe  # noqa: E402

T0 = dt.datetime(2026, 1, 1)
DEVICE_INDEXES = [("id_1", {"key": [("id", 1)], "unique": True}),
                  ("session.id_1", {"key": [("session.id", 1)], "unique": True, "sparse": True}),
                  ("access.key_1", {"key": [("access.key", 1)], "unique": True, "sparse": True}),
                  ("lastModified_1", {"key": [("lastModified", 1)]}), ("status_1", {"key": [("status", 1)]})]


def device(i: int) -> dict:
    doc = {"_id": ObjectId(), "id": f"{i:032x}", "access": {"key": f"{i:031x}k"},
           "culture": {"language": "de", "region": "de"}, "status": "active", "created": T0,
           "lastModified": T0 + dt.timedelta(seconds=i)}
    if i % 2:
        doc["session"] = {"id": f"{i:063x}s"}
    return doc


def todo(i: int) -> dict:
    return {"_id": ObjectId(), "name": f"todo-{i:07d}", "status": "unchecked", "group": "demo", "owner": "bench",
            "created": T0, "lastModified": T0}


def fill(collection, make, size: int, indexes) -> None:
    """What start-up does: documents straight into the store, then every index in one pass."""
    store = collection._store
    for i in range(size):
        doc = make(i)
        store._documents[doc["_id"]] = doc
    for name, spec in indexes:
        store.create_index(name, spec)
    embedded_index.state(store)
    gc.freeze()  # as start-up does after loading a snapshot (core.data.embedded_snapshot)


def per_call_us(fn, calls: int, rounds: int = 5) -> float:
    """Microseconds per call: the median over ``rounds`` batches (a shared machine's bursts fall out)."""
    means, per = [], max(calls // rounds, 1)
    for batch in range(rounds):
        start = time.perf_counter()
        for i in range(batch * per, (batch + 1) * per):
            fn(i)
        means.append((time.perf_counter() - start) / per * 1e6)
    return statistics.median(means)


def measure(size: int, calls: int) -> tuple[float, float, float, str]:
    """(insert_one us, find_one by indexed id us, find_one by _id us, duplicate verdict) at ``size`` documents."""
    coll = mongomock_ng.MongoClient(tz_aware=True)["bench"][f"devices{size}"]
    fill(coll, device, size, DEVICE_INDEXES)
    insert = per_call_us(lambda i: coll.insert_one(device(10_000_000 + i)), calls)
    find = per_call_us(lambda i: coll.find_one({"id": f"{(i * 7919) % size:032x}"}), calls)
    some = coll.find_one({"id": f"{size // 2:032x}"})["_id"]
    by_id = per_call_us(lambda i: coll.find_one({"_id": some}), calls)
    try:
        coll.insert_one({"id": f"{size // 3:032x}"})
        refused = "ACCEPTED"
    except DuplicateKeyError:
        refused = "refused"
    return insert, find, by_id, refused


def writes_and_reads(sizes: list[int], calls: int = 2000) -> None:
    print("\n== insert_one / find_one on devices (3 unique + 2 plain indexes), microseconds per call ==")
    print(f"{'documents':>10} {'insert_one':>11} {'find_one id':>12} {'find _id':>9} {'duplicate':>10}")
    figures = []
    for size in sizes:
        insert, find, by_id, refused = measure(size, calls)
        gc.unfreeze()
        gc.collect()
        figures.append((size, insert, find))
        print(f"{size:>10,} {insert:>11.1f} {find:>12.1f} {by_id:>9.1f} {refused:>10}", flush=True)
    (small, insert0, find0), (large, insert1, find1) = figures[0], figures[-1]
    print(f"ratio insert_one {large:,}/{small:,} = {insert1 / insert0:.2f}; find_one = {find1 / find0:.2f}")


def baseline_size(size: int, calls: int) -> tuple[float, float]:
    from mongomock_ng import collection as mcoll

    coll = mongomock_ng.MongoClient(tz_aware=True)["bench"][f"base{size}"]
    fill(coll, device, size, DEVICE_INDEXES)
    ours = mcoll.Collection._ensure_uniques, mcoll.Collection._iter_documents, mcoll.Cursor._compute_results
    mcoll.Collection._ensure_uniques = embedded_index.ORIGINALS["_ensure_uniques"]
    mcoll.Collection._iter_documents = embedded_fast.ORIGINALS["_iter_documents"]
    mcoll.Cursor._compute_results = embedded_fast.ORIGINALS["Cursor._compute_results"]  # no direct path
    try:
        insert = per_call_us(lambda i: coll.insert_one(device(10_000_000 + i)), calls)
        find = per_call_us(lambda i: coll.find_one({"id": f"{i:032x}"}), calls)
    finally:
        mcoll.Collection._ensure_uniques, mcoll.Collection._iter_documents, mcoll.Cursor._compute_results = ours
    return insert, find


def baseline(sizes: list[int], calls: int = 100) -> None:
    print("\n== baseline: mongomock-ng's own unique check and scan (our index structures swapped out) ==")
    for size in sizes:
        insert, find = baseline_size(size, calls)
        gc.unfreeze()
        print(f"{size:>10,} insert_one {insert:>9.1f} us   find_one {find:>9.1f} us", flush=True)


def journaled(size: int, calls: int = 500) -> None:
    from core.data.databases import Databases

    with tempfile.TemporaryDirectory(prefix="mia-bench-") as folder:
        env = {"defaultMongoDatabase": "b", "mongoDatabases": {"b": {"url": None}},
               "embedded": {"path": f"{folder}/s.bson"}}
        databases = Databases(env)
        coll = databases.database()["devices"]
        fill(coll, device, size, DEVICE_INDEXES)
        insert = per_call_us(lambda i: coll.insert_one(device(10_000_000 + i)), calls)
        databases._journal.fsync = False
        no_sync = per_call_us(lambda i: coll.insert_one(device(20_000_000 + i)), calls)
        databases._journal.close()
    print(f"\n== with the journal at {size:,} documents: insert_one {insert:.1f} us with fsync "
          f"(on {ROOT}'s disk), {no_sync:.1f} us without ==")


# -- start-up of the real server ---------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_root(folder: Path, port: int) -> Path:
    root = folder / "repo"
    root.mkdir()
    shutil.copy(ROOT / "server.py", root / "server.py")
    for part in ("core", "client", "config", "projects", "init"):
        shutil.copytree(ROOT / part, root / part, ignore=shutil.ignore_patterns("__pycache__", ".mia-data"))
    env = {"logLevel": "info", "debug": False, "hosts": [], "allowDemo": True,
           "server": {"http": {"host": "127.0.0.1", "port": port}},
           "defaultMongoDatabase": "mia", "mongoDatabases": {"mia": {"url": None}},
           "embedded": {"path": "data/store.bson"}}
    (root / "config" / "env" / "bench.py").write_text(f"environment = {env!r}\n")
    return root


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far: what start-up cost, whatever else ran on the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve(root: Path, port: int) -> tuple[float, float, float, list[str]]:
    """Start the server, wait for its first 200; (seconds, CPU seconds, RSS MB, progress lines); SIGTERM."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIA_")}
    log = root / "server.log"
    start = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "server.py", "bench"], cwd=root, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"server exited:\n{log.read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_mia/health", timeout=5) as r:
                        if r.status == 200:
                            break
                except OSError:
                    time.sleep(0.05)
            seconds, rss, cpu = time.monotonic() - start, rss_mb(process.pid), cpu_seconds(process.pid)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=300)
    lines = [line for line in log.read_text().splitlines() if "embedded store" in line]
    return seconds, cpu, rss, lines


def startup(parts: list[tuple[str, object, int]], label: str) -> None:
    from core.data.embedded_snapshot import Snapshot

    with tempfile.TemporaryDirectory(prefix="mia-bench-") as folder:
        port = free_port()
        root = make_root(Path(folder), port)
        empty_seconds, empty_cpu, empty_rss, _ = serve(root, port)  # creates the collections and indexes, saves them
        path = root / "data" / "store.bson"
        client = mongomock_ng.MongoClient(tz_aware=True)
        snapshot = Snapshot(path)
        snapshot.load(client)
        bson_bytes = 0
        for name, make, size in parts:
            store = client["mia"][name]._store
            for i in range(size):
                doc = make(i)
                bson_bytes += len(bson.encode(doc))
                store._documents[doc["_id"]] = doc
        snapshot.save(client)
        del client, store
        seconds, cpu, rss, lines = serve(root, port)
    print(f"\n== start-up: {label} ==")
    print(f"first answer after {seconds:.2f} s, {cpu:.2f} CPU s (empty store: {empty_seconds:.2f} s, "
          f"{empty_cpu:.2f} CPU s)")
    print(f"RSS {rss:.0f} MB (empty store {empty_rss:.0f} MB); documents' BSON {bson_bytes / 2**20:.0f} MB; "
          f"RSS / BSON = {rss / (bson_bytes / 2**20):.2f}, (RSS - empty) / BSON = "
          f"{(rss - empty_rss) / (bson_bytes / 2**20):.2f}")
    for line in lines:
        print("   ", line.split("mia.db", 1)[-1].strip(" :"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", default="")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s] or \
        ([1_000, 10_000, 100_000] if args.quick else [1_000, 10_000, 100_000, 1_000_000])
    make_thread_safe()
    print(f"load average at start: {os.getloadavg()}; cpus {os.cpu_count()}")
    writes_and_reads(sizes)
    baseline([1_000, 10_000])
    journaled(100_000)
    startup([("demo-todos", todo, 100_000), ("devices", device, 100_000)], "100,000 todos + 100,000 devices")
    if not args.quick:
        startup([("demo-todos", todo, 1_000_000)], "1,000,000 todos")
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
