"""Listeners and the production server, in subprocesses on loopback: HTTP and HTTPS together, the
redirect, slow clients, SIGTERM during a request, transport errors, the health endpoint."""
from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from serving_fixtures import ServerProcess, free_ports, get, open_slow_clients, self_signed, serving_tree, trickle

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("engine, database", [
    ("threaded", None),
    # two granian processes (HTTP, HTTPS); the routes here never reach the (unreachable) MongoDB URL
    ("granian", "mongodb://127.0.0.1:9/none?serverSelectionTimeoutMS=300"),
    ("granian-embedded", None),  # the embedded store lives in one process: served by the threaded server
])
def test_http_and_https_listen_together(tmp_path, engine, database):
    cert, key, context = self_signed(tmp_path)
    http_port, https_port = free_ports(2)
    server = {"http": {"host": "127.0.0.1", "port": http_port},
              "https": {"port": https_port, "cert": str(cert), "key": str(key)}, "engine": engine.split("-")[0],
              "workers": 1}
    tree = serving_tree(tmp_path / "app", {"server": server, "mongoDatabases": {"t": {"url": database}}})
    with ServerProcess(tree.root) as proc:
        proc.wait_ready(f"https://127.0.0.1:{https_port}/t/hello", context)
        proc.wait_ready(f"http://127.0.0.1:{http_port}/t/hello")  # its own process under granian
        assert get(f"http://127.0.0.1:{http_port}/t/hello")[2] == {"status": 200, "response": "hello"}
        assert get(f"https://127.0.0.1:{https_port}/t/hello", context)[2] == {"status": 200, "response": "hello"}
        if database:  # the health endpoint reports the unreachable database, without its URL
            status, _, body = get(f"https://127.0.0.1:{https_port}/_mia/health", context)
            assert status == 503 and body["response"]["database"] == "unavailable" and "mongodb" not in str(body)
        out = proc.output()
    assert f"listening on http://127.0.0.1:{http_port}" in out
    assert f"listening on https://127.0.0.1:{https_port}" in out
    assert ("server: threaded" if engine != "granian" else "server: granian, 1 worker(s)") in out
    if engine == "granian-embedded":
        assert "the embedded store lives in one process" in out


def test_redirect_keeps_path_and_query_on_the_production_server(tmp_path):
    cert, key, context = self_signed(tmp_path)
    http_port, https_port = free_ports(2)
    server = {"http": {"host": "127.0.0.1", "port": http_port, "redir": True},
              "https": {"port": https_port, "options": {"cert": str(cert), "key": str(key)}}, "workers": 1}
    tree = serving_tree(tmp_path / "app", {"server": server})
    with ServerProcess(tree.root) as proc:
        proc.wait_ready(f"https://127.0.0.1:{https_port}/t/hello", context)
        proc.wait_ready(f"http://127.0.0.1:{http_port}/")
        status, headers, body = get(f"http://127.0.0.1:{http_port}/t/hello/a%20b?a=1&b=%20two&a=3",
                                    headers={"Host": f"shop.example.test:{http_port}"})
        assert status == 301
        assert headers["Location"] == f"https://shop.example.test:{https_port}/t/hello/a%20b?a=1&b=%20two&a=3"
        assert body["response"]["location"] == headers["Location"]
        status, _, body = get(f"https://127.0.0.1:{https_port}/t/hello?x=1", context)
        assert (status, body) == (200, {"status": 200, "response": "hello"})
        out = proc.output()
    assert "server: granian" in out and f"redirects to https port {https_port}" in out


@pytest.mark.parametrize("engine", ["granian", "threaded"])
def test_fifty_slow_clients_do_not_stop_a_normal_request(tmp_path, engine):
    (port,) = free_ports(1)
    server = {"http": {"host": "127.0.0.1", "port": port}, "engine": engine, "workers": 1, "threads": 1}
    tree = serving_tree(tmp_path / "app", {"server": server})
    with ServerProcess(tree.root) as proc:
        proc.wait_ready(f"http://127.0.0.1:{port}/t/hello")
        clients = open_slow_clients(port, 50)
        try:
            time.sleep(0.3)
            trickle(clients)
            # One thread, 50 unfinished requests: answered at all means none of them holds the thread (a sync
            # server reading their headers in it would leave this request waiting until the test's timeout).
            status, _, body = get(f"http://127.0.0.1:{port}/t/hello", timeout=30)
            trickle(clients)
        finally:
            for sock in clients:
                sock.close()
    assert (status, body) == (200, {"status": 200, "response": "hello"})


