"""Environment ``production``. Secrets come from the process environment, never from this file:
MIA_MONGO_URL for the database, MIA_MEMCACHED_SERVERS for the cache cluster (comma-separated)."""

environment = {
    "logLevel": "info",
    "logFormat": "json",
    "debug": False,
    "allowDemo": False,  # published demo secrets/keys refuse start-up; the demo project is not loaded
    "server": {"http": {"host": "0.0.0.0", "port": 3000}, "workers": 4},
    "hosts": [],
    "cronJobs": {"enabled": True, "allowedHosts": []},
    "defaultMongoDatabase": "mia",
    "mongoDatabases": {"mia": {"url": None, "options": {}}},
    # MongoDB durability and freshness (core/data/databases.py, README "Running on MongoDB").
    "mongo": {"readPreference": "primary", "guardedWriteConcern": {"w": "majority", "wtimeout": 10000},
              "indexBuildTimeout": 3600, "commitQuorum": "votingMembers"},
    "swaggerMode": False,
    "maxLag": 1000,
    # JWT sessions: the HS256 secret (32+ characters) comes from the process environment.
    "jwt": {"algorithms": ["HS256"], "issuer": "mia.py", "signingKey": "main",
            "keys": {"main": {"alg": "HS256", "secretEnv": "MIA_JWT_SECRET"}}},
    "websocket": {"pingInterval": 25, "maxMessageSize": "64kb"},
}
