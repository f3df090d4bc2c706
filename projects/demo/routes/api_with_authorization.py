"""The todos API behind generic-validateAccessKey (mia.js's routes/api-with-autorization.js).

A client registers a device (``POST /demo-auth/v1/devices``, no key needed), then signs every
request with the demo secret (README "Sign a request"), or sends the seeded static demo key.
"""
from datetime import UTC, datetime

ACCESS_KEY = {"name": "generic-validateAccessKey", "version": "1.0"}
CHECK_ACCESS = {"name": "demo-checkAccess", "version": "1.0"}
TODOS = {"name": "demo-todos", "version": "1.0"}
DEVICE_PROFILE = {"name": "generic-deviceProfile", "version": "1.0"}
ATTESTATION = {"name": "generic-deviceAttestation", "version": "1.0"}
JSON_OUTPUT = {"name": "generic-defaultResponse", "version": "1.0"}
# mia.js's dates (JavaScript months count from 0: new Date(2015, 7, 14, 12) is 14 August), in UTC here
TODOS_MODIFIED = datetime(2015, 8, 14, 12, 0, 0, tzinfo=UTC)
SERVICES_MODIFIED = datetime(2015, 4, 5, 16, 0, 0, tzinfo=UTC)
DEVICES_MODIFIED = datetime(2014, 2, 23, 15, 0, 0, tzinfo=UTC)

routes = {
    "group": "demo",
    "name": "Demo todos with authorization",
    "version": "1.0",
    "prefix": "/demo-auth/v1",
    "routes": {
        "./live/todos": {
            "ws": {
                "identity": "todo-live",
                "description": "Live feed of todo changes for devices (the handshake carries the key header)",
                "authorization": True,
                "controller": [ACCESS_KEY],
                "handler": {"name": "demo-todoFeed"},
                "maxMessageSize": "1kb",
            },
        },
        "./todo": {
            "list": {
                "identity": "todos",
                "modified": TODOS_MODIFIED,
                "description": "List todos",
                "authorization": True,
                "controller": [ACCESS_KEY, CHECK_ACCESS, TODOS, JSON_OUTPUT],
            },
            "index": {
                "identity": "todo",
                "modified": TODOS_MODIFIED,
                "description": "Get single todo",
                "authorization": True,
                "controller": [ACCESS_KEY, TODOS, JSON_OUTPUT],
            },
            "create": {
                "identity": "create-todo",
                "modified": TODOS_MODIFIED,
                "description": "Create a todo item",
                "idempotent": {"retention": "24h"},  # Idempotency-Key: a retried create answers the first answer
                "authorization": True,
                "controller": [ACCESS_KEY, TODOS, JSON_OUTPUT],
            },
            "update": {
                "identity": "update-todo",
                "modified": TODOS_MODIFIED,
                "description": "Update a todo item",
                "authorization": True,
                "controller": [ACCESS_KEY, TODOS, JSON_OUTPUT],
            },
            "delete": {
                "identity": "delete-todo",
                "modified": TODOS_MODIFIED,
                "description": "Delete a todo item",
                "authorization": True,
                "controller": [ACCESS_KEY, TODOS, JSON_OUTPUT],
            },
        },
        "./services": {
            "list": {
                "identity": "services",
                "modified": SERVICES_MODIFIED,
                "description": "Services list of all available services",
                "controller": [{"name": "generic-listServices", "version": "2.0"}, JSON_OUTPUT],
            },
        },
        "./devices/attestation/challenge": {
            "post": {
                "identity": "attestation-challenge",
                "description": "A one-time challenge to attest a device registration over (App Attest, Play Integrity)",
                "controller": [{**ATTESTATION, "function": "challenge"}, JSON_OUTPUT],
            },
        },
        "./attested/ping": {
            "get": {
                "identity": "attested-ping",
                "description": "Answers attested devices only (App Attest: with a fresh assertion)",
                "authorization": True,
                "controller": [ACCESS_KEY, {"name": "generic-validateAttestedDevice"}, JSON_OUTPUT],
            },
        },
        "./devices": {
            "create": {
                "identity": "devices",
                "modified": DEVICES_MODIFIED,
                "description": "Register devices and receive device id (optionally with an attestation)",
                "controller": [{**ATTESTATION, "function": "verifyRegistration"}, DEVICE_PROFILE,
                               {**ATTESTATION, "function": "attach"}, JSON_OUTPUT],
            },
            "update": {
                "identity": "device",
                "modified": DEVICES_MODIFIED,
                "description": "Update device profile",
                "authorization": True,
                "controller": [ACCESS_KEY, DEVICE_PROFILE, JSON_OUTPUT],
            },
        },
    },
}
