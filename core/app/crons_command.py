"""``server.py <env> crons [suspend|resume|run|stop JOB]`` and ``cron=Job`` beside a running server.

Where the data lives decides the way:

* **MongoDB**: the command acts on the job documents itself; every server applies the change at its
  next manager tick.
* **Embedded store, a server running**: the store lives in that server's process (its data file is
  locked), so the command goes through the server's loopback endpoint ``/_mia/crons``
  (core/app/crons/control.py). ``cron=Job`` runs the job inside that server, never against a separate,
  empty store; ``cron=A,B`` (a scheduler of its own) refuses, saying why.
* **Embedded store, no server answering**: the listing reads the data file (snapshot and journal)
  without locking or writing it; an action opens the store as a server would (and says so clearly
  when another process holds its lock).
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from core.app.crons import modes
from core.app.crons.control import ACTIONS, ADMIN_HEADER, PATH, UnknownJob, format_rows
from core.app.factory import create_app
from core.data.databases import Databases
from core.errors import StartupError
from core.startup.config import load_root_config

USAGE = "usage: python server.py ENV crons [suspend|resume|run|stop JOB]\n"


def endpoint(environment: dict[str, Any]) -> str | None:
    """The control endpoint of this environment's HTTP listener on this machine (None: unix socket)."""
    http = (environment.get("server") or {}).get("http") or {}
    if http.get("socket"):
        return None
    host = str(http.get("host") or "127.0.0.1")
    if host in ("0.0.0.0", "", "*"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{int(http.get('port') or 3000)}{PATH}"


class Remote:
    """The running server's ``/_mia/crons``: standard library HTTP, no proxies (it is on this machine)."""

    def __init__(self, url: str, admin_key: str | None) -> None:
        self.url = url
        self.headers = {ADMIN_HEADER: admin_key} if admin_key else {"X-Mia-Control": "1"}
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def call(self, method: str, suffix: str = "", timeout: float = 10) -> tuple[int, Any]:
        request = urllib.request.Request(self.url + suffix, method=method, headers=self.headers,
                                         data=b"" if method == "POST" else None)
        try:
            with self.opener.open(request, timeout=timeout) as reply:
                return reply.status, json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                return exc.code, json.loads(exc.read() or b"null")
            except ValueError:
                return exc.code, None

    def listing(self) -> dict[str, Any] | None:
        """The server's answer, or None when nothing listens there."""
        try:
            status, body = self.call("GET", timeout=5)
        except (urllib.error.URLError, OSError):
            return None
        if status != 200 or not isinstance(body, dict) or (body.get("response") or {}).get("server") != "mia":
            raise RuntimeError(f"a server answers at {self.url} but not its job control ({status}): call from this "
                               f"machine, or send the admin key (control.adminKey)")
        return body["response"]


def _message(body: Any) -> str:
    if isinstance(body, dict) and body.get("errors"):
        return str(body["errors"][0].get("msg"))
    return str((body or {}).get("response", {}).get("message", body))


def read_only_database(path: Path, name: str) -> Any:
    """The embedded store's data file as a private in-memory copy: no lock taken, nothing written."""
    import mongomock_ng

    from core.data.embedded_snapshot import JSON_OPTIONS, Snapshot
    from core.data.journal import Journal

    client: Any = mongomock_ng.MongoClient(tz_aware=True)
    snapshot = Snapshot(path)
    snapshot.load(client)
    Journal(path, JSON_OPTIONS).replay(client, snapshot.journal_seq)
    return client[name]


def _server(mode: str, root: Path) -> tuple[dict[str, Any], Databases, Remote | None, dict[str, Any] | None, str]:
    """(environment, databases, remote, the running server's listing, why it cannot be used) for an
    embedded store; the listing is None when no server answers."""
    _, environment, _ = load_root_config(root, mode)
    databases = Databases(environment, root)
    if databases.mode() != "embedded":
        return environment, databases, None, None, ""
    url = endpoint(environment)
    remote = Remote(url, (environment.get("control") or {}).get("adminKey")) if url else None
    try:
        answer = remote.listing() if remote else None
    except RuntimeError as exc:
        return environment, databases, remote, None, str(exc)
    if answer is not None and answer.get("mode") != mode:
        return environment, databases, remote, None, (f"the server at {url} runs environment "
                                                      f"'{answer.get('mode')}', not '{mode}'")
    return environment, databases, remote, answer, ""


def crons(mode: str, argv: list[str], root: Path) -> int:
    """The ``crons`` command; the exit code: 0 done, 1 refused, 2 usage or no way to reach the jobs."""
    if argv and (len(argv) != 2 or argv[0] not in ACTIONS):
        print(f"mia: crons takes no arguments or an action and a job\n{USAGE}", end="")
        return 2
    try:
        environment, databases, remote, answer, problem = _server(mode, root)
    except StartupError as exc:
        print(f"mia: {exc}")
        return 2
    if problem and argv:
        print(f"mia: {problem}")
        return 2
    if remote is not None and answer is not None:  # a running embedded server: through its endpoint
        if not argv:
            lines = format_rows(answer.get("jobs") or [])
            lines += [] if answer.get("enabled") else [modes.disabled_message(mode)]
            print("\n".join([*lines, f"(from the running server at {remote.url}, pid {answer.get('pid')})"]))
            return 0
        status, body = remote.call("POST", f"/{argv[1]}/{argv[0]}")
        print(_message(body) if status == 200 else f"mia: {_message(body)}")
        return int((body.get("response") or {}).get("code", 1)) if status == 200 else 2
    embedded = databases.mode() == "embedded"
    path = databases.snapshot_path() if embedded else None
    if embedded and argv and path is None:
        print(f"mia: no server answers at {endpoint(environment)} and the embedded store without "
              "embedded.path lives only inside a running server; start it (or use MongoDB: MIA_MONGO_URL)")
        return 2
    overrides = {"embedded": {"path": None}} if embedded and not argv else None
    app = create_app(mode, root, overrides=overrides, run_init=False)
    try:
        if not argv:
            database = read_only_database(path, databases.database_name()) if path is not None else None
            lines = modes.listing(database=database)
            if problem:
                lines.append(f"({problem}; read from {path})" if path else f"({problem})")
            elif embedded:
                lines.append(f"(no server answers at {endpoint(environment)}; " + (
                    f"read from {path})" if path else "the embedded store without embedded.path lives only "
                                                      "in a server's memory: these are the code's presets)"))
            print("\n".join(lines))
            return 0
        code, message = modes.controller().act(argv[1], argv[0])
        print(message)
        return code
    except UnknownJob as exc:
        print(f"mia: {exc}")
        return 2
    except StartupError as exc:  # the data file's lock: another process has the store, but no endpoint answered
        print(f"mia: {exc}")
        return 2
    finally:
        app.config["mia.databases"].close_all()


def beside_a_server(mode: str, names: list[str], root: Path) -> int | None:
    """``cron=...`` while an embedded server runs: one job runs inside it; several refuse. None: no such server."""
    try:
        _, _, remote, answer, problem = _server(mode, root)
    except StartupError:
        return None  # the normal path reports configuration problems
    if problem:  # something serves there: never run beside it on a separate, empty store
        print(f"mia: {problem}; cron={','.join(names)} cannot share that server's embedded store")
        return 2
    if remote is None or answer is None:
        return None
    if len(names) > 1:
        print(f"mia: a server with the embedded store runs environment '{mode}' (pid {answer.get('pid')}); "
              f"cron={','.join(names)} cannot share its store. Use MongoDB (MIA_MONGO_URL) for a separate "
              f"cron process, or 'crons run JOB' to run a job in that server")
        return 2
    status, body = remote.call("POST", f"/{names[0]}/once", timeout=3600)
    print(_message(body) if status == 200 else f"mia: {_message(body)}")
    return int((body.get("response") or {}).get("code", 1)) if status == 200 else 2
