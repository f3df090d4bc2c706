"""Verifies and signs JWTs with the configured key ring (``generic-jwtKeys``).

Why every check is explicit: the classic JWT attacks are choices the verifier lets the token make.
Here the token chooses nothing. Its ``kid`` must name a configured key (unknown -> 401
``TokenKeyUnknown``; a token without ``kid`` is accepted only when exactly one key is configured),
and its ``alg`` must be that key's algorithm *and* in the pinned ``algorithms`` list, so
``alg: none`` and HS256-signed-with-the-RSA-public-key (HS/RS confusion) are refused before any
signature is computed (401 ``TokenAlgorithmInvalid``). PyJWT then checks the signature, ``exp``,
``nbf``, ``iat`` (with ``leeway``), ``aud`` and ``iss``; ``exp``, ``iat`` and ``sub`` are required.

Key rotation: add the new key under a new ``kid``, switch ``signingKey`` to it, and remove the old
``kid`` once the last token signed with it has expired (``accessTokenLifetime``).
"""
from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core import Lib, MiaError, Shared

log = logging.getLogger("mia.generic.jwt")
T = "generic-translations"
HMAC_ALGORITHMS = {"HS256", "HS384", "HS512"}
ASYMMETRIC_ALGORITHMS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
SETTINGS = ("algorithms", "issuer", "audience", "leeway", "accessTokenLifetime", "refreshTokenLifetime",
            "signingKey", "keys")


class JwtConfigError(RuntimeError):
    """The ``jwt`` configuration cannot work (unknown algorithm, missing key material)."""


@dataclass(frozen=True)
class Key:
    kid: str
    alg: str
    verify_key: Any
    sign_key: Any


def settings() -> dict[str, Any]:
    """``generic-jwt`` defaults overlaid with the environment's ``jwt`` dict."""
    merged = {name: Shared.config(f"generic-jwt.{name}") for name in SETTINGS}
    merged.update(Shared.environment.get("jwt") or {})
    return merged


def _material(entry: dict[str, Any], name: str, kid: str) -> Any:
    """``name`` from the entry itself, ``<name>Env`` (process environment) or ``<name>File``."""
    if entry.get(name):
        return entry[name]
    if entry.get(f"{name}Env"):
        value = os.environ.get(str(entry[f"{name}Env"]))
        if not value:
            raise JwtConfigError(f"jwt key {kid!r}: environment variable {entry[f'{name}Env']} is not set")
        return value
    if entry.get(f"{name}File"):
        return Path(str(entry[f"{name}File"])).read_text(encoding="utf-8")
    return None


def build_keyring(conf: dict[str, Any]) -> dict[str, Key]:
    algorithms = conf.get("algorithms") or []
    if not isinstance(algorithms, list) or not algorithms or "none" in [str(a).lower() for a in algorithms]:
        raise JwtConfigError("jwt.algorithms must be a non-empty list of algorithms (never 'none')")
    ring: dict[str, Key] = {}
    for kid, entry in (conf.get("keys") or {}).items():
        alg = entry.get("alg")
        if alg not in algorithms:
            raise JwtConfigError(f"jwt key {kid!r}: alg {alg!r} is not in jwt.algorithms {algorithms}")
        if alg in HMAC_ALGORITHMS:
            secret = _material(entry, "secret", kid)
            if not secret or len(str(secret)) < 32:
                raise JwtConfigError(f"jwt key {kid!r}: an {alg} secret of at least 32 characters is needed")
            ring[kid] = Key(kid, alg, str(secret), str(secret))
        elif alg in ASYMMETRIC_ALGORITHMS:
            private = _material(entry, "privateKey", kid)
            public = _material(entry, "publicKey", kid)
            if not public and not private:
                raise JwtConfigError(f"jwt key {kid!r}: publicKey (to verify) or privateKey is needed")
            if not public:
                from cryptography.hazmat.primitives import serialization

                loaded = serialization.load_pem_private_key(str(private).encode(), password=None)
                public = loaded.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo).decode()
            ring[kid] = Key(kid, alg, public, private)
        else:
            raise JwtConfigError(f"jwt key {kid!r}: unsupported alg {alg!r}")
    return ring


