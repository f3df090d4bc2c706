"""The registry every project module reaches the framework through.

``Shared`` holds what the loader collected (configs, libs, models, controllers, crons, route
files) keyed by identity and version, plus process-wide runtime state (run mode, arguments,
database and cache handles). It imports nothing that registers into it, so any module may import
it without creating an import cycle. The base classes project code subclasses (Controller, Lib,
Config) live here too: they are what the registry holds, and they import nothing either.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar

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


def _walk(obj: Any, parts: list[str]) -> Any:
    for part in parts:
        if obj is None:
            return None
        if isinstance(obj, dict):
            obj = obj.get(part)
        else:
            obj = getattr(obj, part, None)
    return obj


class Shared:
    """Class-level registry; never instantiated."""

    mode: str = "local"
    runtime_args: dict[str, Any] = {}
    system: dict[str, Any] = {}
    environment: dict[str, Any] = {}
    translations: dict[str, Any] = {}

    configs = _Registry("config")
    lib_registry = _Registry("lib")
    model_registry = _Registry("model")
    controller_registry = _Registry("controller")
    cron_registry = _Registry("cron")
    route_files: list[Any] = []
    init_modules: list[Any] = []
    services: list[Any] = []  # the compiled route methods (mia.js's registeredServices), set by the factory
    disabled: dict[tuple[str, str], str] = {}  # (kind, identity) -> file of a class with ``disabled = True``
    warnings: list[str] = []  # start-up warnings (the summary prints them; ``routes`` too)

    # Process-wide handles, filled lazily by core.data.databases / core.data.cache (never imported here).
    _handles: dict[str, Any] = {}
    _lock = threading.Lock()
    _providers: dict[str, Callable[..., Any]] = {}

    # -- lookups used by project code ------------------------------------------------------
    @classmethod
    def config(cls, path: str | list[str]) -> Any:
        """``Shared.config("environment.server.http.port")`` or ``Shared.config("demo-config.title")``."""
        parts = list(path) if isinstance(path, list) else str(path).split(".")
        head, rest = parts[0], parts[1:]
        if head == "environment":
            return _walk(cls.environment, rest)
        if head == "system":
            return _walk(cls.system, rest)
        if head == "translations":
            return _walk(cls.translations, rest)
        if not cls.configs.has(head):
            return None
        return _walk(cls.configs.get(head), rest)

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
        if key not in cls._handles:
            with cls._lock:
                if key not in cls._handles:
                    cls._handles[key] = cls._providers[name](*args)
        return cls._handles[key]

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
        """Forget everything (tests build several apps in one process)."""
        for registry in (cls.configs, cls.lib_registry, cls.model_registry,
                         cls.controller_registry, cls.cron_registry):
            registry.clear()
        cls.route_files = []
        cls.init_modules = []
        cls.services = []
        cls.disabled = {}
        cls.warnings = []
        # Looked up on the type: a cached pymongo Database answers any attribute with a Collection.
        for closer in [h for h in cls._handles.values() if callable(getattr(type(h), "close_all", None))]:
            closer.close_all()
        cls._handles = {}


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
