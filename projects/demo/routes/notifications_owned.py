"""The demo's notification routes behind generic-validateAccessKey: the device that queues owns the item.

``GET /demo-auth/v1/notifications/:id`` shows the recipient to that device only; any other device
gets 404, as for an unknown id.
"""

ACCESS_KEY = {"name": "generic-validateAccessKey", "version": "1.0"}
WELCOME = {"name": "demo-welcome", "version": "1.0"}
JSON_OUTPUT = {"name": "generic-defaultResponse", "version": "1.0"}

routes = {
    "group": "demo",
    "name": "Demo notifications with a key",
    "version": "1.0",
    "prefix": "/demo-auth/v1",
    "routes": {
        "./welcome": {
            "post": {
                "identity": "welcome-owned",
                "description": "Queue a welcome mail owned by the calling device; answers the queued ids",
                "authorization": True,
                "controller": [ACCESS_KEY, {**WELCOME, "function": "welcome"}, JSON_OUTPUT],
            },
        },
        "./notifications": {
            "index": {
                "identity": "notification-owned",
                "description": "State and recipient of a notification this device queued",
                "authorization": True,
                "controller": [ACCESS_KEY, {**WELCOME, "function": "state"}, JSON_OUTPUT],
            },
        },
    },
}
