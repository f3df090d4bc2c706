"""Broadcasts across processes and servers: the MongoDB bus of core/data/broadcast.py.

``embedded``: the embedded store lives in one process, so the two parties are two hubs with their own
ids on one database inside this process: the app's hub (serving a real client on a live server) and a
second hub on the same database. ``mongodb`` (only when MIA_TEST_MONGO_URL is set): two real server
processes on one database; a client of one receives what an HTTP request to the other caused.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time

import pytest
import simple_websocket
from db_fixtures import BACKENDS, TEST_URL
from realtime_kit import KEY_FEED, STATIC_KEY, post_json, ws_url

from conftest import ROOT, serve_live
from core.app.factory import create_app
from core.data.broadcast import MESSAGES, BroadcastBus
from core.http.wshub import Hub
from core.shared import Shared

SERVER = """
import json, logging, sys
sys.path.insert(0, sys.argv[1])
logging.getLogger("werkzeug").setLevel(logging.WARNING)
from werkzeug.serving import make_server
from core.app.factory import create_app
app = create_app("test", sys.argv[1], overrides=json.loads(sys.argv[2]))
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


def receive_json(ws, timeout=1.0):
    message = ws.receive(timeout=timeout)
    assert message is not None, f"nothing arrived within {timeout} s"
    return json.loads(message)


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


def test_broadcast_reaches_the_clients_of_another_server(backend, tmp_path):
    if backend == "embedded":
        two_hubs_on_one_embedded_database()
    else:
        two_server_processes_on_one_mongodb(tmp_path)


def two_hubs_on_one_embedded_database():
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_app("test", ROOT)
    hub_a = app.config["mia.hub"]
    hub_b = Hub(set(hub_a.paths))
    hub_b.bus = BroadcastBus(lambda: Shared.db(), hub_b.id)  # same database, its own id: "another server"
    assert hub_a.id != hub_b.id
    try:
        with serve_live(app) as url:
            client = simple_websocket.Client.connect(ws_url(url, KEY_FEED), headers={"key": STATIC_KEY})
            receive_json(client)  # welcome
            hub_b.bus.catch_up()
            hub_b.broadcast(KEY_FEED, {"from": "server B"})  # B has no sockets: only the bus can carry it
            assert receive_json(client, timeout=1.0) == {"from": "server B"}
            stored = Shared.db()[MESSAGES].find_one({"origin": hub_b.id})
            assert stored["channel"] == KEY_FEED and json.loads(stored["text"]) == {"from": "server B"}

            status, created = post_json(f"{url}/demo/v1/todo", {"name": "Seen by B"})  # an HTTP request on A
            assert status == 200
            assert receive_json(client)["todo"]["name"] == "Seen by B"  # A's own client, in-process
            seen_by_b = [d for d in hub_b.bus.poll() if d["channel"] == KEY_FEED]
            assert [d["origin"] for d in seen_by_b] == [hub_a.id]
            assert json.loads(seen_by_b[0]["text"])["todo"]["_id"] == created["response"]["id"]
            assert hub_b.bus.poll() == []  # each message once
            assert [d for d in hub_a.bus.poll() if d["origin"] == hub_a.id] == []  # never its own again
            client.close()
    finally:
        hub_b.close_all()
        hub_a.close_all()
        app.config["mia.databases"].close_all()


def two_server_processes_on_one_mongodb(tmp_path):
    import uuid

    import pymongo

    name = f"mia_test_{uuid.uuid4().hex[:12]}"
    overrides = {"defaultMongoDatabase": name, "mongoDatabases": {name: {"url": TEST_URL, "database": name}}}
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIA_")}
    processes = []
    try:
        ports = []
        for _ in range(2):  # one after the other: the demo init seeds the static-key device once
            proc = subprocess.Popen([sys.executable, "-c", SERVER, str(ROOT), json.dumps(overrides)],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
            processes.append(proc)
            ports.append(int(proc.stdout.readline().strip()))
        server_a, server_b = (f"http://127.0.0.1:{port}" for port in ports)
        clients = [simple_websocket.Client.connect(ws_url(server_b, KEY_FEED), headers={"key": STATIC_KEY})
                   for _ in range(2)]
        for client in clients:
            receive_json(client, timeout=5)  # welcome
        time.sleep(0.3)  # the poller of B starts with its first socket
        status, created = post_json(f"{server_a}/demo/v1/todo", {"name": "Across processes"})
        assert status == 200
        for client in clients:
            event = receive_json(client, timeout=1.0)
            assert event["event"] == "created" and event["todo"]["_id"] == created["response"]["id"]
            client.close()
    finally:
        for proc in processes:
            proc.terminate()
            proc.wait(timeout=10)
        mongo = pymongo.MongoClient(TEST_URL, serverSelectionTimeoutMS=3000)
        mongo.drop_database(name)
        mongo.close()
