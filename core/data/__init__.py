"""Data: where values are kept.

``databases`` (one MongoClient per process, or the embedded store ``embedded`` on a fresh
machine), ``models`` (BaseModel: rules, CRUD, indexes), ``indexes`` (declared indexes ensured at
start-up), ``cache`` (memcached through pymemcache, in-process fallback; Cached),
``jsonutil`` (JSON for stored values: datetimes, ObjectIds). May import the foundations and
core.validation (models validate with compiled rules).
"""
from __future__ import annotations

import importlib.util
import sys

# pymongo's ssl_support first tries pymongo.pyopenssl_context, which imports cryptography.x509 (about
# 8 MB per worker and 40 ms of start-up) before it finds that pyOpenSSL is missing and falls back to
# the standard ssl module. Without pyOpenSSL that fallback is certain, so it is taken up front: the
# same TLS code connects, and a worker that never signs a JWT does not carry cryptography.
if "pymongo" not in sys.modules and importlib.util.find_spec("OpenSSL") is None:
    sys.modules.setdefault("pymongo.pyopenssl_context", None)  # type: ignore[arg-type]  # None marks "not importable"
