"""The demo's notification routes: queue a welcome mail and push, and look at a queued item.

Anonymous callers use ``/demo-notify/v1`` (the status never shows the recipient); a device with its
key uses the same routes under ``/demo-auth/v1`` (routes/notifications_owned.py) and sees the
recipient of the items it queued.
"""

WELCOME = {"name": "demo-welcome", "version": "1.0"}
JSON_OUTPUT = {"name": "generic-defaultResponse", "version": "1.0"}

routes = {
    "group": "demo",
    "name": "Demo notifications",
    "version": "1.0",
    "prefix": "/demo-notify/v1",
    "routes": {
        "./welcome": {
            "post": {
                "identity": "welcome",
                "description": "Queue a welcome mail (and a push when deviceId is given); answers the queued ids",
                "controller": [{**WELCOME, "function": "welcome"}, JSON_OUTPUT],
            },
        },
        "./notifications": {
            "index": {
                "identity": "notification",
                "description": "Where a queued notification is: pending, processing, fulfilled or rejected",
                "controller": [{**WELCOME, "function": "state"}, JSON_OUTPUT],
            },
        },
    },
}
