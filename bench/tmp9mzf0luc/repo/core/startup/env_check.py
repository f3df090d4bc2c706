"""Checks an environment against the key table, applies ``MIA_CFG_*`` overrides, masks secrets.

Why here: the environment is read once at start-up, so a wrong key or type fails there, naming
the file and the key, instead of silently switching a feature off at run time.

Overrides: ``MIA_CFG_<PATH>`` with ``__`` between segments, matched case-insensitively against the
table (``MIA_CFG_SERVER__HTTPS__PASSPHRASE``, ``MIA_CFG_MONGODATABASES__MIA__URL``,
``MIA_CFG_SERVER__WORKERS=1``). The value is parsed for the key's type (numbers, true/false,
``null``, JSON for lists and dicts). An unknown path fails start-up like a typo in a file.
"""
from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from typing import Any

from core.errors import StartupError
from core.startup.env_keys import Key, NoneType, children, lookup

PREFIX = "MIA_CFG_"
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true/false", list: "a list",
               dict: "a dict", NoneType: "None"}


def _type_ok(value: Any, key: Key) -> bool:
    if object in key.types:
        return True
    if isinstance(value, bool):
        return bool in key.types
    if isinstance(value, int) and float in key.types:
        return True
    return isinstance(value, key.types)


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if not close:
        close = [k for k in known if k.lower() == name.lower()]
    return f" (did you mean '{close[0]}'?)" if close else ""


def validate(environment: Mapping[str, Any], source: str) -> None:
    """Raise StartupError naming ``source`` and the key for an unknown key or a value of the wrong type."""
    _walk(environment, [], source)


def _walk(section: Mapping[str, Any], prefix: list[str], source: str) -> None:
    for name, value in section.items():
        path = [*prefix, str(name)]
        dotted = ".".join(path)
        found = lookup(path)
        if found is None:
            raise StartupError(f"unknown environment key '{dotted}'{_suggest(str(name), children(prefix))}", source)
        key = found[1]
        if not _type_ok(value, key):
            wanted = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in key.types)
            raise StartupError(f"environment key '{dotted}' must be {wanted}, got {type(value).__name__} "
                               f"{value!r:.60}", source)
        if key.choices and value not in key.choices:
            raise StartupError(f"environment key '{dotted}' must be one of {', '.join(map(str, key.choices))}, "
                               f"got {value!r}{_suggest(str(value), [str(c) for c in key.choices])}", source)
        if isinstance(value, dict) and not key.open:
            _walk(value, path, source)


def _parse(text: str, key: Key, variable: str) -> Any:
    if text.lower() in ("null", "none") and NoneType in key.types:
        return None
    if bool in key.types and text.lower() in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        return text.lower() in ("true", "1", "yes", "on")
    if int in key.types and re.fullmatch(r"-?\d+", text):
        return int(text)
    if float in key.types and re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text)
    if (list in key.types or dict in key.types) and text[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            raise StartupError(f"{variable} is not valid JSON") from None
    if str in key.types:
        return text
    raise StartupError(f"{variable}={text!r} is not {' or '.join(_TYPE_NAMES.get(t, '?') for t in key.types)}")


def apply_overrides(environment: dict[str, Any], variables: Mapping[str, str]) -> list[str]:
    """Apply every ``MIA_CFG_*`` variable to ``environment``; returns the dotted paths set."""
    applied: list[str] = []
    for variable in sorted(v for v in variables if v.startswith(PREFIX)):
        segments = [s for s in variable[len(PREFIX):].split("__")]
        path: list[str] = []
        section: Any = environment
        for index, segment in enumerate(segments):
            known = children(path)
            name = next((k for k in known if k.lower() == segment.lower()), None)
            if name is None and isinstance(section, dict):  # a map entry (mongoDatabases.<name>)
                name = next((k for k in section if str(k).lower() == segment.lower()), None)
            if name is None and lookup([*path, "*"]) is not None:
                name = segment.lower()
            if name is None:
                raise StartupError(f"unknown environment key in {variable}: '{segment}'"
                                   f"{_suggest(segment.lower(), [k.lower() for k in known])}")
            path.append(name)
            if index < len(segments) - 1:
                if not isinstance(section.get(name), dict):
                    section[name] = {}
                section = section[name]
        found = lookup(path)
        if found is None:
            raise StartupError(f"unknown environment key in {variable}")
        section[path[-1]] = _parse(variables[variable], found[1], variable)
        applied.append(".".join(path))
    return applied


_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@/\s]+@")


def masked(environment: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> dict[str, Any]:
    """A copy with secrets replaced by ``'***'`` (passwords inside URLs too): for ``config`` and logs."""
    out: dict[str, Any] = {}
    for name, value in environment.items():
        path = [*prefix, str(name)]
        found = lookup(path)
        if isinstance(value, dict):
            out[name] = masked(value, tuple(path)) if not (found and found[1].secret) else "***"
        elif found and found[1].secret and value not in (None, ""):
            out[name] = _URL_PASSWORD.sub(r"\1***@", value) if isinstance(value, str) and "://" in value else "***"
        elif isinstance(value, str) and "://" in value:
            out[name] = _URL_PASSWORD.sub(r"\1***@", value)
        else:
            out[name] = value
    for name in ("passphrase", "password", "secret", "token"):
        if name in out and out[name] not in (None, ""):
            out[name] = "***"
    return out
