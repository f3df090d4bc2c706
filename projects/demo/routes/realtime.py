"""JWT sessions and the live todo feed of the demo.

``POST /demo/v1/token`` logs a demo user in and answers an access token and a refresh token;
``POST /demo/v1/token/refresh`` rotates them (a reused refresh token ends the whole session family);
``GET /demo/v1/me`` needs a token whose groups include ``users``; ``ws /demo/v1/live/todos`` is a
WebSocket route: the handshake runs generic-validateJWT (header, or ``?access_token=`` for browsers)
and the same policy, then the socket receives every todo change.
"""

JWT = {"name": "generic-validateJWT", "function": "queryParameters"}
JSON_OUTPUT = {"name": "generic-defaultResponse"}
USERS_ONLY = {"groups": ["users"], "groupPolicy": "at_least_one"}

routes = {
    "group": "demo",
    "name": "Demo sessions and live feed",
    "version": "1.0",
    "prefix": "/demo/v1",
    "routes": {
        "./token": {
            "post": {
                "identity": "jwt-login",
                "description": "Log in with login and password; answers a JWT access token and a refresh token",
                "controller": [{"name": "demo-jwtLogin", "function": "login"}, JSON_OUTPUT],
            },
        },
        "./token/refresh": {
            "post": {
                "identity": "jwt-refresh",
                "description": "Trade a refresh token for a new pair (each refresh token works once)",
                "controller": [{"name": "generic-jwtTokens", "function": "refresh"}, JSON_OUTPUT],
            },
        },
        "./token/revoke": {
            "post": {
                "identity": "jwt-revoke",
                "description": "Log out: revoke the refresh token and every token rotated from the same login",
                "controller": [{"name": "generic-jwtTokens", "function": "revoke"}, JSON_OUTPUT],
            },
        },
        "./token/revoke-all": {
            "post": {
                "identity": "jwt-revoke-all",
                "description": "Log out everywhere: every session of the token's account ends (JWTs, refresh "
                               "tokens, device logins)",
                "controller": [{"name": "generic-validateJWT"}, {"name": "generic-jwtTokens", "function": "revokeAll"},
                               JSON_OUTPUT],
            },
        },
        "./me": {
            "get": {
                "identity": "jwt-me",
                "description": "The session of the bearer token (needs the group 'users')",
                "controller": [{"name": "generic-validateJWT"}, {"name": "demo-jwtLogin", "function": "me"},
                               JSON_OUTPUT],
                "policy": USERS_ONLY,
            },
        },
        "./live/todos": {
            "ws": {
                "identity": "todo-live",
                "description": "Live feed of todo changes: {event: created|updated|deleted, todo}",
                "controller": [JWT],
                "policy": USERS_ONLY,
                "handler": {"name": "demo-todoFeed"},
                "maxMessageSize": "1kb",
            },
        },
    },
}
