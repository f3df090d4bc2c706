"""Environment ``local``: a developer's machine. Starts with nothing installed.

No ``mongoDatabases`` URL -> the embedded in-process store; set MIA_MONGO_URL (or a ``url`` below)
to use a real MongoDB. No ``memcached`` -> in-process cache and rate limiter.
"""

environment = {
    "logLevel": "info",
    "allowDemo": True,  # load the demo project and seed the published demo secrets/keys (development only)
    "debug": True,  # debug blocks are shown only when a request also sends the header `debug: true`
    "server": {"http": {"host": "127.0.0.1", "port": 3000}},
    "hosts": [],
    "cronJobs": {"enabled": True, "allowedHosts": []},
    "defaultMongoDatabase": "mia",
    "mongoDatabases": {"mia": {"url": None, "options": {}}},
    # MongoDB durability and freshness (core/data/databases.py, README "Running on MongoDB").
    "mongo": {"readPreference": "primary", "guardedWriteConcern": {"w": "majority", "wtimeout": 10000},
              "indexBuildTimeout": 3600, "commitQuorum": "votingMembers"},
    "embedded": {"path": ".mia-data/local.json"},
    "swaggerMode": True,
    "title": "mia.py demo API",
    "description": "Declarative API server: demo and generic services",
    # JWT sessions (generic-validateJWT). DEMO KEY, public in this repository: never use it elsewhere.
    "jwt": {"algorithms": ["HS256"], "issuer": "mia.py", "audience": "mia.py-demo", "signingKey": "demo-1",
            "keys": {"demo-1": {"alg": "HS256", "secret": "demo-only-jwt-secret-0f5b2c7e9a4d4e1f8c3b"}}},
    "websocket": {"pingInterval": 25, "maxMessageSize": "64kb"},
}
