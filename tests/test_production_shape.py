"""The production shape as separate OS processes on one database through pymongo: the MongoDB wire
endpoint (tests/mongo_wire.py) in front of an embedded store, or a real MongoDB when MIA_TEST_MONGO_URL
is set (then no endpoint is started).

Two servers, each ``server.py production`` as README "Production" runs it: granian with two worker
processes, WebSockets on the ``server.websocket`` listener (granian's WSGI workers carry none; the
listener runs in the primary or in its own process). Four cron servers (one per worker) share a
one-instance job; a broadcast published by any worker reaches every socket on both servers; a rolling
restart (SIGTERM) of the server that holds a cron slot releases it at once, and the other server takes
the next tick.

The tests share the two servers (module fixture) and run in file order; the restart comes last.
"""
from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymongo
import pytest
import simple_websocket
from mongo_fixtures import with_database
from production_fixtures import descendants, post_json, production_tree, wait_for
from serving_fixtures import ServerProcess, free_ports, get

pytestmark = pytest.mark.timeout(300)


@dataclass
class Server:
    key: str
    root: Path
    http: int
    ws: int
    proc: ServerProcess
    restarts: list[ServerProcess] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http}{path}"

    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws}/t/live"

    def start(self) -> None:
        self.proc = ServerProcess(self.root)
        self.proc.wait_ready(self.url("/t/pid"), timeout=120)

    def processes(self) -> set[int]:
        return {self.proc.proc.pid} | descendants(self.proc.proc.pid)


@dataclass
class Cluster:
    servers: dict[str, Server]
    db: Any

    def heartbeats(self) -> list[dict[str, Any]]:
        return list(self.db["cronServerHeartbeat"].find({"status": "active"}))

    def cron_pids(self, server: Server) -> set[int]:
        mine = server.processes()
        return {h["pid"] for h in self.heartbeats() if h["pid"] in mine}


@pytest.fixture(scope="module")
def cluster(mongo_server, tmp_path_factory):
    name = f"mia_test_{uuid.uuid4().hex[:12]}"
    url = with_database(mongo_server, name)
    database = {"defaultMongoDatabase": name, "mongoDatabases": {name: {"url": url, "database": name}}}
    client = pymongo.MongoClient(url, serverSelectionTimeoutMS=5000, tz_aware=True)
    servers: dict[str, Server] = {}
    try:
        for key in ("a", "b"):
            http, ws = free_ports(2)
            root = tmp_path_factory.mktemp(f"server-{key}")
            production_tree(root, database, engine="granian", http=http, ws=ws)
            servers[key] = Server(key, root, http, ws, None)  # type: ignore[arg-type]
            servers[key].start()
        yield Cluster(servers, client[name])
    finally:
        for server in servers.values():
            if server.proc is not None:
                server.proc.__exit__(None, None, None)
        client.drop_database(name)
        client.close()


def test_two_servers_with_two_workers_each_serve_and_schedule_on_one_database(cluster):
    wait_for(lambda: all(len(cluster.cron_pids(s)) == 2 for s in cluster.servers.values()), 60,
             "two cron servers (workers) per server")
    assert len(cluster.heartbeats()) == 4
    for server in cluster.servers.values():
        workers = cluster.cron_pids(server)
        answered: set[int] = set()
        for _ in range(60):  # fresh connections until both workers have answered (bounded)
            status, _, body = get(server.url("/t/pid"))
            assert status == 200, body
            answered.add(body["response"]["pid"])
            if answered == workers:
                break
        assert answered == workers, (server.key, answered, workers)


def test_a_one_instance_cron_job_runs_exactly_once_per_tick_across_four_workers(cluster):
    runs = cluster.db["tickRuns"]
    wait_for(lambda: len(runs.distinct("tick")) >= 10, 90, "ten ticks of tickCounter")
    docs = list(runs.find({}))
    per_tick = Counter(d["tick"] for d in docs)
    assert per_tick and set(per_tick.values()) == {1}, [t for t, n in per_tick.items() if n > 1]
    workers = cluster.cron_pids(cluster.servers["a"]) | cluster.cron_pids(cluster.servers["b"])
    assert {d["pid"] for d in docs} <= workers
    job = cluster.db["cronJobExecution"].find_one({"typeName": "tickCounter"})
    assert job["config"]["maxInstanceNumberTotal"] == 1
    assert len(job["runningJobsOverall"]) <= 1


