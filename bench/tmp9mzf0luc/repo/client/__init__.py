"""The client side of signed APIs: what a mobile app or a script uses to call this server.

Kept apart from ``core`` (the server) because it is the other party of the protocol: it imports
nothing from the server and needs only the standard library, so it can be copied into a script
as it is. The server's verifier (projects/generic/libs/access_key_auth.py) imports the same
signing functions, so the two sides cannot drift apart.
"""
from client.mia_client import MiaClient, Reply
from client.signing import (
    V2_METHOD,
    is_json_content_type,
    new_nonce,
    request_target,
    timestamp_now,
    v1_key,
    v1_signature,
    v2_canonical,
    v2_headers,
    v2_signature,
)

__all__ = [
    "V2_METHOD", "MiaClient", "Reply", "is_json_content_type", "new_nonce", "request_target", "timestamp_now",
    "v1_key", "v1_signature", "v2_canonical", "v2_headers", "v2_signature",
]
