"""Hot reload for development (``python server.py local hot``): changed files take effect in place.

A watcher polls the Python files below ``projects/`` and ``init/`` (new, changed and deleted
files). On a change it rebuilds the app from the files (controllers, libs, models, project configs,
crons, route files; routes and the OpenAPI docs with them) keeping the running databases and cache,
and swaps it in for the next request. If the rebuild fails, the error is logged with the file's
name, the registries are put back and the previous app keeps serving until the next change.
Changes to ``config/env/*.py`` need a restart (listeners and clients are bound at start-up).

Subscribers (the cron scheduler) learn about every successful swap: ``subscribe(fn)`` registers
``fn(app, changed)`` with the new Flask app and the list of changed paths; a subscriber restarts
the jobs it runs (``Shared.crons`` holds the new classes). A failing subscriber is logged and
does not undo the swap.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import StartupError
from core.shared import Shared

logger = logging.getLogger("mia.reload")
ROOT = Path(__file__).resolve().parents[3]
_subscribers: list[Callable[[Any, list[Path]], None]] = []


def subscribe(callback: Callable[[Any, list[Path]], None]) -> Callable[[], None]:
    """Call ``callback(app, changed_paths)`` after every successful reload; returns an unsubscribe."""
    _subscribers.append(callback)
    return lambda: _subscribers.remove(callback) if callback in _subscribers else None


class AppSwitch:
    """A WSGI app that forwards to the current app; reloads swap it between two requests.

    New requests wait while a rebuild runs (``ready`` is clear): the registries the running app
    reads at request time (``Shared.libs``, ``Shared.config``) are refilled meanwhile.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.ready = threading.Event()
        self.ready.set()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.ready.wait(30)
        return self.app(environ, start_response)


def _registries() -> list[Any]:
    return [Shared.configs, Shared.lib_registry, Shared.model_registry, Shared.controller_registry,
            Shared.cron_registry]


def _snapshot() -> dict[str, Any]:
    return {"registries": [(r, dict(r._items), dict(r._origin)) for r in _registries()],
            "route_files": Shared.route_files, "init_modules": Shared.init_modules, "services": Shared.services}


def _restore(state: dict[str, Any]) -> None:
    for registry, items, origin in state["registries"]:
        registry._items, registry._origin = items, origin
    Shared.route_files, Shared.init_modules, Shared.services = (state["route_files"], state["init_modules"],
                                                                state["services"])


def rebuild(current: Any, mode: str, root: Path | str | None = None) -> Any:
    """A new app from the files on disk, or StartupError with the old registries restored."""
    from core.app.factory import create_app

    state = _snapshot()
    for registry in _registries():
        registry._items, registry._origin = {}, {}
    Shared.route_files, Shared.init_modules, Shared.services = [], [], []
    try:
        return create_app(mode, root, reuse=current)
    except Exception as exc:
        _restore(state)
        if isinstance(exc, StartupError):
            raise
        raise StartupError(f"reload failed: {type(exc).__name__}: {exc}") from exc


def _scan(folders: list[Path]) -> dict[Path, tuple[int, int]]:
    found: dict[Path, tuple[int, int]] = {}
    for folder in folders:
        if folder.is_dir():
            for path in folder.rglob("*.py"):
                if "__pycache__" not in path.parts:
                    try:
                        stat = path.stat()
                    except OSError:
                        continue
                    found[path] = (stat.st_mtime_ns, stat.st_size)
    return found


class Watcher:
    """Polls the project files and reloads ``switch`` on a change (every ``interval`` seconds)."""

    def __init__(self, switch: AppSwitch, mode: str, root: Path | str | None = None, interval: float = 0.3) -> None:
        self.switch, self.mode, self.root = switch, mode, Path(root or ROOT)
        system_paths = Shared.system.get("path", {})
        self.folders = [self.root / system_paths.get("projects", "projects"),
                        self.root / system_paths.get("init", "init")]
        self.interval = interval
        self.seen = _scan(self.folders)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="mia-hot-reload", daemon=True)

    def start(self) -> None:
        print("mia: hot reload: watching " + ", ".join(str(f) for f in self.folders), flush=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()

    def _run(self) -> None:
        while not self.stopped.wait(self.interval):
            now = _scan(self.folders)
            if now == self.seen:
                continue
            changed = sorted({p for p in now if self.seen.get(p) != now[p]} | (set(self.seen) - set(now)))
            self.seen = now
            self.reload(changed)

    def reload(self, changed: list[Path]) -> bool:
        """Rebuild and swap; False (old app kept) when a file has an error."""
        names = ", ".join(str(p.relative_to(self.root)) if p.is_relative_to(self.root) else str(p) for p in changed)
        self.switch.ready.clear()
        try:
            app = rebuild(self.switch.app, self.mode, self.root)
        except StartupError as exc:
            logger.error("hot reload failed, the previous version keeps serving: %s", exc)
            print(f"mia: hot reload failed, the previous version keeps serving: {exc}", flush=True)
            return False
        else:
            self.switch.app = app
        finally:
            self.switch.ready.set()
        print(f"mia: hot reload: {names} -> {len(app.config['mia.routes'])} routes", flush=True)
        for callback in list(_subscribers):
            try:
                callback(app, changed)
            except Exception:  # noqa: BLE001 - a subscriber must not undo the swap
                logger.exception("hot reload subscriber %r failed", callback)
        return True