def _messages(client: simple_websocket.Client, wanted: int, timeout: float = 30) -> list[int]:
    """The broadcast numbers this socket receives until ``wanted`` arrived (bounded)."""
    got: list[int] = []
    deadline = time.monotonic() + timeout
    while wanted not in got and time.monotonic() < deadline:
        text = client.receive(timeout=max(0.1, deadline - time.monotonic()))
        if text is None:
            continue
        message = json.loads(text)
        if "n" in message:
            got.append(message["n"])
    return got


def test_a_broadcast_from_any_worker_reaches_the_sockets_of_every_server(cluster):
    clients: list[tuple[str, int, simple_websocket.Client]] = []
    try:
        for server in cluster.servers.values():
            for _ in range(2):
                client = simple_websocket.Client.connect(server.ws_url())
                client.send("hello?")  # the answer proves the socket is registered in its process's hub
                greeting = client.receive(timeout=20)
                assert greeting is not None, (server.key, len(clients), server.proc.output()[-3000:])
                clients.append((server.key, json.loads(greeting)["hello"], client))
            # granian's workers carry no WebSockets: the server's WebSocket listener (another process) holds them
            holders = {pid for key, pid, _ in clients if key == server.key}
            assert holders <= server.processes() and not holders & cluster.cron_pids(server)
        publishers = []
        for n in range(8):
            server = cluster.servers["ab"[n % 2]]
            status, body = post_json(server.url("/t/publish"), {"n": n})
            assert status == 200, body
            publishers.append(body["response"]["pid"])
        status, _ = post_json(cluster.servers["a"].url("/t/publish"), {"n": 8})
        assert status == 200
        for key, holder, client in clients:
            got = _messages(client, 8)
            assert sorted(got) == list(range(9)), (key, holder, got)  # every message, once
        workers = cluster.cron_pids(cluster.servers["a"]) | cluster.cron_pids(cluster.servers["b"])
        assert set(publishers) <= workers and len(set(publishers)) >= 2  # other processes than the sockets'
    finally:
        for _, _, client in clients:
            client.close()


def test_a_rolling_restart_releases_the_cron_slots_and_the_other_server_takes_the_next_tick(cluster):
    long_runs, executions = cluster.db["longRuns"], cluster.db["cronJobExecution"]
    running = wait_for(lambda: long_runs.find_one({"ended": {"$exists": False}}), 60, "longJob to run")
    holder = next(s for s in cluster.servers.values() if running["pid"] in s.processes())
    other = next(s for s in cluster.servers.values() if s is not holder)
    stopped_ids = {h["_id"] for h in cluster.heartbeats() if h["pid"] in holder.processes()}
    assert len(stopped_ids) == 2
    assert holder.proc.terminate(timeout=60) == 0, holder.proc.output()[-3000:]
    stopped_at = time.time()
    # Released by the stop itself, not by the reaper (deadServerInterval is 120 s): no heartbeat, no slot.
    assert long_runs.find_one({"_id": running["_id"]}).get("ended") is not None, f"server {holder.key}"
    assert not [h for h in cluster.heartbeats() if h["_id"] in stopped_ids], f"server {holder.key}"
    for job in executions.find({}):
        holders = {e["serverId"] for e in job.get("runningJobsOverall") or []}
        assert not holders & stopped_ids, (job["typeName"], holders)
        assert not set(job.get("runningJobsByServer") or {}) & stopped_ids
    survivors = cluster.cron_pids(other)
    taken = wait_for(lambda: long_runs.find_one({"_id": {"$ne": running["_id"]}}), 30, "the other server's longJob")
    assert taken["pid"] in survivors
    ticks = cluster.db["tickRuns"]
    wait_for(lambda: ticks.count_documents({"pid": {"$in": list(survivors)}, "_id": {"$gt": _oid(stopped_at)}}) >= 3,
             30, "ticks on the other server")
    after = list(ticks.find({"_id": {"$gt": _oid(stopped_at)}}))
    assert {d["pid"] for d in after} <= survivors
    assert set(Counter(d["tick"] for d in after).values()) == {1}
    holder.start()  # the rolling restart: the server comes back and joins the same database
    wait_for(lambda: len(cluster.cron_pids(holder)) == 2, 60, "the restarted server's workers")
    assert len(cluster.heartbeats()) == 4


def _oid(moment: float) -> Any:
    from datetime import UTC, datetime

    from bson import ObjectId

    return ObjectId.from_datetime(datetime.fromtimestamp(moment + 1, UTC))  # ids count whole seconds
