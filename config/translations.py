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
    "ServerBusy": {"de": "Der Server ist gerade ausgelastet", "en": "I'm busy right now, sorry."},
    "ControllerTimeout": {"de": "Die Anfrage hat zu lange gedauert und wurde abgebrochen",
                          "en": "The request took too long and was stopped"},
    "AdditionalParamsNotAllowed": {"de": "Mehr Parameter in [0] angegeben als erlaubt: [1]",
                                   "en": "More parameters in [0] given than allowed: [1]"},
    # route-level group policies and WebSocket routes
    "GroupPolicyViolation": {"de": "Deine Gruppen erfüllen die Gruppenregel dieses Service nicht: [0]",
                             "en": "Your groups do not satisfy the group policy of this service: [0]"},
    "SessionMissing": {"de": "Für diesen Service musst du angemeldet sein", "en": "This service needs a session"},
    "UpgradeRequired": {"de": "Diese Adresse ist eine WebSocket-Route: öffne sie mit einem WebSocket-Client",
                        "en": "This is a WebSocket route: connect with a WebSocket client"},
}
