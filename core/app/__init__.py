"""The application: what turns compiled projects into a running server.

``factory`` (create_app: config -> loader -> routes -> indexes/init -> Flask app), ``summary``
(the start-up summary and route table), ``cli`` (server.py's arguments), ``serve`` (the
production server), ``logs`` (logging set-up), ``openapi``, ``docs_site``, ``docs_export`` and
``response_check`` (the OpenAPI document built from the compiled rules, /docs, exports),
``scaffold`` (new-project). The top layer: may import everything in core; nothing in core imports it.
"""
