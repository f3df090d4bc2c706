"""The todos API behind generic-validateAccessKey (mia.js's routes/api-with-autorization.js).

A client registers a device (``POST /demo-auth/v1/devices``, no key needed), then signs every
request with the demo secret (README "Sign a request"), or sends the seeded static demo key.
"""
from datetime import datetime

ACCESS_KEY = {"name": "generic-validateAccessKey", "version": "1.0"}
CHECK_ACCESS = {"name": "demo-checkAccess", "version": "1.0"}
TODOS = {"name": "demo-todos", "version": "1.0"}
DEVICE_PROFILE = {"name": "generic-deviceProfile", "version": "1.0"}
JSON_OUTPUT = {"name": "generic-defaultResponse", "version": "1.0"}
MODIFIED = datetime(2015, 7, 21, 12, 0, 0)

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
                "modified": MODIFIED,
                "description": "List todos (signed request or static key)",
                "authorization": True,
                "controller": [ACCESS_KEY, CHECK_ACCESS, TODOS, JSON_OUTPUT],
            },
            "index": {
                "identity": "todo",
                "modified": MODIFIED,
                "description": "One todo by id, as an array (empty when the id is unknown)",
                "authorization": True,
                "controller": [ACCESS_KEY, TODOS, JSON_OUTPUT],
            },
            "create": {
                "identity": "create-todo",
                "modified": MODIFIED,
                "description": "Create a todo; answers its id",
                "authorization": True,
                "controller": [ACCESS_KEY, TODOS, JSON_OUTPUT],
            },
            "update": {
                "identity": "update-todo",
                "modified": MODIFIED,
                "description": "Change a todo's name or status",
                "authorization": True,
                "controller": [ACCESS_KEY, TODOS, JSON_OUTPUT],
            },
            "delete": {
                "identity": "delete-todo",
                "modified": MODIFIED,
                "description": "Delete a todo",
                "authorization": True,
                "controller": [ACCESS_KEY, TODOS, JSON_OUTPUT],
            },
        },
        "./services": {
            "list": {
                "identity": "services",
                "modified": MODIFIED,
                "description": "Machine-readable list of this API's services (no key needed)",
                "controller": [{"name": "generic-listServices", "version": "2.0"}, JSON_OUTPUT],
            },
        },
        "./devices": {
            "create": {
                "identity": "devices",
                "modified": MODIFIED,
                "description": "Register a device and receive its id (no key needed)",
                "controller": [DEVICE_PROFILE, JSON_OUTPUT],
            },
            "update": {
                "identity": "device",
                "modified": MODIFIED,
                "description": "Update the calling device's profile",
                "authorization": True,
                "controller": [ACCESS_KEY, DEVICE_PROFILE, JSON_OUTPUT],
            },
        },
    },
}
