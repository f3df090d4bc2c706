"""The application: what turns compiled projects into a running server, grouped by concern.

At this level: ``factory`` (create_app: config -> loader -> routes -> indexes/init -> Flask app),
``summary`` (the start-up summary and route table) and ``cli`` (server.py's arguments). Below it, one
subpackage per concern: ``serving/`` (listeners, engines, reload, access log, logs), ``docs/`` (the
OpenAPI document built from the compiled rules, /docs, exports, response checks), ``crons/`` (the
scheduler and the run modes) and ``kit/`` (the test kit and new-project). The top layer: may import
everything in core; nothing in core imports it.
"""
