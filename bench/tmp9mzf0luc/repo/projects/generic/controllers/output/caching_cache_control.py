"""generic-cachingCacheControl (generic §4.4): ``Cache-Control`` from the request's ``Cached`` answer.

A controller that used ``core.data.cache.Cached`` stores its answer in ``res.cached``; this step turns
its ``cacheTime`` (seconds the value stays fresh) into ``Cache-Control: public, max-age=N``, 0
when there is none. In a controller chain it continues the chain; in an errorController chain it
sets the header and passes the error on.
"""
from __future__ import annotations

from typing import Any

from core import Controller


def max_age(res: Any) -> int:
    cached = getattr(res, "cached", None)
    value = cached.get("cacheTime") if isinstance(cached, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return 0
    return int(value)


class CachingCacheControl(Controller):
    identity = "generic-cachingCacheControl"
    version = "1.0"
    group = "generic"

    def all(self, *args: Any) -> None:
        """``(req, res)`` in a controller chain, ``(err, req, res)`` in an errorController chain."""
        res = args[-1]
        res.headers["Cache-Control"] = f"public, max-age={max_age(res)}"
        if len(args) == 3:
            raise args[0]  # pass the error on to the next error controller / the default output
