"""What running through MongoDB's wire protocol (tests/mongo_wire.py, or MIA_TEST_MONGO_URL) found that
the in-process store hid; each was a failing test first.

* A document just over 16 MiB reaches the server (pymongo refuses only past 16 MiB + 16 KiB), which
  answers a write error (code 2 for an insert, as MongoDB's own max_doc_size test shows): it answered 500,
  now the 413 envelope of a too-large document.
* A text index whose weights changed was "modified" by an empty collMod and kept its old weights.
* A socket opened before its process's broadcast reader had caught up missed the messages published
  meanwhile (the reader took its starting point later, on its own thread).
"""
from __future__ import annotations

import threading
import time
from typing import Any

import pymongo
import pytest

from core import BaseModel
from core.data.broadcast import BroadcastBus
from core.data.indexes import ensure_indexes, sync_indexes
from core.shared import Shared

pytestmark = pytest.mark.timeout(120)

BIG_CONTROLLER = '''
from core import Controller, Shared

class Big(Controller):
    identity = "big"
    def store(self, req, res):
        Shared.db().things.insert_one({"blob": "x" * (16 * 1024 * 1024)})  # 16 MiB + the field's overhead
        res.send({"ok": True})
'''


def test_a_document_just_over_16_mib_answers_413_from_the_server_too(tree, shared_db):
    tree.env(shared_db.settings())
    tree.write("projects/base/controllers/big.py", BIG_CONTROLLER)
    tree.write("projects/base/routes/big.py", "routes = {'prefix': '/b', 'routes': {'./x': {'post': "
               "{'controller': [{'name': 'big', 'function': 'store'}]}}}}")
    response = tree.app().test_client().post("/b/x")
    assert response.status_code == 413, response.json
    assert response.json["errors"][0]["code"] == "DocumentTooLarge"
    assert Shared.db().things.count_documents({}) == 0


def _texts(weights: dict[str, int] | None) -> Any:
    class Article(BaseModel):
        identity = "wire-article"
        collection_name = "articles"
        data = {"body": {"type": str}}
        text_indexes = [{"fields": ["body"], "name": "fulltext", **({"weights": weights} if weights else {})}]
    return Article


def test_changed_text_weights_rebuild_the_index_on_the_server(tree, shared_db):
    tree.env(shared_db.settings())
    tree.app()
    ensure_indexes(_texts(None))
    assert sync_indexes(_texts({"body": 5}))["recreated"] == ["fulltext"]
    assert dict(Shared.db().articles.index_information()["fulltext"]["weights"]) == {"body": 5}
    assert sync_indexes(_texts({"body": 5})) == {"dropped": [], "recreated": [], "modified": [], "created": []}


def test_a_reader_started_for_a_new_socket_misses_nothing_published_after(shared_db):
    client = pymongo.MongoClient(shared_db.url, serverSelectionTimeoutMS=5000, tz_aware=True)
    database = client[shared_db.name]
    first_read = threading.Event()

    def slow_first_read() -> Any:  # the reader's first query is slow (a new connection to a far server)
        if threading.current_thread().name == "mia-broadcast-reader" and not first_read.is_set():
            first_read.set()
            time.sleep(0.3)
        return database

    reader = BroadcastBus(slow_first_read, "process-a", {"pollInterval": 0.05})
    publisher = BroadcastBus(lambda: database, "process-b")
    got: list[Any] = []
    try:
        publisher.publish("/t/live", "before", None)  # nobody listened: nobody's here
        reader.start(got.append)  # what the hub does when this process's first socket opens
        publisher.publish("/t/live", "after", None)
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [d["text"] for d in got] == ["after"]
    finally:
        reader.stop()
        client.close()
