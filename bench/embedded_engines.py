"""The two maintained embedded document stores the embedded default could move to, measured as
bench/embedded.py measures ours (issue 24): ``insert_one`` into a collection with a unique index,
a find by the indexed field, a duplicate refused, at growing sizes; and which pymongo calls of this
project each one has.

Not in the project's environment on purpose (they are candidates, not dependencies): run it in a
scratch venv, ``python -m venv /tmp/cand && /tmp/cand/bin/pip install montydb==2.5.6 mongita==1.2.0``,
then ``/tmp/cand/bin/python bench/embedded_engines.py [sizes...]``.
"""
from __future__ import annotations

import sys
import tempfile
import time

SIZES = [int(a) for a in sys.argv[1:]] or [1_000, 10_000]
# The Collection methods the project's code calls (grep of core/ and projects/ for ``.<name>(``).
CALLS = ("insert_one", "insert_many", "find", "find_one", "update_one", "update_many", "replace_one",
         "delete_one", "delete_many", "find_one_and_update", "find_one_and_delete", "count_documents",
         "create_index", "drop_index", "index_information", "list_indexes", "aggregate", "distinct",
         "bulk_write", "estimated_document_count", "drop")


def engines(folder: str):
    out = {}
    try:
        from montydb import MontyClient, set_storage

        set_storage(f"{folder}/monty", storage="sqlite")
        out["montydb 2.5.6 (sqlite)"] = lambda: MontyClient(f"{folder}/monty")["b"]
        out["montydb 2.5.6 (memory)"] = lambda: MontyClient(":memory:")["b"]
    except ImportError:
        pass
    try:
        from mongita import MongitaClientDisk

        out["mongita 1.2.0 (disk)"] = lambda: MongitaClientDisk(f"{folder}/mongita")["b"]
    except ImportError:
        pass
    return out


def measure(make_db, size: int) -> dict:
    db = make_db()
    coll = db[f"devices{size}"]
    figures: dict = {}
    try:
        coll.create_index("key", unique=True)
        figures["unique index"] = "created"
    except Exception as exc:  # noqa: BLE001 - the candidate's own refusal is the figure
        figures["unique index"] = f"{type(exc).__name__}: {exc}"[:80]
    start = time.perf_counter()
    for i in range(size):
        coll.insert_one({"key": f"k{i}", "n": i})
    figures["fill/doc us"] = round((time.perf_counter() - start) / size * 1e6)
    start = time.perf_counter()
    for i in range(200):
        coll.insert_one({"key": f"x{i}", "n": i})
    figures["insert_one ms"] = round((time.perf_counter() - start) / 200 * 1e3, 3)
    start = time.perf_counter()
    for i in range(200):
        coll.find_one({"key": f"k{i * (size // 200)}"})
    figures["find_one ms"] = round((time.perf_counter() - start) / 200 * 1e3, 3)
    try:
        coll.insert_one({"key": "k1"})
        figures["duplicate"] = "ACCEPTED"
    except Exception as exc:  # noqa: BLE001
        figures["duplicate"] = f"refused ({type(exc).__name__})"
    return figures


def _has(coll, name: str) -> bool:
    try:
        return callable(getattr(coll, name))
    except (AttributeError, NotImplementedError):
        return False


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for name, make_db in engines(folder).items():
            coll = make_db()["api"]
            missing = [c for c in CALLS if not _has(coll, c)]
            print(f"{name}: pymongo calls missing: {', '.join(missing) or 'none'}", flush=True)
            for size in SIZES:
                print(f"  {size:>9,} docs: {measure(make_db, size)}", flush=True)


if __name__ == "__main__":
    main()
