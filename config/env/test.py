"""Environment ``test``: what the pytest suite runs (embedded store unless MIA_TEST_MONGO_URL is set)."""

environment = {
    "logLevel": "warn",
    "debug": True,
    "allowDemo": True,  # load the demo project and seed the published demo secrets/keys (development only)
    "server": {"http": {"host": "127.0.0.1", "port": 4000}},
    "hosts": [],
    "cronJobs": {"enabled": False},
    "defaultMongoDatabase": "miaTest",
    "mongoDatabases": {"miaTest": {"url": None, "options": {}}},
    # MongoDB durability and freshness (core/data/databases.py, README "Running on MongoDB").
    "mongo": {"readPreference": "primary", "guardedWriteConcern": {"w": "majority", "wtimeout": 10000},
              "indexBuildTimeout": 3600, "commitQuorum": "votingMembers"},
    "swaggerMode": True,
    "checkResponseSchemes": True,
    # JWT sessions (generic-validateJWT). DEMO KEY, public in this repository: never use it elsewhere.
    "jwt": {"algorithms": ["HS256"], "issuer": "mia.py", "audience": "mia.py-demo", "signingKey": "demo-1",
            "keys": {"demo-1": {"alg": "HS256", "secret": "demo-only-jwt-secret-0f5b2c7e9a4d4e1f8c3b"}}},
    "websocket": {"pingInterval": 25, "maxMessageSize": "64kb"},
}