def test_header_timeout_cuts_a_trickling_client(tmp_path):
    (port,) = free_ports(1)
    server = {"http": {"host": "127.0.0.1", "port": port}, "workers": 1, "headerTimeout": 1}
    tree = serving_tree(tmp_path / "app", {"server": server})
    with ServerProcess(tree.root) as proc:
        proc.wait_ready(f"http://127.0.0.1:{port}/t/hello")
        (sock,) = open_slow_clients(port, 1)
        with sock:  # one byte every 0.2 s; cut after about 5 (headerTimeout 1 s), never left to trickle on
            sock.settimeout(5)
            closed, sent = False, 0
            while sent < 100 and not closed:
                time.sleep(0.2)
                sent += 1
                try:
                    sock.sendall(b"a")
                    sock.setblocking(False)
                    try:
                        closed = sock.recv(4096) is not None
                    except BlockingIOError:
                        pass
                    finally:
                        sock.setblocking(True)
                except OSError:
                    closed = True
    assert closed, "a client trickling a header for 100 reads was never cut"


@pytest.mark.parametrize("engine", ["granian", "threaded"])
def test_sigterm_during_a_slow_request_completes_it(tmp_path, engine):
    (port,) = free_ports(1)
    server = {"http": {"host": "127.0.0.1", "port": port}, "engine": engine, "workers": 1, "gracefulTimeout": 20}
    tree = serving_tree(tmp_path / "app", {"server": server})
    with ServerProcess(tree.root) as proc:
        proc.wait_ready(f"http://127.0.0.1:{port}/t/hello")
        answer: list = []
        thread = threading.Thread(target=lambda: answer.append(get(f"http://127.0.0.1:{port}/t/slow?s=2",
                                                                   timeout=15)))
        thread.start()
        time.sleep(0.7)  # the request is running
        code = proc.terminate()
        thread.join(15)
        with pytest.raises(OSError):  # stopped: no new connections
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert answer and answer[0][0] == 200 and answer[0][2] == {"status": 200, "response": "done"}, proc.output()
    assert code == 0, proc.output()


def test_transport_errors_answer_the_json_envelope_where_the_app_sees_them(tmp_path):
    (port,) = free_ports(1)
    tree = serving_tree(tmp_path / "app", {"server": {"http": {"host": "127.0.0.1", "port": port}}})
    with ServerProcess(tree.root) as proc:
        proc.wait_ready(f"http://127.0.0.1:{port}/t/hello")
        for raw, status in ((b"GARBAGE\r\n\r\n", 400), (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
                            (b"GET /t/hello HTTP/1.1\r\nHost: x\r\n" + b"X-a: b\r\n" * 120 + b"\r\n", 431)):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(raw)
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            assert head.split(b" ")[1] == str(status).encode(), data[:200]
            assert b"application/json" in head and body.startswith(b'{"status": %d' % status), data[:300]


def test_health_endpoint_cannot_be_shadowed_and_shows_no_secrets(tmp_path):
    (port,) = free_ports(1)
    tree = serving_tree(tmp_path / "app", {"server": {"http": {"host": "127.0.0.1", "port": port}}})
    tree.write("projects/base/routes/shadow.py", '''
routes = {"prefix": "/_mia", "routes": {"./health": {"list": {"identity": "shadow", "controller": [{"name": "out"}]}}}}
''')
    with ServerProcess(tree.root) as proc:
        proc.wait_ready(f"http://127.0.0.1:{port}/t/hello")
        status, headers, body = get(f"http://127.0.0.1:{port}/_mia/health")
    assert status == 200 and body == {"status": 200, "response": {"database": "embedded", "cache": "local"}}
    assert headers["Cache-Control"] == "no-store"


def test_bad_chunking_answers_400_in_the_envelope(live):
    from urllib.parse import urlsplit

    port = urlsplit(live).port
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /demo/v1/todo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and json.loads(body)["errors"][0]["code"] == "BadRequest", data


@pytest.mark.parametrize("engine", ["granian", "threaded"])
def test_unix_socket_listener(tmp_path, engine):
    import http.client

    path = tmp_path / "mia.sock"
    tree = serving_tree(tmp_path / "app", {"server": {"http": {"socket": str(path)}, "engine": engine, "workers": 1}})

    class UnixConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(5)
            self.sock.connect(str(path))

    with ServerProcess(tree.root) as proc:
        deadline, answer = time.monotonic() + 30, None
        while answer is None and time.monotonic() < deadline:
            try:
                connection = UnixConnection("localhost")
                connection.request("GET", "/t/hello")
                response = connection.getresponse()
                answer = (response.status, json.loads(response.read()))
            except OSError:
                time.sleep(0.2)
        out = proc.output()
    assert answer == (200, {"status": 200, "response": "hello"}), out
    assert f"listening on http+unix://{path}" in out
