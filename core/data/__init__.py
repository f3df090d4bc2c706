"""Data: where values are kept.

``databases`` (one MongoClient per process, or the embedded store ``embedded`` on a fresh
machine), ``models`` (BaseModel: rules, CRUD, indexes), ``indexes`` (declared indexes ensured at
start-up), ``cache`` (memcached through pymemcache, in-process fallback; Cached),
``jsonutil`` (JSON for stored values: datetimes, ObjectIds). May import the foundations and
core.validation (models validate with compiled rules).
"""
