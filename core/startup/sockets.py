"""A ws route's own keys, compiled at start-up: its ``handler`` (the controller receiving the socket)
and ``messages`` (what the socket carries, for the docs). ``async def`` hooks run on the process's
event loop (core/http/coroutines.py)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.errors import StartupError
from core.http import coroutines
from core.shared import RegistryError, Shared


@dataclass(frozen=True)
class SocketHandler:
    """The ``handler`` of a ws route: bound hook functions ``fn(self, ws, req[, message])`` or None."""

    name: str
    on_connect: Callable[..., Any] | None
    on_message: Callable[..., Any] | None
    on_disconnect: Callable[..., Any] | None


HOOKS = {"onConnect": "on_connect", "onMessage": "on_message", "onDisconnect": "on_disconnect"}


def socket_handler(spec: Any, where: str, label: str) -> SocketHandler | None:
    """``handler: {"name": id, "version": v, "onConnect": fn, "onMessage": fn, "onDisconnect": fn}``.

    Hooks not named default to the controller's ``on_connect`` / ``on_message`` / ``on_disconnect``
    when it has them; a named one that does not exist stops start-up.
    """
    if spec is None:
        return None
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or set(spec) - {"name", "version", *HOOKS}:
        raise StartupError(f"handler of {label} must be {{'name': <controller>, 'onConnect'|'onMessage'|"
                           "'onDisconnect': <function>}", where)
    name, version = spec["name"], str(spec.get("version", "1.0"))
    try:
        controller = Shared.controllers(name, version)
    except RegistryError:
        raise StartupError(f"Controller {name} {version} (handler of {label}) does not exists", where) from None
    hooks: dict[str, Callable[..., Any] | None] = {}
    for key, default in HOOKS.items():
        wanted = spec.get(key)
        fn = getattr(controller, wanted or default, None)
        if wanted and not callable(fn):
            raise StartupError(f"{name} {version}->{wanted} does not exists (handler {key} of {label})", where)
        if callable(fn) and coroutines.is_async(fn):  # async def hooks run on the process's event loop
            fn = coroutines.wrap(fn, coroutines.configured_timeout(Shared.environment))
        hooks[default] = fn if callable(fn) else None
    if not any(hooks.values()):
        raise StartupError(f"handler {name} of {label} has none of on_connect, on_message, on_disconnect", where)
    return SocketHandler(name=name, **hooks)


def messages_spec(spec: Any, where: str, label: str) -> dict[str, str] | None:
    """A ws route's ``messages``: ``{"send": text, "receive": text}`` (server -> client, client -> server)."""
    if spec is None:
        return None
    if isinstance(spec, str):
        return {"send": spec}
    if not isinstance(spec, dict) or not set(spec) <= {"send", "receive"} or not all(
            isinstance(v, str) for v in spec.values()):
        raise StartupError(f"messages of {label} must be {{'send': text, 'receive': text}}", where)
    return dict(spec)
