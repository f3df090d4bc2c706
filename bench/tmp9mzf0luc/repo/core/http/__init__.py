"""HTTP: the request's path, in the order ``pipeline`` runs it.

``router`` (host + path + method -> compiled route) -> ``context`` (``req.mia``, ``res``) ->
``cors`` -> ``ratelimit`` and ``overload`` (guards) -> ``body`` (parser with size limit, ``querystring``)
-> preconditions (core.validation) -> ``chain`` (controllers in declared order, error chain) ->
``output`` (JSON envelope and renderers). ``clientip`` (trusted proxies) and ``static`` (public
assets) serve the stages. May import the foundations, core.validation and core.data.
"""
