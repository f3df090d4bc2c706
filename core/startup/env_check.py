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
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, unquote

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


def validate(environment: Mapping[str, Any], source: str, collect: list[tuple[str, str]] | None = None) -> None:
    """Raise StartupError naming ``source`` and the key for an unknown key, a value of the wrong type,
    out of range or not one of the choices. With ``collect``, append ``(key, message)`` for every
    problem instead (``server.py <env> check``)."""
    for dotted, message in _walk(environment, []):
        if collect is None:
            raise StartupError(message, source)
        collect.append((dotted, f"{message} (in {source})"))


def _walk(section: Mapping[str, Any], prefix: list[str]) -> Iterator[tuple[str, str]]:
    for name, value in section.items():
        path = [*prefix, str(name)]
        dotted = ".".join(path)
        found = lookup(path)
        if found is None:
            yield dotted, f"unknown environment key '{dotted}'{_suggest(str(name), children(prefix))}"
            continue
        key = found[1]
        if not _type_ok(value, key):
            wanted = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in key.types)
            yield dotted, f"environment key '{dotted}' must be {wanted}, got {type(value).__name__} {value!r:.60}"
            continue
        problem = value_problem(value, key)
        if problem:
            yield dotted, f"environment key '{dotted}' {problem}"
        elif isinstance(value, dict) and not key.open:
            yield from _walk(value, path)


def _number_text(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _range_text(key: Key) -> str:
    if key.low is not None and key.high is not None:
        return f"from {_number_text(key.low)} to {_number_text(key.high)}"
    if key.low is not None:
        return f"of at least {_number_text(key.low)}"
    return f"of at most {_number_text(key.high or 0)}"


def _choice_problem(value: Any, key: Key) -> str:
    """For a value of a type the choices are made of (a flag's string, a level's name)."""
    if any(type(value) is type(c) or (isinstance(value, int) and isinstance(c, int)) for c in key.choices) \
            and value not in key.choices:
        shown = list(dict.fromkeys(str(c).lower() if isinstance(c, str) else str(c).lower() for c in key.choices))
        return (f"must be one of {', '.join(shown)}, got {value!r}"
                f"{_suggest(str(value), [str(c) for c in key.choices])}")
    return ""


def value_problem(value: Any, key: Key) -> str:
    """What is wrong with a value of the right type (range, choices, pattern), as the end of a sentence."""
    if key.choices:
        if isinstance(value, list):
            for item in value:
                problem = _choice_problem(item, key)
                if problem:
                    return f"has an entry that {problem}"
        elif isinstance(value, dict) and key.open:
            for name, item in value.items():
                problem = _choice_problem(item, key)
                if problem:
                    return f"entry '{name}' {problem}"
        else:
            problem = _choice_problem(value, key)
            if problem:
                return problem
    if isinstance(value, (int, float)) and not isinstance(value, bool) and (
            (key.low is not None and value < key.low) or (key.high is not None and value > key.high)):
        return f"must be a number {_range_text(key)}, got {value!r} (use a value {_range_text(key)})"
    if key.pattern and isinstance(value, str) and not re.fullmatch(key.pattern, value.strip(), re.IGNORECASE):
        return f"has the wrong form: {value!r} ({key.doc})"
    return ""


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


# Names whose values are secrets wherever they appear (config keys, URL query options, AWS properties).
# ``...Env``/``...File`` name where a secret comes from, which is not secret itself.
SECRET_NAME = re.compile(r"pass(word|phrase)?|secret|token|private.?key|credential|api.?key|access.?key|"
                         r"session.?key|auth.?key|client.?key|signature", re.IGNORECASE)
_REFERENCE = re.compile(r"(Env|File|Lifetime|Lifetimes|Path)$")
_URL_USERINFO = re.compile(r"(://[^:/@\s]+:)[^@/\s]+@")
MASK = "***"


def secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) and not _REFERENCE.search(name)


def _masked_pairs(value: str) -> str:
    """``AWS_SESSION_TOKEN:abc,SERVICE_NAME:x`` (authMechanismProperties): mask the secret pairs."""
    return ",".join(f"{k}:{MASK}" if sep and secret_name(k) else f"{k}{sep}{v}"
                    for k, sep, v in (pair.partition(":") for pair in value.split(",")))


def masked_url(url: str) -> str:
    """A URL with its password and every secret query option (or property inside one) masked."""
    url = _URL_USERINFO.sub(rf"\1{MASK}@", url)
    base, sep, query = url.partition("?")
    if not sep:
        return url
    parts = []
    for item in query.split("&"):
        name, eq, value = item.partition("=")
        if eq and secret_name(name):
            value = MASK
        elif eq and name.lower() == "authmechanismproperties":
            value = quote(_masked_pairs(unquote(value)), safe=":,*")
        parts.append(f"{name}{eq}{value}")
    return f"{base}?{'&'.join(parts)}"


def _masked_value(name: str, value: Any, secret: bool) -> Any:
    if isinstance(value, dict):
        return MASK if secret else {k: _masked_value(str(k), v, secret_name(str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked_value(name, v, secret) for v in value]
    if isinstance(value, str):
        if "://" in value:
            return masked_url(value)
        if secret and value:
            return MASK
        if name.lower() == "authmechanismproperties":
            return _masked_pairs(value)
        return value
    if isinstance(value, (bytes, bytearray)) and secret:
        return MASK
    return value


def masked(environment: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> dict[str, Any]:
    """A copy with secrets replaced by ``'***'``: for ``config`` and logs.

    Masked: keys the table marks secret, any key whose name says secret (password, passphrase,
    secret, token, privateKey, credential, apiKey, accessKey, ...), at any depth and inside options
    passed through to libraries; in URLs the password and secret query options
    (``tlsCertificateKeyFilePassword``, ``authMechanismProperties=AWS_SESSION_TOKEN:...``)."""
    out: dict[str, Any] = {}
    for name, value in environment.items():
        path = [*prefix, str(name)]
        found = lookup(path)
        table_secret = bool(found and found[1].secret)
        if isinstance(value, dict) and found and not found[1].open and not table_secret:
            out[name] = masked(value, tuple(path))
        elif table_secret and isinstance(value, str) and "://" in value:
            out[name] = masked_url(value)
        else:
            out[name] = _masked_value(str(name), value, table_secret or secret_name(str(name)))
    return out
