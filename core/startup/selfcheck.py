"""The security self-check: what an environment gets wrong, before it serves anything.

Why at start-up: a weak or missing secret used to be found per request (production without
``MIA_JWT_SECRET`` answered 500 to every JWT route; a demo or ``aaaa...`` secret let anyone forge
tokens). :func:`findings` lists every problem with a severity; a production environment (one that
does not set ``allowDemo: True``) refuses to start while any is ``high`` (:func:`refuse_high`), and
``python server.py <env> check`` prints them all without starting (exit 1 when any is high).
Each finding is one line that names the key or the variable and says what to do.
"""
from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import StartupError

HIGH, MEDIUM, LOW = "high", "medium", "low"
MIN_SECRET_LENGTH = 32
MIN_SECRET_BITS = 96.0  # estimated from the characters' spread; 32 random hex characters give ~118
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
# Values published in mia.js's and this repository (demo use only): never a secret anywhere else.
PUBLISHED_SECRETS = frozenset({
    "demo-only-jwt-secret-0f5b2c7e9a4d4e1f8c3b",  # config/env/local.py, test.py: the demo JWT key
    "10f2bde9a138ef5aeed40812b0a1594b",  # mia.js's generic app secret
    "74168c7a1868ddeee3355fab9489914b",  # the demo app secret
    "9cd43d5622a2fa78b67b3412a2d8c614",  # the demo static key
})
PLACEHOLDER = re.compile(r"change.?me|replace.?me|your.?(jwt.?)?secret|placeholder|example|default|password|"
                         r"secret.?key|^secret|^test|^dev|todo|xxx|dummy|insecure|123456|qwerty", re.IGNORECASE)
GENERATE = "generate one with: python -c \"import secrets; print(secrets.token_urlsafe(48))\""


@dataclass(frozen=True)
class Finding:
    severity: str
    key: str
    message: str

    def line(self) -> str:
        return f"{self.severity:6} {self.key}: {self.message}"


def production(environment: Mapping[str, Any]) -> bool:
    """Anything that does not opt into the demo (``allowDemo: True``) is treated as production."""
    return environment.get("allowDemo") is not True


