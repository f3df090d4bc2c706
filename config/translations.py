"""System texts (group ``system``) for error entries, in every language we ship.

The entries mia.js's ``config/translations.js`` has (``Gone``, ``ExternalDataRequestError``,
``InternalServerError``, ``BadRequest``, ``Forbidden``, ``NotFound``, ``RateLimitExceeded``) are
its texts, character for character. The others are statuses mia.py answers and mia.js did not.
"""

translations = {
    # mia.js's config/translations.js
    "Gone": {"de": "Diese Ressource gibt es nicht mehr oder hat nie gegeben. Versuche es mit einer anderen.",
             "en": "This resource is gone or never was there. Try another one."},
    "ExternalDataRequestError": {"de": "Unerwartetes Datenformat von externer API erhalten",
                                 "en": "Unexpected data structure received from external API"},
    "InternalServerError": {"de": "Oops - irgendwas ist schief gelaufen",
                            "en": "Oops - I'm sorry but something went wrong"},
    "BadRequest": {"de": "Irgendwas stimmt nicht mit der Anfrage", "en": "Something is not ok with your request"},
    "Forbidden": {"de": "Du bist nicht berechtigt diesen Service zu verwenden",
                  "en": "You are not allowed to access this service"},
    "NotFound": {"de": "Nach was auch immer du suchst, hier ist es leider nicht",
                 "en": "Whatever you are looking for it is not here"},
    "RateLimitExceeded": {"de": "Zugriffslimit erreicht", "en": "Rate limit exceeded"},
    # mia-js-core's built-in English for 401 (mia.js had no German: the Forbidden text is used)
    "Unauthorized": {"de": "Du bist nicht berechtigt diesen Service zu verwenden",
                     "en": "You are not allowed to access this service"},
    # statuses mia.py adds
    "MethodNotAllowed": {"de": "Diese Methode ist für diese Adresse nicht erlaubt",
                         "en": "This method is not allowed for this resource"},
    "PreconditionFailed": {"de": "Eine Vorbedingung ist nicht erfüllt", "en": "A precondition failed"},
    "PayloadTooLarge": {"de": "Der Inhalt der Anfrage ist zu groß", "en": "The request body is too large"},
    "RangeNotSatisfiable": {"de": "Der angeforderte Bereich liegt außerhalb der Datei",
                            "en": "The requested range is not satisfiable"},
    "UnsupportedMediaType": {"de": "Dieser Inhaltstyp wird nicht unterstützt",
                             "en": "This content type is not supported"},
    "ServiceUnavailable": {"de": "Der Dienst ist gerade nicht verfügbar, bitte später erneut versuchen",
                           "en": "The service is unavailable right now, please try again later"},
    "DatabaseUnavailable": {"de": "Die Datenbank ist gerade nicht erreichbar",
                            "en": "The database is not reachable right now"},
    "InsufficientStorage": {"de": "Der Datenspeicher kann nicht auf die Platte schreiben (voll); nichts wurde geändert",
                            "en": "The data store cannot write to its disk (full); nothing was changed"},
    "ServerBusy": {"de": "Der Server ist gerade ausgelastet", "en": "I'm busy right now, sorry."},
    "AdditionalParamsNotAllowed": {"de": "Mehr Parameter in [0] angegeben als erlaubt: [1]",
                                   "en": "More parameters in [0] given than allowed: [1]"},
    # route-level group policies and WebSocket routes
    "GroupPolicyViolation": {"de": "Deine Gruppen erfüllen die Gruppenregel dieses Service nicht: [0]",
                             "en": "Your groups do not satisfy the group policy of this service: [0]"},
    "SessionMissing": {"de": "Für diesen Service musst du angemeldet sein", "en": "This service needs a session"},
    "UpgradeRequired": {"de": "Diese Adresse ist eine WebSocket-Route: öffne sie mit einem WebSocket-Client",
                        "en": "This is a WebSocket route: connect with a WebSocket client"},
    # idempotent routes (core/http/idempotency.py)
    "IdempotencyKeyMissing": {"de": "Dieser Service braucht den Header Idempotency-Key",
                              "en": "This service needs an Idempotency-Key header"},
    "IdempotencyKeyInvalid": {"de": "Der Idempotency-Key muss 1 bis 255 sichtbare ASCII-Zeichen lang sein",
                              "en": "The Idempotency-Key must be 1 to 255 visible ASCII characters"},
    "IdempotencyKeyMismatch": {"de": "Dieser Idempotency-Key wurde schon für eine andere Anfrage verwendet",
                               "en": "This Idempotency-Key was already used for a different request"},
    # device attestation (projects/generic: generic-deviceAttestation)
    "AttestationInvalid": {"de": "Die Attestierung des Geräts ist ungültig",
                           "en": "The device attestation is not valid"},
    "AttestationRequired": {"de": "Dieser Service braucht eine Attestierung des Geräts",
                            "en": "This service needs a device attestation"},
    "DeviceNotAttested": {"de": "Dieser Service ist nur für attestierte Geräte",
                          "en": "This service is for attested devices only"},
    "AssertionRequired": {"de": "Dieser Service braucht den Header X-App-Attest-Assertion",
                          "en": "This service needs an X-App-Attest-Assertion header"},
    "AssertionInvalid": {"de": "Die Assertion des Geräts ist ungültig", "en": "The device assertion is not valid"},
    "IdempotencyKeyInUse": {"de": "Eine Anfrage mit diesem Idempotency-Key läuft noch: bitte später wiederholen",
                            "en": "A request with this Idempotency-Key is still running: retry later"},
}
