"""HTTP: the request's path, in the order ``pipeline`` runs it.

``router`` (host + path + method -> compiled route) -> ``context`` (``req.mia``, ``res``) ->
``cors`` -> ``ratelimit`` and ``overload`` (guards) -> ``body`` (parser with size limit, ``querystring``)
-> preconditions (core.validation) -> ``chain`` (controllers in declared order, error chain; on
``idempotent`` routes the ``idempotency`` claim after the caller's identity) -> ``output`` (JSON envelope
and renderers) -> the ``idempotency`` settle. ``clientip`` (trusted proxies) and ``static`` (public
assets) serve the stages. May import the foundations, core.validation and core.data.
"""