def unauthorized(req: Any, code: str, error: str = "invalid_token") -> MiaError:
    """401 with RFC 6750's ``WWW-Authenticate: Bearer`` challenge."""
    route = getattr(req.mia, "route", None)
    realm = f"{req.scheme}://{req.host}{getattr(route, 'prefix', '') or ''}"
    challenge = f'Bearer realm="{realm}"' + (f', error="{error}"' if error else "")
    return MiaError(401, code=code, msg=req.mia.translator(T, code), headers={"WWW-Authenticate": challenge})


class JwtKeys(Lib):
    identity = "generic-jwtKeys"
    version = "1.0"

    def __init__(self) -> None:
        self._cache: tuple[int, dict[str, Any], dict[str, Key]] | None = None

    def config(self) -> tuple[dict[str, Any], dict[str, Key]]:
        """Settings and key ring, built once per environment (a broken config is a logged 500)."""
        marker = id(Shared.environment)
        if self._cache is None or self._cache[0] != marker:
            conf = settings()
            self._cache = (marker, conf, build_keyring(conf))
        return self._cache[1], self._cache[2]

    @staticmethod
    def missing(req: Any) -> MiaError:
        """401 ``TokenMissing``: no credentials at all (RFC 6750: a challenge without an error)."""
        return unauthorized(req, "TokenMissing", error="")

    def verify(self, req: Any, token: str) -> dict[str, Any]:
        """The claims of a valid token; else 401 with a precise code (see the module docstring)."""
        conf, ring = self.config()
        import jwt  # PyJWT (and cryptography) load with the first token: a worker without JWT routes skips them

        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise unauthorized(req, "TokenInvalid") from None
        kid = header.get("kid")
        if kid is None:
            key = next(iter(ring.values())) if len(ring) == 1 else None
        else:
            key = ring.get(str(kid))
        if key is None:
            raise unauthorized(req, "TokenKeyUnknown")
        if header.get("alg") != key.alg or key.alg not in conf["algorithms"]:
            raise unauthorized(req, "TokenAlgorithmInvalid")
        options: Any = {"require": ["exp", "iat", "sub"]}  # jwt.types.Options, a TypedDict
        try:
            return jwt.decode(token, key.verify_key, algorithms=[key.alg], audience=conf.get("audience"),
                              issuer=conf.get("issuer"), leeway=float(conf.get("leeway") or 0), options=options)
        except jwt.ExpiredSignatureError:
            raise unauthorized(req, "TokenExpired") from None
        except jwt.ImmatureSignatureError:
            raise unauthorized(req, "TokenNotYetValid") from None
        except jwt.InvalidAudienceError:
            raise unauthorized(req, "TokenAudienceInvalid") from None
        except jwt.InvalidIssuerError:
            raise unauthorized(req, "TokenIssuerInvalid") from None
        except jwt.InvalidTokenError:
            raise unauthorized(req, "TokenInvalid") from None

    def sign(self, claims: dict[str, Any], lifetime: int | None = None) -> tuple[str, int]:
        """A token for ``claims`` (``sub``, ``account``, ``groups``) signed with ``signingKey``; (token, seconds)."""
        conf, ring = self.config()
        kid = conf.get("signingKey") or (next(iter(ring)) if len(ring) == 1 else None)
        key = ring.get(str(kid)) if kid is not None else None
        if key is None or key.sign_key is None:
            raise JwtConfigError("jwt.signingKey must name a configured key that can sign (secret or privateKey)")
        seconds = int(lifetime or conf.get("accessTokenLifetime") or 900)
        now = datetime.now(UTC)
        payload = {**claims, "iat": now, "nbf": now, "exp": now + timedelta(seconds=seconds),
                   "jti": secrets.token_hex(12)}
        if conf.get("issuer"):
            payload["iss"] = conf["issuer"]
        if conf.get("audience"):
            payload["aud"] = conf["audience"]
        import jwt

        return jwt.encode(payload, key.sign_key, algorithm=key.alg, headers={"kid": key.kid}), seconds
