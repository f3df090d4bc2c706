"""Reads the root configuration: config/system.py, config/env/<mode>.py, config/translations.py.

Each file defines one dict named after the file (``system``, ``environment``, ``translations``).
Process environment variables override what secrets and deployments need: any key through
``MIA_CFG_<PATH>`` (core/startup/env_check.py), and the shortcuts ``PORT``,
``MIA_MONGO_URL`` / ``MIA_MONGO_URL_<NAME>``, ``MIA_MEMCACHED_SERVERS``. Every key is checked
against the table in core/startup/env_keys.py.
"""
from __future__ import annotations

import copy
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from core.errors import StartupError
from core.startup import env_check

DEFAULT_SYSTEM: dict[str, Any] = {
    "path": {
        "projects": "projects",
        "modules": {name: name for name in
                    ("routes", "models", "controllers", "crons", "public", "libs", "config", "init")},
        "init": "init",
    },
    "defaultCulture": {"language": "en", "region": "gb"},
}




def load_module(path: Path, name: str) -> ModuleType:
    """Import a Python file under a unique module name; a failure names the file."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise StartupError("cannot load module", str(path))
    module = importlib.util.module_from_spec(spec)
    # Registered as a normal import does: dataclasses, typing.get_type_hints and pickle look the
    # module up in sys.modules (a @dataclass under ``from __future__ import annotations`` needs it).
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except StartupError:
        sys.modules.pop(name, None)
        raise
    except Exception as exc:  # a syntax or runtime error in project code
        sys.modules.pop(name, None)
        raise StartupError(f"error while loading: {type(exc).__name__}: {exc}", str(path)) from exc
    return module


def _read_dict(path: Path, attr: str, required: bool) -> dict[str, Any]:
    if not path.exists():
        if required:
            raise StartupError(f"configuration file is missing (expected a dict named '{attr}')", str(path))
        return {}
    module = load_module(path, f"mia_config_{attr}_{path.stem}")
    value = getattr(module, attr, None)
    if not isinstance(value, dict):
        raise StartupError(f"must define a dict named '{attr}'", str(path))
    return copy.deepcopy(value)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_environment(config_dir: Path, system: dict[str, Any], mode: str, chain: list[str]) -> dict[str, Any]:
    """``config/env/<mode>.py``'s ``environment``, merged key by key over the one it ``extends``.

    ``extends = "local"`` (a module-level name beside ``environment``) starts from local's settings:
    nested dicts merge key by key, any other value (lists too) replaces the base's. Chains may be
    longer (stage extends production extends base); a cycle or an unknown base stops the start.
    """
    env_file = config_dir / "env" / f"{mode}.py"
    if mode in chain:
        raise StartupError(f"environments extend each other in a circle: {' -> '.join([*chain, mode])}",
                           str(env_file))
    if not env_file.exists():
        if isinstance(system.get(mode), dict) and not chain:
            return copy.deepcopy(system[mode])
        known = sorted(p.stem for p in (config_dir / "env").glob("*.py"))
        where = str(config_dir / "env" / f"{chain[-1]}.py") if chain else str(env_file)
        raise StartupError(f"unknown environment '{mode}'; known: {', '.join(known) or 'none'}", where)
    environment = _read_dict(env_file, "environment", True)
    base = getattr(sys.modules.get(f"mia_config_environment_{env_file.stem}"), "extends", None)
    if base is None:
        return environment
    if not isinstance(base, str) or not base:
        raise StartupError("'extends' must name an environment (a file in config/env/)", str(env_file))
    return _merge(_read_environment(config_dir, system, base, [*chain, mode]), environment)


def env_file(root: Path, mode: str) -> Path:
    return root / "config" / "env" / f"{mode}.py"


def load_root_config(root: Path, mode: str, overrides: dict[str, Any] | None = None,
                     problems: list[tuple[str, str]] | None = None
                     ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Return ``(system, environment, translations)`` for ``mode``.

    ``problems``: collect every key problem there instead of raising at the first (``check``)."""
    config_dir = root / "config"
    system = _merge(DEFAULT_SYSTEM, _read_dict(config_dir / "system.py", "system", False))
    env_path = env_file(root, mode)
    environment = _read_environment(config_dir, system, mode, [])
    environment = _merge(environment, overrides or {})
    environment["mode"] = mode
    env_check.validate(environment, str(env_path), problems)
    apply_process_environment(environment)
    env_check.apply_overrides(environment, os.environ)
    if problems is None:
        env_check.validate(environment, f"process environment ({env_check.PREFIX}*)")
    else:  # only what the overrides added: the file's own problems are already listed
        seen = {key for key, _ in problems}
        extra: list[tuple[str, str]] = []
        env_check.validate(environment, f"process environment ({env_check.PREFIX}*, PORT)", extra)
        problems.extend(item for item in extra if item[0] not in seen)
    translations = _read_dict(config_dir / "translations.py", "translations", False)
    return system, environment, translations


def apply_process_environment(environment: dict[str, Any]) -> None:
    """Let PORT, MIA_MONGO_URL[_NAME] and MIA_MEMCACHED_SERVERS override file values."""
    port = os.environ.get("PORT")
    if port:
        if not port.isdigit():
            raise StartupError(f"PORT must be a number, got {port!r}")
        environment.setdefault("server", {}).setdefault("http", {})["port"] = int(port)
    databases = environment.setdefault("mongoDatabases", {})
    default_name = environment.get("defaultMongoDatabase")
    if os.environ.get("MIA_MONGO_URL") and default_name:
        databases.setdefault(default_name, {})["url"] = os.environ["MIA_MONGO_URL"]
    for name, settings in databases.items():
        url = os.environ.get(f"MIA_MONGO_URL_{name.upper()}")
        if url:
            settings["url"] = url
    servers = os.environ.get("MIA_MEMCACHED_SERVERS")
    if servers:
        environment.setdefault("memcached", {})["servers"] = servers
