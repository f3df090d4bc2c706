"""Defaults of JWT sessions (``generic-jwt``); the environment's ``jwt`` dict overrides them key by key.

Keys never live here: each environment names its own (``config/env/<env>.py`` ``jwt.keys``), and a
key entry may read its material from the process environment (``secretEnv``, ``privateKeyEnv``,
``publicKeyEnv``) or a file (``privateKeyFile``, ``publicKeyFile``), so production secrets stay out
of the repository.
"""
from __future__ import annotations

from core import Config


class JwtConfig(Config):
    identity = "generic-jwt"
    version = "1.0"

    algorithms = ["HS256"]          # pinned: a token whose header names any other algorithm is refused
    issuer = None                   # checked (iss) when set
    audience = None                 # checked (aud) when set
    leeway = 30                     # seconds of clock skew allowed for exp, nbf and iat
    accessTokenLifetime = 900       # seconds
    refreshTokenLifetime = 30 * 24 * 3600
    signingKey = None               # kid used to issue tokens; default: the only key
    keys: dict = {}                 # kid -> {"alg": "HS256", "secret"|"secretEnv"|"publicKey"|...}