def weakness(value: str) -> str | None:
    """Why a secret value is guessable, or None."""
    if value in PUBLISHED_SECRETS:
        return "is a published demo value (it is in the repository: anyone can sign with it)"
    if len(value) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    if PLACEHOLDER.search(value):
        return "looks like a placeholder (changeme, example, password, ...)"
    for size in range(1, len(value) // 2 + 1):  # "abab...", "a" * 32: a repeated short pattern
        if len(value) % size == 0 and value[:size] * (len(value) // size) == value:
            return f"is one short pattern repeated ({value[:min(size, 4)]!r}...)"
    counts = Counter(value)
    bits = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values()) * len(value)
    if bits < MIN_SECRET_BITS:
        return f"has too little randomness (about {bits:.0f} bits; use {MIN_SECRET_BITS:.0f} or more)"
    return None


def _jwt_findings(environment: Mapping[str, Any], severity: str) -> Iterable[Finding]:
    keys = (environment.get("jwt") or {}).get("keys") or {}
    for kid, entry in keys.items() if isinstance(keys, dict) else ():
        if not isinstance(entry, dict):
            continue
        where = f"jwt.keys.{kid}"
        if entry.get("privateKey"):
            yield Finding(MEDIUM if severity == HIGH else LOW, f"{where}.privateKey",
                          "a private key written into the environment file ends up in the repository; "
                          "use privateKeyEnv or privateKeyFile")
        if entry.get("alg") not in HMAC_ALGORITHMS:
            continue
        if entry.get("secret"):
            value, source = str(entry["secret"]), f"{where}.secret"
        elif entry.get("secretEnv"):
            source = str(entry["secretEnv"])
            value = os.environ.get(source, "")
            if not value:
                yield Finding(severity, source, f"is not set: {where} ({entry.get('alg')}) has no secret, so every "
                                                f"JWT route would fail; set it to 32+ random characters ({GENERATE})")
                continue
        elif entry.get("secretFile"):
            source = f"{where}.secretFile"
            try:
                value = Path(str(entry["secretFile"])).read_text(encoding="utf-8").strip()
            except OSError as exc:
                yield Finding(severity, source, f"cannot be read ({exc.strerror}): {where} has no secret")
                continue
        else:
            yield Finding(severity, where, "has no secret, secretEnv or secretFile")
            continue
        reason = weakness(value)
        if reason:
            yield Finding(severity, source, f"{reason}: tokens signed with it can be forged ({GENERATE})")


def _cors_findings(routes: Iterable[Any], severity: str) -> Iterable[Finding]:
    seen: set[str] = set()
    for route in routes:
        configured = getattr(route, "cors_headers", None) or {}
        origin = next((v for k, v in configured.items() if k.lower() == "access-control-allow-origin"), None)
        credentials = next((v for k, v in configured.items() if k.lower() == "access-control-allow-credentials"), None)
        if origin == "*" and (credentials is True or str(credentials).lower() == "true"):
            path = getattr(route.file, "path", "?")
            if path not in seen:
                seen.add(path)
                yield Finding(severity, f"corsHeaders ({path})",
                              "Access-Control-Allow-Origin '*' with Access-Control-Allow-Credentials: list the "
                              "allowed origins (['https://app.example.com']) to allow credentials")


def _serving_findings(environment: Mapping[str, Any], prod: bool) -> Iterable[Finding]:
    server = environment.get("server") or {}
    workers = server["workers"] if isinstance(server.get("workers"), int) else 1
    memcached = (environment.get("memcached") or {}).get("servers")
    if workers > 1 and not memcached:
        if environment.get("rateLimit"):
            yield Finding(HIGH, "memcached.servers", f"not set with {workers} worker processes and a rateLimit: "
                                                     f"each process counts alone ({workers}x the limit)")
        else:
            yield Finding(MEDIUM, "memcached.servers", f"not set with {workers} worker processes: caches and "
                                                       "rate limits are per process")
    if prod and not server.get("https") and not environment.get("trustedProxies"):
        yield Finding(MEDIUM, "server.https", "no HTTPS listener and no trustedProxies (a TLS-terminating proxy): "
                                              "keys, tokens and passwords would travel in clear")
    if prod and environment.get("debug") is True:
        yield Finding(MEDIUM, "debug", "debug blocks (keys, device data, stack traces) can be asked for by any "
                                       "client sending 'debug: true'; set debug: False in production")


def _control_findings(environment: Mapping[str, Any], severity: str) -> Iterable[Finding]:
    key = (environment.get("control") or {}).get("adminKey")
    reason = weakness(str(key)) if key else None
    if reason:
        yield Finding(severity, "control.adminKey", f"{reason}: it opens /_mia/crons (job control) to the network "
                                                    f"({GENERATE})")


def findings(environment: Mapping[str, Any], routes: Iterable[Any] = ()) -> list[Finding]:
    """Every security finding of an environment (and its compiled routes), most severe first."""
    prod = production(environment)
    severity = HIGH if prod else LOW  # development environments may use the demo values
    found = [*_jwt_findings(environment, severity), *_control_findings(environment, severity),
             *_cors_findings(routes, severity),
             *_serving_findings(environment, prod)]
    order = {HIGH: 0, MEDIUM: 1, LOW: 2}
    return sorted(found, key=lambda f: order.get(f.severity, 3))


def refuse_high(environment: Mapping[str, Any], routes: Iterable[Any], source: str) -> None:
    """Production start-up stops while any finding is high; each reason on its own line."""
    if not production(environment):
        return
    high = [f for f in findings(environment, routes) if f.severity == HIGH]
    if high:
        lines = "\n".join(f"  {f.key}: {f.message}" for f in high)
        raise StartupError(f"refusing to start environment '{environment.get('mode')}' (security self-check; "
                           f"'server.py {environment.get('mode')} check' lists every finding):\n{lines}\n", source)
