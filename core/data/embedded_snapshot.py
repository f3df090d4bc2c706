"""Snapshots of the embedded store, so its data survives a restart, loaded fast at a real size.

Why: the embedded default (mongomock-ng) lives in memory. With ``embedded: {"path": ...}`` in the
environment config, core.data.databases loads the snapshot when it creates the embedded client and
saves it on clean shutdown and whenever the journal (core.data.journal) is compacted into it.

Two formats, chosen by the file name: a path ending in ``.json`` is Extended JSON (``bson.json_util``,
relaxed: readable, for small development data); any other (``.bson``, ``.db``) is a stream of BSON
records: a header naming every collection (indexes, document count), then each collection's documents
in records of 5,000. BSON loads many times faster (C decoding, no object hooks): it is what the
start-up figures of bench/embedded.py are for. Either is read whatever the name.

Loading fills each collection's store directly (no insert path: the documents come from this store
and were checked when written; a BSON file's documents are kept as the very bytes they are in the
file, core.data.embedded_documents), then builds the unique indexes in one pass
(core.data.embedded_index), which refuses two documents sharing a unique key with MongoDB's
multikey rules. Progress lines are logged every 250,000 documents. The garbage collector is paused
while loading and what was loaded is frozen out of its generations (``gc.freeze``).

The file is written atomically (temp file in the same folder, fsync, ``os.replace``); a save is
skipped with a warning when another process replaced the file since this one loaded it.
"""
from __future__ import annotations

import ctypes
import datetime as _dt
import gc
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bson
from bson import json_util
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

from core.data import embedded_index
from core.data.embedded_documents import Documents, decode, encode, inner, inner_id, pack, split_record
from core.errors import StartupError

log = logging.getLogger("mia.db")

FORMAT = "mia-embedded-snapshot/1"
BSON_FORMAT = "mia-embedded-snapshot/2"
JSON_OPTIONS = json_util.RELAXED_JSON_OPTIONS.with_options(tz_aware=True, tzinfo=_dt.UTC)
_RAW: CodecOptions[Any] = CodecOptions(document_class=RawBSONDocument)
_STORED: CodecOptions[Any] = CodecOptions(tz_aware=False)  # the store keeps naive UTC datetimes, as mongomock does
_INDEX_OPTIONS = ("unique", "sparse", "expireAfterSeconds", "partialFilterExpression")
PROGRESS_EVERY = 250_000
BATCH = 5_000  # documents per BSON record of a snapshot


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


def _index_list(client: Any, db_name: str, coll_name: str) -> list[dict[str, Any]]:
    collection = client[db_name][coll_name]
    return [{"name": name, "key": [list(k) for k in info["key"]], **{k: info[k] for k in _INDEX_OPTIONS if k in info}}
            for name, info in collection.index_information().items() if name != "_id_"]


