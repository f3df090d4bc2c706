"""The application: what turns compiled projects into a running server.

``factory`` (create_app: config -> loader -> routes -> indexes/init -> Flask app), ``summary``
(the start-up summary and route table), ``cli`` (server.py's arguments), ``listeners`` (HTTP,
HTTPS, redirect, unix socket, WebSocket listener), ``serve`` (picks and runs the server),
``granian_run`` (one granian process per listener), ``threaded`` (werkzeug's threaded server),
``reload`` (hot reload in place), ``access`` (request id, access line, /_mia/health), ``logs``
(levels, per-identifier levels, JSON, transport), ``openapi``, ``docs_site``, ``docs_export`` and
``response_check`` (the OpenAPI document built from the compiled rules, /docs, exports),
``scaffold`` (new-project). The top layer: may import everything in core; nothing in core imports it.
"""
