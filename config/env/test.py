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
    "swaggerMode": True,
    "checkResponseSchemes": True,
}
