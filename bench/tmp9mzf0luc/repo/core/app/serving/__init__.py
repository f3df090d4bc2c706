"""Serving: ``serve`` (picks and runs the engine), ``listeners`` (HTTP, HTTPS, redirect, unix socket,
WebSocket listener), ``granian_run`` (one granian process per listener), ``threaded`` (werkzeug's threaded
server), ``reload`` (hot reload in place), ``access`` (request id, access line, /_mia/health), ``logs``
(levels, per-identifier levels, JSON, transport) and ``memory`` (a worker's collector settings).
"""
