"""Controller chains: resolved to bound functions at start-up, run in declared order per request.

A controller function ``fn(self, req, res)`` continues the chain by returning, ends it with
``res.send(...)`` and switches to the error chain by raising. Error-controller functions are
``fn(self, err, req, res)``; they run in order until one sends a response. Either may be
``async def`` (wrapped once here, run on the process's event loop: core/http/coroutines.py), and a
coroutine a sync function returns (a lib's ``async def`` result) is run before the chain goes on.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.errors import MiaError, StartupError
from core.http import coroutines
from core.shared import RegistryError, Shared

# ``del`` is a Python keyword: a controller answers the ``del`` method key with ``del_`` or ``delete``.
FUNCTION_ALIASES = {"del": ("del", "del_", "delete")}


@dataclass
class ChainStep:
    """One controller entry of a route: the instance, the chosen function and its preconditions."""

    name: str
    version: str
    function: str
    controller: Any
    call: Callable[..., Any]
    precondition: dict[str, Any] | None = None
    index: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _pick_function(controller: Any, wanted: str | None, key: str) -> tuple[str, Callable[..., Any]] | None:
    candidates = (wanted,) if wanted else FUNCTION_ALIASES.get(key, (key,))
    for name in candidates:
        fn = getattr(controller, name, None)
        if callable(fn) and not name.startswith("__"):
            return name, fn
    fn = getattr(controller, "all", None)
    return ("all", fn) if callable(fn) else None


def resolve_chain(entries: Any, key: str, where: str, label: str, error: bool) -> list[ChainStep]:
    """Resolve ``controller`` / ``errorController`` entries to bound functions (start-up)."""
    if entries is None:
        return []
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        raise StartupError(f"{'errorController' if error else 'controller'} of {label} must be a list", where)
    steps: list[ChainStep] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise StartupError(f"controller entries of {label} need a 'name': got {entry!r}", where)
        name, version = entry["name"], str(entry.get("version", "1.0"))
        wanted = entry.get("function")
        try:
            controller = Shared.controllers(name, version)
        except RegistryError:
            raise StartupError(f"Controller {name} {version}->{wanted or key} does not exists "
                               f"(used by route method {label})", where) from None
        picked = _pick_function(controller, wanted, key)
        if picked is None:
            raise StartupError(f"{name} {version}->{wanted or key} does not exists but used in routes "
                               f"configuration (route method {label})", where)
        fn_name, fn = picked
        if coroutines.is_async(fn):
            fn = coroutines.wrap(fn, coroutines.configured_timeout(Shared.environment))
        precondition = None
        if not error:
            table = getattr(controller, "preconditions", None) or {}
            lookup = (fn_name, key) if fn_name in FUNCTION_ALIASES.get(key, ()) else (fn_name,)
            precondition = next((table[k] for k in lookup if k in table), None)
        steps.append(ChainStep(name=name, version=version, function=fn_name, controller=controller,
                               call=fn, precondition=precondition, index=index))
    return steps


def run_controllers(steps: list[ChainStep], req: Any, res: Any, validated: list[dict[str, Any]],
                    must_send: bool = True) -> None:
    """Run the chain until a controller sends; a chain that sends nothing is a 404 (unless
    ``must_send`` is off: a WebSocket handshake whose chain passes is upgraded)."""
    mia = req.mia
    for step in steps:
        mia.validated_parameters = validated[step.index]
        result = step.call(req, res)
        if result is not None:  # a sync function that returned a lib's coroutine: run it to its end
            coroutines.settle(result, coroutines.configured_timeout(Shared.environment))
        if res.sent:
            return
    if must_send:
        raise MiaError(404)


def run_error_controllers(steps: list[ChainStep], err: BaseException, req: Any, res: Any) -> BaseException:
    """Give ``err`` to each error controller; return the error the default output should render.

    An error controller that raises replaces the error for the rest of the chain.
    """
    for step in steps:
        try:
            result = step.call(err, req, res)
            if result is not None:
                coroutines.settle(result, coroutines.configured_timeout(Shared.environment))
        except Exception as raised:  # noqa: BLE001 - the new error is rendered instead
            err = raised
        if res.sent:
            break
    return err
