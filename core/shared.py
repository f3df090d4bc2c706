"""The registry every project module reaches the framework through.

``Shared`` holds what the loader collected (configs, libs, models, controllers, crons, route
files) keyed by identity and version, plus runtime state (run mode, arguments, database and cache
handles). All of it lives in one :class:`AppState` per app: ``Shared.x`` answers from the state
bound in the current context (a request of that app, a cron run, the app's build), else from the
pushed Flask app context's app, else from the most recently built app. It imports nothing that
registers into it, so any module may import it without creating an import cycle. The base classes
project code subclasses (Controller, Lib, Config) live here too: they are what the registry holds,
and they import nothing either.
"""
from __future__ import annotations

import contextlib
import contextvars
import difflib
import functools
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Generic, TypeVar

log = logging.getLogger("mia.shared")
T = TypeVar("T")
DEFAULT_VERSION = "1.0"
TRUTHY = frozenset({"true", "1", "y", "yes", "on"})


def flag(value: Any, default: bool = False) -> bool:
    """mia's reading of an on/off setting: unset -> ``default``; strings true/1/y/yes/on (any case)
    are on, other strings off; anything else by its truth value."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in TRUTHY
    return bool(value)


_ROOT_CONFIG_KEYS = ("system", "environment", "translations")


class RegistryError(KeyError):
    """A lookup for an identity/version that nobody registered."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want the plain sentence.
        return str(self.args[0]) if self.args else "unknown identity"


