"""User accounts of the demo: sign-up, login, logout, profile (generic-users with a custom profile model).

Every route needs a registered, signing device (generic-validateAccessKey): a login attaches the
device to the account. The custom profile fields (name, phone) are validated by
``demo-userProfile-model`` and answered under ``response.profile``.
"""
from datetime import UTC, datetime

ACCESS_KEY = {"name": "generic-validateAccessKey"}
USER_LOGIN = {"name": "generic-validateUserLogin"}
PROFILE = "demo-userProfile"
USERS = "generic-users"
JSON_OUTPUT = {"name": "generic-defaultResponse"}
MODIFIED = datetime(2015, 7, 21, 12, 0, 0, tzinfo=UTC)

routes = {
    "group": "demo",
    "name": "Demo users",
    "version": "1.0",
    "prefix": "/demo-auth/v1",
    "routes": {
        "./users/me": {
            "post": {
                "identity": "signUp",
                "modified": MODIFIED,
                "description": "Sign up (and log this device in)",
                "authorization": True,
                "controller": [
                    ACCESS_KEY,
                    {"name": PROFILE, "function": "prepareParametersForSignup"},
                    {"name": USERS, "function": "setParametersForSignup"},
                    {"name": USERS, "function": "signUp"},
                    JSON_OUTPUT,
                ],
            },
            "get": {
                "identity": "getProfile",
                "modified": MODIFIED,
                "description": "The logged-in user's account and profile (ETag / If-None-Match)",
                "authorization": True,
                "controller": [ACCESS_KEY, USER_LOGIN, {"name": USERS, "function": "getProfile"}, JSON_OUTPUT],
            },
            "put": {
                "identity": "updateProfile",
                "modified": MODIFIED,
                "description": "Change login, email, password or profile fields (send If-Match: <ETag>)",
                "authorization": True,
                "controller": [
                    ACCESS_KEY,
                    USER_LOGIN,
                    {"name": PROFILE, "function": "updateProfile"},
                    {"name": USERS, "function": "updateProfile"},
                    JSON_OUTPUT,
                ],
            },
            "del": {
                "identity": "deleteAccount",
                "modified": MODIFIED,
                "description": "Delete the logged-in user's account",
                "authorization": True,
                "controller": [ACCESS_KEY, USER_LOGIN, {"name": USERS, "function": "deleteAccount"}, JSON_OUTPUT],
            },
        },
        "./users/me/login": {
            "post": {
                "identity": "login",
                "modified": MODIFIED,
                "description": "Log this device in",
                "authorization": True,
                "controller": [
                    ACCESS_KEY,
                    {"name": PROFILE, "function": "prepareOptions"},
                    {"name": USERS, "function": "login"},
                    JSON_OUTPUT,
                ],
            },
        },
        "./users/me/logout-everywhere": {
            "post": {
                "identity": "logoutEverywhere",
                "modified": MODIFIED,
                "description": "End every session of the account: device logins (this one too), JWTs, refresh tokens",
                "authorization": True,
                "controller": [ACCESS_KEY, {"name": PROFILE, "function": "prepareOptions"}, USER_LOGIN,
                               {"name": USERS, "function": "logoutEverywhere"}, JSON_OUTPUT],
            },
        },
        "./users/me/devices/:deviceId": {
            "del": {
                "identity": "removeDevice",
                "modified": MODIFIED,
                "description": "Take a device off the account; every JWT and other device login ends too",
                "authorization": True,
                "controller": [ACCESS_KEY, {"name": PROFILE, "function": "prepareOptions"}, USER_LOGIN,
                               {"name": USERS, "function": "removeDevice"}, JSON_OUTPUT],
            },
        },
        "./users/me/password-reset": {
            "post": {
                "identity": "requestPasswordReset",
                "modified": MODIFIED,
                "description": "Ask for a password reset token (a project mails it; always 200)",
                "authorization": True,
                "controller": [ACCESS_KEY, {"name": PROFILE, "function": "prepareOptions"},
                               {"name": USERS, "function": "requestPasswordReset"}, JSON_OUTPUT],
            },
        },
        "./users/me/password": {
            "post": {
                "identity": "resetPassword",
                "modified": MODIFIED,
                "description": "Set a new password with a reset token; every session of the account ends",
                "controller": [{"name": USERS, "function": "resetPassword"}, JSON_OUTPUT],
            },
        },
        "./users/me/logout": {
            "post": {
                "identity": "logout",
                "modified": MODIFIED,
                "description": "Log this device out",
                "authorization": True,
                "controller": [
                    ACCESS_KEY,
                    {"name": PROFILE, "function": "prepareOptions"},
                    {"name": USERS, "function": "logout"},
                    JSON_OUTPUT,
                ],
            },
        },
    },
}
