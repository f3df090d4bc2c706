"""The table of known environment keys: what ``config/env/<env>.py`` may set, with types.

Why a table: a typo in an environment file (``rateLimt``, ``swagerMode``) used to pass silently
and switch a feature off. Start-up now checks every key against :data:`KEYS` and fails naming the
file and the key, with a "did you mean" for near misses. The same table types the values of
``MIA_CFG_<PATH>`` process-environment overrides and marks the secrets ``server.py <env> config``
masks.

To add a key, add one line to :data:`KEYS` (or call :func:`register` from an init-free module):
``"path.with.dots": Key((types...), "what it does")``. A ``*`` segment matches any name (entries of
a map such as ``mongoDatabases``); ``open=True`` accepts any contents below the key (options passed
through to a library).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NoneType = type(None)
LOG_LEVELS = ("none", "fatal", "error", "warn", "info", "debug", "trace")


@dataclass(frozen=True)
class Key:
    """One known key: accepted value types, a one-line description, secret/open flags, choices, range.

    ``low``/``high`` bound a number (inclusive); ``choices`` lists the accepted values (for a key that
    also takes other types, only values of a chosen type are checked against it)."""

    types: tuple[type, ...]
    doc: str = ""
    secret: bool = False
    open: bool = False
    choices: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    pattern: str | None = None  # a string value must match (full match, case-insensitive)


S, INT, B, N, L, D, F = str, int, bool, NoneType, list, dict, float
# mia's on/off words (core.shared.flag): anything else in a flag that also takes strings is a typo.
FLAG_WORDS = (True, False, 0, 1, "true", "false", "1", "0", "y", "n", "yes", "no", "on", "off",
              "True", "False", "Yes", "No", "On", "Off", "TRUE", "FALSE")
JWT_ALGORITHMS = ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
                  "ES384", "ES512", "EdDSA")
# Ports take 0 (any free port: tests); counts start at 1; durations and intervals are positive.

KEYS: dict[str, Key] = {
    # set by the server itself
    "mode": Key((S,), "the environment's name (set by the server)"),
    # listeners (core/app/serving/listeners.py)
    "server": Key((D,), "listeners and the production server"),
    "server.http": Key((D, N), "the HTTP listener"),
    "server.http.host": Key((S,), "HTTP address (default 127.0.0.1)"),
    "server.http.port": Key((INT,), "HTTP port (default 3000)", low=0, high=65535),
    "server.http.socket": Key((S, N), "serve HTTP on this unix socket path instead of host:port"),
    "server.http.redir": Key((B,), "answer HTTP with a 301 to HTTPS, path and query kept"),
    "server.http.redirHostname": Key((S, N), "host name for the redirect (default: the Host header)"),
    "server.http.redirFallbackHostname": Key((S, N), "host for the redirect when there is no Host header"),
    "server.http.redirPort": Key((INT, N), "port for the redirect (default: the HTTPS port)", low=0, high=65535),
    "server.https": Key((D, N), "the HTTPS listener (served together with HTTP)"),
    "server.https.host": Key((S,), "HTTPS address (default: server.http.host)"),
    "server.https.port": Key((INT,), "HTTPS port", low=0, high=65535),
    "server.https.cert": Key((S,), "certificate chain file (PEM)"),
    "server.https.key": Key((S,), "private key file (PEM)"),
    "server.https.ca": Key((S, N), "CA file for client certificates"),
    "server.https.passphrase": Key((S, N), "passphrase of the key file", secret=True),
    "server.https.options": Key((D,), "mia.js form: {key, cert, ca, passphrase} file paths", open=True),
    "server.websocket": Key((D, N), "production: the listener for WebSocket routes"),
    "server.websocket.host": Key((S,), "WebSocket listener address (default: server.http.host)"),
    "server.websocket.port": Key((INT,), "WebSocket listener port", low=0, high=65535),
    "server.websocket.engine": Key((S,), "WebSocket server with a MongoDB URL", choices=("gunicorn", "threaded")),
    "server.websocket.connections": Key((INT,), "open WebSockets the gunicorn WebSocket server holds (default 2000)",
                                        low=1),
    "server.engine": Key((S,), "production server", choices=("granian", "threaded", "gunicorn")),
    "server.workers": Key((INT,), "worker processes (production server)", low=1, high=512),
    "server.threads": Key((INT,), "threads per worker for the WSGI app", low=1, high=1024),
    "server.timeout": Key((INT, F), "gunicorn worker timeout in seconds", low=0.001),
    "server.gracefulTimeout": Key((INT, F), "seconds a stopping server waits for running requests (default 30)",
                                  low=0, high=3600),
    "server.headerTimeout": Key((INT, F), "seconds a client has to send its request headers (default 10)",
                                low=0.001, high=3600),
    "server.backpressure": Key((INT,), "production: requests in progress per worker before new ones wait",
                                low=1),
    "server.bodyTimeout": Key((INT, F), "seconds without a byte of an announced body before 408 (default 30)",
                              low=0.001, high=3600),
    # hosts, data, cache
    "hosts": Key((L, D), "vhosts: [{id, host, listener}]", open=True),
    "defaultMongoDatabase": Key((S,), "name of the default entry of mongoDatabases"),
    "mongoDatabases": Key((D,), "databases by name"),
    "mongoDatabases.*": Key((D,), "one database"),
    "mongoDatabases.*.url": Key((S, N), "mongodb:// URL; none: the embedded store", secret=True),
    "mongoDatabases.*.database": Key((S,), "database name (default: the URL's path)"),
    "mongoDatabases.*.options": Key((D,), "pymongo.MongoClient options", open=True),
    "mongo": Key((D,), "MongoDB durability, freshness and index builds (README: Running on MongoDB)"),
    "mongo.readPreference": Key((S,), "reads of every route unless its readPreference opts in",
                                choices=("primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest")),
    "mongo.guardedWriteConcern": Key((D,), "write concern of nonces, sessions, lockouts, cron slots, claims",
                                     open=True),
    "mongo.indexBuildTimeout": Key((INT, F), "seconds an index build may take (0: no limit)"),
    "mongo.commitQuorum": Key((S, INT), "index builds on replica sets: votingMembers, majority or a number"),
    "embedded": Key((D,), "the embedded in-process store"),
    "embedded.path": Key((S, N), "file the embedded store is saved to and loaded from"),
    "skipDatabaseIndexingOnNewCollections": Key((B, S, INT),
                                                  "skip indexing new collections at start-up (true/yes/on/1)",
                                                  choices=FLAG_WORDS),
    "memcached": Key((D, N), "memcached servers for caches and rate limits"),
    "memcached.servers": Key((S, L, N), "'a:11211,b:11211' or a list"),
    "memcached.flushOnStart": Key((B,), "flush memcached at start-up"),
    "memcached.required": Key((B,), "/_mia/health/ready answers 503 while memcached is unreachable"),
    "memcached.options": Key((D,), "timeout, retries, retry (ms)", open=True),
    # request path
    # checked (positive integers, mia's message) by core/http/ratelimit.py's parse_limit at start-up
    "rateLimit": Key((D, N), "{maxRequests, interval}: per client IP across all routes", open=True),
    "maxLag": Key((INT, F, N), "overload guard: event-loop lag in ms before 503 ServerBusy", low=0.001),
    "maxConcurrentRequests": Key((INT, N), "overload guard: requests in progress before 503 ServerBusy", low=1),
    "trustedProxies": Key((L,), "IPs or CIDRs whose X-Forwarded-* headers are believed"),
    "controllerTimeout": Key((INT, F, N), "seconds an async controller may run before 504 ControllerTimeout (30)"),
    "debug": Key((B,), "allow debug blocks (the request must also send 'debug: true')"),
    "checkResponseSchemes": Key((B,), "validate responses against responseSchemes (tests)"),
    "tryCatchForRouteFunctions": Key((B,), "mia.js compatibility; always on"),
    # docs
    "swaggerMode": Key((B, S, INT), "mount /docs and /api-docs", choices=FLAG_WORDS),
    "swagger": Key((D,), "docs settings", open=True),
    "title": Key((S,), "API title in the docs"),
    "description": Key((S,), "API description in the docs"),
    "version": Key((S,), "API version in the docs"),
    # cron
    "cronJobs": Key((D,), "cron scheduler settings"),
    "cronJobs.enabled": Key((B,), "run the cron scheduler"),
    "cronJobs.timezone": Key((S, N), "time zone (IANA name) of jobs whose time names none, e.g. 'UTC'"),
    "cronJobs.allowedHosts": Key((L,), "host names that may run cron jobs (empty: any)"),
    "cronJobs.environment": Key((L,), "environments that may run cron jobs (empty: any)"),
    "cronJobs.deadServerInterval": Key((INT, F), "ms without a heartbeat before a server counts as dead",
                                         low=100),
    "cronJobs.managerTime": Key((D,), "the manager job's pattern (mia's time keys)", open=True),
    "cronJobs.misfireGraceTime": Key((INT, F, N), "seconds a late tick may still run", low=0),
    "cronJobs.stopTimeout": Key((INT, F), "seconds running workers get on shutdown", low=0, high=3600),
    "cronJobs.ensureIndexes": Key((D,), "generic-ensureIndexes settings"),
    "cronJobs.ensureIndexes.enabled": Key((B,), "let generic-ensureIndexes work"),
    "cronJobs.ensureIndexes.startUp": Key((B,), "one generic-ensureIndexes run when the scheduler starts"),
    # operators' job control endpoint /_mia/crons (core/app/crons/control.py)
    "control": Key((D,), "the operator endpoint /_mia/crons: loopback only unless an adminKey is set"),
    "control.enabled": Key((B,), "mount /_mia/crons (default on; answers loopback or the admin key only)"),
    "control.adminKey": Key((S, N), "X-Mia-Admin-Key that opens /_mia/crons to non-loopback callers",
                            secret=True),
    # demo and the embedded store's journal (hardening)
    "allowDemo": Key((B,), "load and seed the demo projects (development only; default off)"),
    "embedded.journalMaxBytes": Key((INT,), "journal size that triggers a compaction into the snapshot", low=1024),
    "embedded.fsync": Key((B,), "fsync every journaled write (default on)"),
    "embedded.lockWait": Key((INT, F), "seconds to wait for the data file's lock at start", low=0, high=600),
    # JWT sessions (projects/generic: generic-validateJWT, generic-jwtKeys, generic-jwtSessions)
    "jwt": Key((D,), "JWT sessions: algorithms, keys by kid, issuer, audience, leeway, lifetimes"),
    "jwt.algorithms": Key((L,), "accepted algorithms (pinned: HS256, RS256, ES256, ...)", choices=JWT_ALGORITHMS),
    "jwt.issuer": Key((S, N), "iss to issue and require"),
    "jwt.audience": Key((S, L, N), "aud to issue and require"),
    "jwt.signingKey": Key((S, N), "kid of the key that signs new tokens"),
    "jwt.leeway": Key((INT, F), "seconds of clock skew allowed for exp/nbf/iat", low=0, high=600),
    "jwt.accessTokenLifetime": Key((INT, F), "access token lifetime in seconds", low=1),
    "jwt.refreshTokenLifetime": Key((INT, F), "refresh token lifetime in seconds", low=1),
    "jwt.keys": Key((D,), "keys by kid: {alg, secret|secretEnv|secretFile, publicKey..., privateKey...}",
                    open=True),
    # WebSocket routes and the broadcast bus (core/http/websocket.py, core/data/broadcast.py)
    "websocket": Key((D,), "WebSocket settings"),
    "websocket.pingInterval": Key((INT, F), "seconds between pings; a client missing a pong is reaped", low=0.001),
    "websocket.maxMessageSize": Key((S, INT), "largest message accepted (e.g. '64kb')", low=1,
                                    pattern=r"\d+(\.\d+)?\s*(b|kb|mb|gb)?"),
    "websocket.pollInterval": Key((INT, F), "seconds between polls of the broadcast collection", low=0.001),
    "websocket.retention": Key((INT, F), "seconds broadcast messages are kept", low=0.001),
    "websocket.idleInterval": Key((INT, F), "longest wait between broadcast polls while none arrive", low=0.001),
    "websocket.gapTimeout": Key((INT, F), "unused: broadcast numbers have no gaps now (accepted for old files)"),
    "websocket.batch": Key((INT,), "broadcast messages read per poll", low=1),
    "websocket.database": Key((S, N), "a key of mongoDatabases for the broadcast collection"),
    # notifications (core/notifications/settings.py)
    "notifications": Key((D,), "processor settings: maxAttempts, backoff, lease, batch, ...", open=True),
    # device attestation (projects/generic: generic-deviceAttestation; merged over generic-attestation)
    "attestation": Key((D,), "device attestation: App Attest and Play Integrity settings"),
    "attestation.challengeLifetime": Key((INT,), "seconds a registration challenge can be used (once)", low=1),
    "attestation.requiredOnRegistration": Key((B,), "registration without an attestation answers 403"),
    "attestation.requiredForGroups": Key((L,), "route groups whose requests need an attested device"),
    "attestation.apple": Key((D,), "App Attest: appIds, environment, roots"),
    "attestation.apple.appIds": Key((L,), "'<TEAMID>.<bundle id>' of the apps"),
    "attestation.apple.environment": Key((S,), "the aaguid to expect", choices=("production", "development")),
    "attestation.apple.roots": Key((L, N), "PEM roots (None: Apple's App Attestation Root CA)"),
    "attestation.play": Key((D,), "Play Integrity: packageNames, keys, verdict levels"),
    "attestation.play.packageNames": Key((L,), "Android package names of the apps"),
    "attestation.play.decryptionKey": Key((S, N), "Play Console response decryption key (base64)", secret=True),
    "attestation.play.verificationKey": Key((S, N), "Play Console response verification key (base64 DER)"),
    "attestation.play.maxAge": Key((INT,), "seconds a verdict stays acceptable", low=1),
    "attestation.play.deviceRecognitionVerdict": Key((S,), "the device level required"),
    "attestation.play.appRecognitionVerdicts": Key((L,), "accepted app recognition verdicts"),
    "attestation.play.certificateSha256Digests": Key((L, N), "accepted signing certificate digests"),
    # docs
    "openapiVersion": Key((S,), "OpenAPI version of the docs", choices=("3.1.0", "3.1", "3.0.3", "3.0")),
    # logging (core/app/logs.py)
    "logLevel": Key((S,), "none, fatal, error, warn, info, debug, trace", choices=LOG_LEVELS),
    "logFormat": Key((S,), "text or json", choices=("text", "json")),
    "logLevels": Key((D,), "per-identifier levels {identity: level}; LOG_LEVEL_<ID> overrides", open=True,
                     choices=LOG_LEVELS),
    "accessLog": Key((B,), "one access line per request (default on)"),
    "logTransport": Key((S, N), "'<config identity>.<function>' called for every log line, off the request"),
    "logRedact": Key((list,), "more query parameter names whose values logs mask (key, token, password ... built in)"),
    "hot": Key((D,), "hot reload settings", open=True),
}


def register(path: str, *types: type, doc: str = "", secret: bool = False, open: bool = False) -> None:
    """Declare one more key (for modules that add settings); ``types`` as :class:`Key` takes them."""
    KEYS[path] = Key(tuple(types) or (object,), doc, secret=secret, open=open)


def lookup(path: list[str]) -> tuple[str, Key] | None:
    """The table entry for a concrete key path (``*`` segments match any name), or None."""
    for pattern, key in KEYS.items():
        parts = pattern.split(".")
        if len(parts) == len(path) and all(p == "*" or p == q for p, q in zip(parts, path, strict=False)):
            return pattern, key
    return None


def children(prefix: list[str]) -> list[str]:
    """Known names directly below ``prefix`` (for "did you mean")."""
    found: set[str] = set()
    for pattern in KEYS:
        parts = pattern.split(".")
        if len(parts) == len(prefix) + 1 and all(p == "*" or p == q for p, q in zip(parts, prefix, strict=False)):
            found.add(parts[-1])
    return sorted(found - {"*"})