class _Registry:
    """identity -> version -> object, with mia's implicit version "1.0"."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, dict[str, Any]] = {}
        self._origin: dict[tuple[str, str], str] = {}

    def add(self, identity: str, version: str, obj: Any, origin: str = "") -> str | None:
        """Register ``obj``; return the origin of an earlier registration if this is a duplicate."""
        key = (identity, version)
        if key in self._origin:
            return self._origin[key] or "<unknown file>"
        self._items.setdefault(identity, {})[version] = obj
        self._origin[key] = origin
        return None

    def get(self, identity: str, version: str | None = None) -> Any:
        versions = self._items.get(identity)
        if not versions:
            raise RegistryError(f"{self.kind} '{identity}' is not registered")
        if version is None:
            version = DEFAULT_VERSION if DEFAULT_VERSION in versions else next(iter(versions))
        try:
            return versions[str(version)]
        except KeyError:
            raise RegistryError(f"{self.kind} '{identity}' has no version '{version}'") from None

    def has(self, identity: str, version: str | None = None) -> bool:
        versions = self._items.get(identity, {})
        return bool(versions) if version is None else str(version) in versions

    def origin(self, identity: str, version: str) -> str:
        return self._origin.get((identity, str(version)), "")

    def items(self) -> list[tuple[str, str, Any]]:
        return [(i, v, o) for i, vs in self._items.items() for v, o in vs.items()]

    def clear(self) -> None:
        self._items.clear()
        self._origin.clear()


@functools.lru_cache(maxsize=1024)
def _dotted_path(path: str) -> tuple[str, ...]:
    """``"a.b.c"`` -> ``("a", "b", "c")``, once per path: project code asks for the same keys per request."""
    return tuple(path.split("."))


def _walk(obj: Any, parts: Any) -> Any:
    for part in parts:
        if obj is None:
            return None
        if isinstance(obj, dict):
            obj = obj.get(part)
        else:
            obj = getattr(obj, part, None)
    return obj


class AppState:
    """One app's registry and runtime handles: what ``Shared`` answers from while that app is current.

    Every ``create_app()`` builds a fresh one, so two apps in one process never share registries,
    databases or caches (a Flask app factory's promise)."""

    def __init__(self) -> None:
        self.mode: str = "local"
        self.runtime_args: dict[str, Any] = {}
        self.system: dict[str, Any] = {}
        self.environment: dict[str, Any] = {}
        self.translations: dict[str, Any] = {}
        self.configs = _Registry("config")
        self.lib_registry = _Registry("lib")
        self.model_registry = _Registry("model")
        self.controller_registry = _Registry("controller")
        self.cron_registry = _Registry("cron")
        self.route_files: list[Any] = []
        self.init_modules: list[Any] = []
        self.services: list[Any] = []  # the compiled route methods (mia.js's registeredServices)
        self.disabled: dict[tuple[str, str], str] = {}  # (kind, identity) -> file of a class with ``disabled = True``
        self.warnings: list[str] = []  # start-up warnings (the summary prints them; ``routes`` too)
        # Handles filled lazily by core.data.databases / core.data.cache (never imported here).
        self._handles: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._providers: dict[str, Callable[..., Any]] = {}
        self.warned: set[str] = set()  # unknown config identities already warned about


_bound: contextvars.ContextVar[AppState | None] = contextvars.ContextVar("mia_app_state", default=None)
_latest: list[AppState] = [AppState()]  # the most recently built app's state: the fallback


def current_state() -> AppState:
    """The state ``Shared`` answers from: the one bound in this context (a request of an app, a cron
    run, a build), else the app whose Flask app context is pushed, else the most recently built one."""
    state = _bound.get()
    if state is not None:
        return state
    flask_globals = sys.modules.get("flask.globals")  # no import: without Flask there is no app context
    if flask_globals is not None:
        ctx = flask_globals._cv_app.get(None)
        if ctx is not None:
            found = ctx.app.extensions.get("mia")
            if isinstance(found, AppState):
                return found
    return _latest[0]


def activate(state: AppState) -> None:
    """Make ``state`` the fallback outside any request (``create_app`` calls it for each new app)."""
    _latest[0] = state


def enter(state: AppState) -> contextvars.Token[AppState | None]:
    """Bind ``state`` to this context until :func:`leave` (the per-request form of :func:`bound`)."""
    return _bound.set(state)


def leave(token: contextvars.Token[AppState | None]) -> None:
    _bound.reset(token)


@contextlib.contextmanager
def bound(state: AppState) -> Iterator[AppState]:
    """``with bound(state):`` every ``Shared`` lookup in this context (thread, request) answers from ``state``."""
    token = _bound.set(state)
    try:
        yield state
    finally:
        _bound.reset(token)


class _StateAttr(Generic[T]):
    """A ``Shared`` class attribute that reads and writes the current :class:`AppState`'s."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, objtype: Any = None) -> T:
        state = _bound.get()  # the request path's case, inlined: every Shared lookup passes here
        return (state if state is not None else current_state()).__dict__[self.name]

    def __set__(self, obj: Any, value: T) -> None:
        setattr(current_state(), self.name, value)


class _SharedType(type):
    """``Shared.environment``, ``Shared.configs``, ...: the current app's (see :func:`current_state`)."""

    mode: _StateAttr[str] = _StateAttr()
    runtime_args: _StateAttr[dict[str, Any]] = _StateAttr()
    system: _StateAttr[dict[str, Any]] = _StateAttr()
    environment: _StateAttr[dict[str, Any]] = _StateAttr()
    translations: _StateAttr[dict[str, Any]] = _StateAttr()
    configs: _StateAttr[_Registry] = _StateAttr()
    lib_registry: _StateAttr[_Registry] = _StateAttr()
    model_registry: _StateAttr[_Registry] = _StateAttr()
    controller_registry: _StateAttr[_Registry] = _StateAttr()
    cron_registry: _StateAttr[_Registry] = _StateAttr()
    route_files: _StateAttr[list[Any]] = _StateAttr()
    init_modules: _StateAttr[list[Any]] = _StateAttr()
    services: _StateAttr[list[Any]] = _StateAttr()
    disabled: _StateAttr[dict[tuple[str, str], str]] = _StateAttr()
    warnings: _StateAttr[list[str]] = _StateAttr()
    _handles: _StateAttr[dict[str, Any]] = _StateAttr()
    _lock: _StateAttr[threading.Lock] = _StateAttr()
    _providers: _StateAttr[dict[str, Callable[..., Any]]] = _StateAttr()


class Shared(metaclass=_SharedType):
    """The registry project code reads; never instantiated. Every attribute is the current app's."""

    # -- lookups used by project code ------------------------------------------------------
    @classmethod
    def config(cls, path: str | list[str]) -> Any:
        """``Shared.config("environment.server.http.port")`` or ``Shared.config("demo-config.title")``.

        An unknown identity answers None (mia.js) and logs one warning naming the closest ones."""
        if type(path) is str:
            parts: Any = _dotted_path(path)
        else:
            parts = list(path) if isinstance(path, list) else str(path).split(".")
        head, rest = parts[0], parts[1:]
        state = current_state()
        if head == "environment":
            return _walk(state.environment, rest)
        if head == "system":
            return _walk(state.system, rest)
        if head == "translations":
            return _walk(state.translations, rest)
        if not state.configs.has(head):
            if head not in state.warned:
                state.warned.add(head)
                known = sorted({identity for identity, _, _ in state.configs.items()})
                close = difflib.get_close_matches(head, known, n=3, cutoff=0.6)
                log.warning("Shared.config: no config '%s' is registered (answering None)%s", head,
                            f"; closest: {', '.join(repr(c) for c in close)}" if close else "")
            return None
        return _walk(state.configs.get(head), rest)

    @classmethod
    def libs(cls, identity: str, version: str | None = None) -> Any:
        """A lib instance, or with ``"<id>.<name>"`` one of its attributes (mia's dotted form)."""
        return cls._dotted(cls.lib_registry, identity, version)

    @classmethod
    def models(cls, identity: str, version: str | None = None) -> Any:
        return cls.model_registry.get(identity, version)

    @classmethod
    def controllers(cls, identity: str, version: str | None = None) -> Any:
        return cls.controller_registry.get(identity, version)

    @classmethod
    def crons(cls, identity: str) -> Any:
        return cls.cron_registry.get(identity)

    @classmethod
    def _dotted(cls, registry: _Registry, identity: str, version: str | None) -> Any:
        if registry.has(identity):
            return registry.get(identity, version)
        head, _, rest = identity.partition(".")
        obj = registry.get(head, version)
        return _walk(obj, rest.split(".")) if rest else obj

    # -- runtime handles ----------------------------------------------------------------------
    @classmethod
    def provide(cls, name: str, factory: Callable[..., Any]) -> None:
        """Let core.data.databases / core.data.cache announce how a handle is made (keeps this module import-free)."""
        cls._providers[name] = factory

    @classmethod
    def handle(cls, name: str, *args: Any) -> Any:
        key = name if not args else f"{name}:{args}"
        state = current_state()
        handles = state._handles
        if key not in handles:
            with state._lock:
                if key not in handles:
                    handles[key] = state._providers[name](*args)
        return handles[key]

    @classmethod
    def db(cls, name: str | None = None) -> Any:
        """The pymongo ``Database`` called ``name`` (default: ``defaultMongoDatabase``)."""
        return cls.handle("db", name)

    @classmethod
    def ws(cls, path: str) -> Any:
        """The channel of a ``ws`` route: ``Shared.ws("/demo/v1/live/todos").broadcast({...}, to={...})``.

        The hub is registered by the app factory (``Shared.provide("ws", ...)``); this module never
        imports it. Raises KeyError for a path no ``ws`` route declares.
        """
        return cls.handle("ws").channel(path)

    @classmethod
    def runtime_values(cls, name: str) -> list[str]:
        """mia's ``getRuntimeArgumentsValues``: ``cron=A, B`` -> ``["A", "B"]``."""
        value = cls.runtime_args.get(name)
        if not isinstance(value, str):
            return []
        return "".join(value.split()).split(",")

    @classmethod
    def reset(cls) -> None:
        """Forget everything of the current app's state and close its handles (tests)."""
        state = current_state()
        for registry in (state.configs, state.lib_registry, state.model_registry,
                         state.controller_registry, state.cron_registry):
            registry.clear()
        state.route_files, state.init_modules, state.services = [], [], []
        state.disabled, state.warnings = {}, []
        state.warned.clear()
        # Looked up on the type: a cached pymongo Database answers any attribute with a Collection.
        for closer in [h for h in state._handles.values() if callable(getattr(type(h), "close_all", None))]:
            closer.close_all()
        state._handles = {}


# ------------------------------------------------------------------ what project code subclasses
class Identified:
    """Something the loader registers by identity and version."""

    identity: ClassVar[str | None] = None
    version: ClassVar[str] = "1.0"
    disabled: ClassVar[bool] = False
    # Filled by the loader: the file the class came from and its project folder name.
    source_file: ClassVar[str] = ""
    project: ClassVar[str] = ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.identity}@{self.version}>"


class Controller(Identified):
    """A step in a route's chain.

    A controller function is ``def fn(self, req, res)``; an error-controller function is
    ``def fn(self, err, req, res)``. ``preconditions`` maps a function name (or a route method key,
    or ``"all"``) to ``{"parameters": {section: rules}, "responses": {status: codes}}``.
    """

    group: ClassVar[str | None] = None
    preconditions: ClassVar[dict[str, Any]] = {}


class Lib(Identified):
    """Reusable functions shared through ``Shared.libs(identity)``."""


class Config(Identified):
    """Project configuration read through ``Shared.config("<identity>.<name>")``.

    Class attributes are the values; ``translations`` (``{key: {lang: text | {region: text}}}``)
    is what ``req.mia.translator(identity, key)`` reads.
    """

    translations: ClassVar[dict[str, Any]] = {}
