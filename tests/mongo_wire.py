"""A MongoDB wire-protocol endpoint in front of the embedded store, for tests only (the product never uses it).

Why: no MongoDB server installs on these machines, yet the production shape (servers with several
worker processes, cron jobs, notification processors, broadcasts, all on one database through pymongo)
has to run in CI. ``python tests/mongo_wire.py`` listens on a free loopback port, prints
``mongo_wire listening on 127.0.0.1:PORT`` and serves until SIGTERM; ``tests/mongo_fixtures.py`` starts
it in its own process and hands out ``mongodb://127.0.0.1:PORT/<db>`` URLs.

The protocol: OP_MSG (body section and document sequences, ``moreToCome`` for unacknowledged writes,
checksums skipped) and OP_QUERY for the legacy handshake (answered with OP_REPLY). OP_COMPRESSED is not
offered (the handshake advertises no compressor), nor authentication or TLS. The commands live in
tests/mongo_wire_commands.py; each runs under one lock, so it is atomic as on a real server.
"""
from __future__ import annotations

import itertools
import signal
import socket
import socketserver
import struct
import sys
import threading
from datetime import UTC
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import bson  # noqa: E402
from bson.codec_options import CodecOptions  # noqa: E402
from mongo_wire_commands import Backend, CommandError  # noqa: E402

OP_REPLY, OP_QUERY, OP_MSG, OP_COMPRESSED = 1, 2004, 2013, 2012
CHECKSUM_PRESENT, MORE_TO_COME = 1, 2
HEADER = struct.Struct("<iiii")
MAX_MESSAGE = 48_000_000
CODEC = CodecOptions(tz_aware=True, tzinfo=UTC)
_request_ids = itertools.count(1)


def _read_exactly(sock: socket.socket, count: int) -> bytes | None:
    chunks, left = [], count
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _cstring(data: bytes, offset: int) -> tuple[str, int]:
    end = data.index(b"\x00", offset)
    return data[offset:end].decode(), end + 1


def parse_msg(payload: bytes) -> tuple[int, dict[str, Any]]:
    """OP_MSG: (flags, the command document with every document sequence merged in under its name)."""
    flags = struct.unpack_from("<I", payload)[0]
    end = len(payload) - (4 if flags & CHECKSUM_PRESENT else 0)
    offset, body, sequences = 4, None, {}
    while offset < end:
        kind = payload[offset]
        offset += 1
        if kind == 0:
            size = struct.unpack_from("<i", payload, offset)[0]
            body = bson.decode(payload[offset:offset + size], CODEC)
            offset += size
        elif kind == 1:
            size = struct.unpack_from("<i", payload, offset)[0]
            stop = offset + size
            name, cursor = _cstring(payload, offset + 4)
            sequences[name] = bson.decode_all(payload[cursor:stop], CODEC)
            offset = stop
        else:
            raise ValueError(f"unknown OP_MSG section kind {kind}")
    if body is None:
        raise ValueError("OP_MSG without a body section")
    body.update(sequences)
    return flags, body


def parse_query(payload: bytes) -> tuple[str, dict[str, Any]]:
    """OP_QUERY: (full collection name, the query document with a ``$query`` wrapper removed)."""
    offset = 4
    namespace, offset = _cstring(payload, offset)
    offset += 8  # numberToSkip, numberToReturn
    size = struct.unpack_from("<i", payload, offset)[0]
    query = bson.decode(payload[offset:offset + size], CODEC)
    if "$query" in query:
        query = dict(query["$query"])
    return namespace, query


def frame(opcode: int, response_to: int, payload: bytes) -> bytes:
    return HEADER.pack(16 + len(payload), next(_request_ids), response_to, opcode) + payload


def msg_reply(response_to: int, document: dict[str, Any]) -> bytes:
    return frame(OP_MSG, response_to, struct.pack("<I", 0) + b"\x00" + bson.encode(document, codec_options=CODEC))


def query_reply(response_to: int, document: dict[str, Any]) -> bytes:
    head = struct.pack("<iqii", 8, 0, 0, 1)  # AwaitCapable, no cursor, from 0, one document
    return frame(OP_REPLY, response_to, head + bson.encode(document, codec_options=CODEC))


class Connection(socketserver.BaseRequestHandler):
    """One client connection: read a message, answer it, until the client hangs up."""

    server: Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        backend = self.server.backend
        while True:
            try:
                header = _read_exactly(sock, 16)
                if header is None:
                    return
                length, request_id, _response_to, opcode = HEADER.unpack(header)
                if not 16 < length <= MAX_MESSAGE:
                    return
                payload = _read_exactly(sock, length - 16)
                if payload is None:
                    return
                if opcode == OP_MSG:
                    flags, body = parse_msg(payload)
                    answer = backend.run(body)
                    if not flags & MORE_TO_COME:
                        sock.sendall(msg_reply(request_id, answer))
                elif opcode == OP_QUERY:
                    namespace, query = parse_query(payload)
                    if not namespace.endswith(".$cmd"):
                        answer = CommandError(238, "OP_QUERY is only answered for commands").reply()
                    else:
                        query.setdefault("$db", namespace.split(".", 1)[0])
                        answer = backend.run(query)
                    sock.sendall(query_reply(request_id, answer))
                else:  # OP_COMPRESSED was never offered; legacy writes do not exist since MongoDB 6
                    return
            except (ConnectionError, OSError):
                return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int]) -> None:
        self.backend = Backend()
        super().__init__(address, Connection)


def main(argv: list[str]) -> int:
    host = "127.0.0.1"
    port = int(argv[0]) if argv else 0
    server = Server((host, port))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    print(f"mongo_wire listening on {host}:{server.server_address[1]}", flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