class Snapshot:
    """Load/save one embedded client's whole content from/to ``path``."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._seen: tuple[int, int] | None = None
        self.journal_seq = 0  # the last journal entry this snapshot contains

    @property
    def as_json(self) -> bool:
        return self.path.suffix.lower() == ".json"

    # -- load ------------------------------------------------------------------------------------
    def load(self, client: Any) -> int:
        """Fill ``client`` from the file (if there is one); returns the number of documents."""
        self._seen = _stat(self.path)
        if self._seen is None:
            return 0
        started, enabled = time.monotonic(), gc.isenabled()
        gc.disable()
        try:
            with self.path.open("rb") as handle:
                is_bson = handle.read(12)[4:12] == b"\x02format\x00"  # the header's first field
                handle.seek(0)
                count = self._load_bson(client, handle) if is_bson else self._load_json(client, handle)
        except (OSError, ValueError, KeyError, TypeError, StopIteration, bson.errors.BSONError) as exc:
            raise StartupError(f"embedded store snapshot is unreadable ({exc}); restore it from a backup or "
                               "delete it (and its journal) to start empty", str(self.path)) from exc
        finally:
            if enabled:
                gc.enable()
        gc.freeze()  # the loaded documents live as long as the process: keep them out of every GC pass
        _trim()
        log.info("embedded store: %d document(s) loaded from %s in %.1f s", count, self.path,
                 time.monotonic() - started)
        return count

    def _load_json(self, client: Any, handle: Any) -> int:
        data = json_util.loads(handle.read().decode("utf-8"), json_options=JSON_OPTIONS)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise StartupError(f"not an embedded store snapshot (expected format {FORMAT})", str(self.path))
        self.journal_seq = int(data.get("journalSeq") or 0)
        count = 0
        for db_name, collections in (data.get("databases") or {}).items():
            for coll_name, content in collections.items():
                documents = [_stored(d) for d in content.get("documents") or []]
                count += self._fill(client, db_name, coll_name, content.get("indexes") or [], iter([documents]),
                                    len(documents))
        return count

    def _load_bson(self, client: Any, handle: Any) -> int:
        records = bson.decode_file_iter(handle, _RAW)  # each record as its bytes, not decoded
        header = bson.decode(next(records).raw, _STORED)
        if not isinstance(header, dict) or header.get("format") != BSON_FORMAT:
            raise StartupError(f"not an embedded store snapshot (expected format {BSON_FORMAT})", str(self.path))
        self.journal_seq = int(header.get("journalSeq") or 0)
        count = 0
        # each record's documents sliced from it: the store keeps those bytes as they are
        batches = (list(split_record(record.raw)) for record in records)
        for part in header.get("collections") or []:
            count += self._fill(client, part["db"], part["coll"], part.get("indexes") or [], batches,
                                int(part["count"]))
        return count

    def _fill(self, client: Any, db_name: str, coll_name: str, indexes: list[dict[str, Any]], batches: Any,
              count: int) -> int:
        """Put ``count`` documents from ``batches`` into the collection's store, then build its indexes.

        A batch holds ``(inner key, kept bytes)`` pairs sliced from a BSON record, a document's whole
        BSON, or decoded documents (Extended JSON)."""
        database = client[db_name]
        if coll_name not in database.list_collection_names():
            database.create_collection(coll_name)
        store = database[coll_name]._store
        if not isinstance(store._documents, Documents):
            store._documents = Documents(store._documents.items())
        target, key_of, loaded, reported = store._documents.raw, embedded_index.store_key, 0, 0
        while loaded < count:
            batch = next(batches)
            for document in batch:
                if type(document) is tuple:  # (inner key, kept bytes) of an ObjectId id
                    target[document[0]] = document[1]
                elif type(document) is bytes:  # whole BSON
                    key = inner_id(document, key_of)
                    target[key] = pack(key, decode(document)) if type(key) is bytes else document
                else:  # decoded (Extended JSON)
                    key = inner(key_of(document["_id"]))
                    target[key] = pack(key, document)
            loaded += len(batch)
            if loaded - reported >= PROGRESS_EVERY:
                reported = loaded
                log.info("embedded store: loading %s.%s: %d of %d documents", db_name, coll_name, loaded, count)
        for index in indexes:
            spec: dict[str, Any] = {"key": [tuple(k) for k in index["key"]]}
            spec.update((k, index[k]) for k in _INDEX_OPTIONS if k in index)
            store.create_index(index["name"], spec)
        for index in indexes:  # every unique index built in one pass over the documents
            clash = embedded_index.duplicates(store, index["name"])
            if clash is not None:
                raise StartupError(
                    f"embedded store: {db_name}.{coll_name} breaks its unique index {index['name']}: documents "
                    f"{clash[1][:2]} share the key {clash[0]!r}. Fix the data with the server on this snapshot "
                    "after dropping the index (or from a backup), then start again", str(self.path))
        return count

    # -- save ------------------------------------------------------------------------------------
    def dump(self, client: Any, journal_seq: int = 0) -> dict[str, Any]:
        """The Extended-JSON snapshot document of ``client``'s content (the caller holds the write lock)."""
        databases: dict[str, Any] = {}
        for db_name in client.list_database_names():
            collections: dict[str, Any] = {}
            for coll_name in sorted(client[db_name].list_collection_names()):
                collections[coll_name] = {"indexes": _index_list(client, db_name, coll_name),
                                          "documents": list(client[db_name][coll_name].find({}))}
            databases[db_name] = collections
        return {"format": FORMAT, "saved": _dt.datetime.now(_dt.UTC), "databases": databases,
                "journalSeq": journal_seq}

    def _write_bson(self, client: Any, handle: Any, journal_seq: int) -> None:
        parts, stores = [], []
        for db_name in client.list_database_names():
            for coll_name in sorted(client[db_name].list_collection_names()):
                store = client[db_name][coll_name]._store
                store._remove_expired_documents()
                parts.append({"db": db_name, "coll": coll_name, "indexes": _index_list(client, db_name, coll_name),
                              "count": len(store._documents)})
                stores.append(store)
        handle.write(bson.encode({"format": BSON_FORMAT, "saved": _dt.datetime.now(_dt.UTC),
                                  "journalSeq": journal_seq, "collections": parts}))
        for store in stores:  # the stored bytes, in records of BATCH documents: no decoding, no encoding
            documents = store._documents
            raws = documents.whole() if isinstance(documents, Documents) else \
                [encode(document) for document in documents.values()]
            for start in range(0, len(raws), BATCH):
                handle.write(_record(raws[start:start + BATCH]))

    def save(self, client: Any, journal_seq: int = 0) -> bool:
        """Write atomically (the caller holds the write lock); False (and a warning) if another
        process replaced the file meanwhile. An OSError (disk full) leaves the old file as it was."""
        current = _stat(self.path)
        if current != self._seen:
            log.warning("embedded store: %s was changed by another process since it was loaded; "
                        "not overwriting it", self.path)
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                if self.as_json:
                    handle.write(json_util.dumps(self.dump(client, journal_seq), json_options=JSON_OPTIONS).encode())
                else:
                    self._write_bson(client, handle, journal_seq)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        self._seen = _stat(self.path)
        self.journal_seq = journal_seq
        log.info("embedded store: saved to %s", self.path)
        return True


def _trim() -> None:
    """Give the C heap's free pages back to the system after a load (glibc's ``malloc_trim``).

    Why: reading records and building indexes leaves freed memory between what stays; without this
    a million loaded todos kept about 40 MB of it in the process's RSS. Elsewhere than glibc: nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # musl (Alpine) has no malloc_trim
        pass


def _record(raws: list[bytes]) -> bytes:
    """The BSON of ``{"d": [documents]}`` from the documents' own bytes (what ``bson.encode`` would write)."""
    array = b"".join(b"\x03%d\x00%s" % (i, raw) for i, raw in enumerate(raws))
    array = (len(array) + 5).to_bytes(4, "little") + array + b"\x00"
    return (len(array) + 8).to_bytes(4, "little") + b"\x04d\x00" + array + b"\x00"


def _stored(document: Any) -> Any:
    """A document decoded from Extended JSON in the form the store keeps (naive UTC datetimes, lists)."""
    from mongomock_ng.helpers import patch_datetime_awareness_in_document

    return patch_datetime_awareness_in_document(document)
