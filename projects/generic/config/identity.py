"""Settings of the identity services (devices, signed keys, users); read through Shared.config.

``Shared.config("generic-identity.tokenLifetimes.passwordReset")`` and so on. Projects that need
other values subclass nothing: they change these attributes in an init module, or pass
``options`` per request in ``req.mia.user_service`` (maxDeviceCount, loginOnSignUp, salt).
"""
from __future__ import annotations

from core import Config

DAY = 24 * 3600


class IdentityConfig(Config):
    identity = "generic-identity"
    version = "1.0"

    # Signed keys: allowed clock skew in seconds (either direction) and the v2 nonce length.
    accessKey = {"window": 300, "nonceMinLength": 16, "nonceMaxLength": 64}

    # Seconds a token stays usable after its tokenIssueDate (mia.js: forever). "session" is the
    # deprecated generic-generateSession token of devices whose session is expireable.
    tokenLifetimes = {"passwordReset": 3600, "validate": 14 * DAY, "invalidate": 30 * DAY, "session": 600}

    # A user's login on a device: ``absolute`` seconds after it was issued, or ``idle`` seconds after
    # its last use, it is refused at request time (and generic-removeSessions deletes it).
    # ``touchAfter``: how stale lastUsed may get before a request writes it again.
    loginLifetime = {"absolute": 30 * DAY, "idle": 14 * DAY, "touchAfter": 60}

    # Failed logins: after ``maxFailures`` for one login (or ``maxFailuresPerIp`` from one client IP)
    # within ``window`` seconds, logins answer 429 TooManyFailedLogins with Retry-After for ``duration``.
    lockout = {"maxFailures": 5, "maxFailuresPerIp": 50, "window": 900, "duration": 900}

    # New passwords (sign-up, profile change, reset): length bounds, an optional regular expression
    # that must match (``pattern``), and never equal to the login or email.
    passwordPolicy = {"minLength": 8, "maxLength": 256, "pattern": None, "notEqualLogin": True}

    # argon2 runs in a bounded pool: at most ``concurrency`` hashes at once per process. A waiting login
    # holds a server thread, so at most ``maxWaiting`` wait (each at most ``queueTimeout`` seconds); any
    # other login answers 503 ServerBusy with Retry-After at once instead of starving the other routes.
    passwordHashing = {"concurrency": 2, "maxWaiting": 4, "queueTimeout": 2}

    # Device registration (generic-deviceProfile create) per client IP: ``maxRequests`` per ``interval`` minutes.
    deviceRegistration = {"interval": 1, "maxRequests": 60}

    # Defaults of req.mia.user_service["options"]. ``salt`` only matters for verifying legacy
    # mia.js md5 password hashes (new hashes are argon2id with a per-user salt).
    userService = {
        "maxDeviceCount": 10,
        "loginOnSignUp": False,
        "salt": "6sdsv2390n4v83nvl5umfd77gmlgl89ghnbvsacvk4po5mcslsfvnoip56bfdblwe67q3b2cdvk23vkadv",
    }

    # The Facebook Graph API used by generic-fbLoginProvider (tests point it at a local fake).
    facebook = {"graphUrl": "https://graph.facebook.com", "version": "v6.0", "fields": "name,id,email",
                "timeout": 5}
