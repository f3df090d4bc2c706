"""The generic services end to end, mounted only in environment ``test`` (mia.js's testRoutes.js).

Prefix ``/api/tests/generic/v1``, group ``generic`` (the seeded ``generic`` secret signs for it).
The user routes use generic-validateAccessKey (mia.js's test routes used the deprecated session
flow, which stays available at ``./devices/:id/sessions`` and ``./session/ping``).
"""

KEY = {"name": "generic-validateAccessKey", "version": "1.0"}
KEY_IN_QUERY = {"name": "generic-validateAccessKey", "version": "1.0", "function": "queryParameters"}
OUT = {"name": "generic-defaultResponse", "version": "1.0"}
LOGGED_IN = {"name": "generic-validateUserLogin", "version": "1.0"}
OPTIONAL_LOGIN = {"name": "generic-evaluateOptionalUserLogin", "version": "1.0"}


def users(function: str) -> dict[str, str]:
    return {"name": "generic-users", "version": "1.0", "function": function}


routes = {
    "group": "generic",
    "name": "Generic services (tests)",
    "version": "1.0",
    "environment": ["test"],
    "prefix": "/api/tests/generic/v1",
    "routes": {
        "./devices": {
            "create": {"identity": "test-devices", "controller": [{"name": "generic-deviceProfile"}, OUT]},
            "update": {"identity": "test-device", "authorization": True,
                       "controller": [KEY, {"name": "generic-deviceProfile"}, OUT]},
        },
        "./ping": {
            "get": {"identity": "test-ping", "authorization": True, "controller": [KEY, OUT]},
            "post": {"identity": "test-ping-post", "authorization": True, "controller": [KEY, OUT]},
            "put": {"identity": "test-ping-text", "authorization": True, "bodyParser": {"type": "text"},
                    "controller": [KEY, OUT]},
        },
        "./ping/query": {
            "get": {"identity": "test-ping-query", "authorization": True, "controller": [KEY_IN_QUERY, OUT]},
        },
        "./devices/:id/sessions": {
            "post": {"identity": "test-sessions", "deprecated": True,
                     "controller": [{"name": "generic-accessKeyService"}, {"name": "generic-generateSession"}, OUT]},
        },
        "./session/ping": {
            "get": {"identity": "test-session-ping", "deprecated": True,
                    "controller": [{"name": "generic-validateSession"}, OUT]},
        },
        "./users/me": {
            "post": {"identity": "test-signUp", "authorization": True,
                     "controller": [KEY, users("setParametersForSignup"), users("signUp"), OUT]},
            "get": {"identity": "test-getProfile", "authorization": True,
                    "controller": [KEY, LOGGED_IN, users("getProfile"), OUT]},
            "put": {"identity": "test-updateProfile", "authorization": True,
                    "controller": [KEY, LOGGED_IN, users("updateProfile"), OUT]},
            "del": {"identity": "test-deleteAccount", "authorization": True,
                    "controller": [KEY, LOGGED_IN, users("deleteAccount"), OUT]},
        },
        "./users/me/optional": {
            "get": {"identity": "test-optionalLogin", "authorization": True,
                    "controller": [KEY, OPTIONAL_LOGIN, users("getUserAccountResponse"), OUT]},
        },
        "./users/me/login/native": {
            "post": {"identity": "test-login", "authorization": True, "controller": [KEY, users("login"), OUT]},
        },
        "./users/me/logout": {
            "post": {"identity": "test-logout", "authorization": True, "controller": [KEY, users("logout"), OUT]},
        },
        "./users/me/logout-everywhere": {
            "post": {"identity": "test-logoutEverywhere", "authorization": True,
                     "controller": [KEY, LOGGED_IN, users("logoutEverywhere"), OUT]},
        },
        "./users/me/devices/:deviceId": {
            "del": {"identity": "test-removeDevice", "authorization": True,
                    "controller": [KEY, LOGGED_IN, users("removeDevice"), OUT]},
        },
        "./users/me/requestPasswordReset": {
            "post": {"identity": "test-requestPasswordReset", "authorization": True,
                     "controller": [KEY, users("requestPasswordReset"), OUT]},
        },
        "./users/me/resetPassword": {
            "post": {"identity": "test-resetPassword", "controller": [users("resetPassword"), OUT]},
        },
        "./users/me/validate": {
            "post": {"identity": "test-validateUser", "controller": [users("validateUser"), OUT]},
        },
        "./users/me/invalidate": {
            "post": {"identity": "test-invalidateUser", "controller": [users("invalidateUser"), OUT]},
        },
    },
}
