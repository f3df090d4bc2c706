"""Texts of the generic project (identity ``generic-translations``)."""
from core import Config


class GenericTranslations(Config):
    identity = "generic-translations"
    translations = {
        "ServiceIsDeprecated": {
            "de": "Dieser Service ist veraltet und wird bald entfernt. Bitte aktualisiere deine App.",
            "en": "This service is deprecated and will be removed soon. Please update your application.",
        },
        # generic-validateAccessKey
        "KeyInvalid": {"de": "Schlüssel ungültig, Zugriff verweigert", "en": "Key invalid, access denied"},
        "KeyExpired": {"de": "Der Schlüssel ist abgelaufen", "en": "Key is expired"},
        "DeviceIdInvalid": {"de": "Deine ID ist leer oder kürzer als 32 Zeichen.",
                            "en": "Your id is empty or less than 32 characters."},
        "KeyInvalidForGroup": {"de": "Schlüssel ungültig für diesen Service", "en": "Key invalid for this service"},
        "SignatureMethodInvalid": {"de": "Signaturmethode ungültig, Zugriff verweigert",
                                   "en": "Signature method invalid, access denied"},
        "TemporaryDisabled": {
            "de": "Dein Gerät ist vorübergehend gesperrt und darf diesen Service nicht nutzen",
            "en": "Your device is temporary disabled and not allowed to use this service"},
        "IPNotAllowed": {"de": "Diese IP-Adresse darf diesen Service nicht nutzen",
                         "en": "IP address is not allowed to access this service"},
        "RateLimitExceededForKey": {"de": "Anfragelimit für diesen Schlüssel überschritten",
                                    "en": "Rate limit exceeded for this key"},
        "NonceInvalid": {"de": "Nonce fehlt oder ist ungültig (16 bis 64 sichtbare ASCII-Zeichen)",
                         "en": "Nonce missing or invalid (16 to 64 visible ASCII characters)"},
        "NonceReused": {"de": "Diese Nonce wurde bereits verwendet", "en": "This nonce has already been used"},
        # generic-deviceProfile
        "DeviceIdDoesNotExist": {"de": "Diese Geräte-ID existiert nicht", "en": "DeviceId does not exist"},
        "DeviceIdExpired": {"de": "Die Geräte-ID ist ungültig oder wegen langer Inaktivität abgelaufen",
                            "en": "Given device id is not valid or expired due to long inactivity"},
        # deprecated session flow
        "AccessKeyInvalid": {"de": "Zugriffsschlüssel ungültig", "en": "Access key invalid"},
        "AccessKeyInvalidGroup": {"de": "Zugriffsschlüssel ungültig für diesen Service",
                                  "en": "Access key invalid for this service"},
        "NoIPDetermined": {"de": "Die IP-Adresse konnte nicht bestimmt werden",
                           "en": "The IP address could not be determined"},
        "SessionTokenNotValid": {"de": "Session ungültig oder abgelaufen", "en": "Session token not valid"},
        "SessionInvalidGroup": {"de": "Session ungültig für diesen Service",
                                "en": "Session invalid for this service"},
        # generic-users
        "InvalidEmailAddress": {"de": "Ungültige E-Mail-Adresse", "en": "Invalid email address"},
        "LoginAlreadyExists": {"de": "Benutzer existiert bereits", "en": "User already exists"},
        "InvalidCredentials": {"de": "Ungültige Zugangsdaten", "en": "Invalid user credentials"},
        "WrongOrMissingRequestParameter": {"de": "Ungültiges Token", "en": "Invalid token"},
        "InvalidPasswordResetToken": {"de": "Ungültiges Token zum Zurücksetzen des Passworts",
                                      "en": "Invalid password reset token"},
        "TokenExpired": {"de": "Dieses Token ist abgelaufen, bitte fordere ein neues an",
                         "en": "This token has expired, please request a new one"},
        "PreconditionFailedETag": {
            "de": "Das Profil wurde inzwischen geändert (ETag passt nicht), bitte neu laden",
            "en": "The profile was changed meanwhile (ETag does not match), please reload it"},
        "InvalidValidationToken": {"de": "Ungültiges Bestätigungstoken", "en": "Invalid validation token"},
        "InvalidInvalidationToken": {"de": "Ungültiges Token", "en": "Invalid invalidation token"},
        "EmailAddressIsNotValidated": {"de": "Die E-Mail-Adresse ist nicht bestätigt",
                                       "en": "Email address is not validated"},
        "NoUserIsLoggedIn": {"de": "Sie müssen sich zunächst einloggen.", "en": "You should login first."},
        "CannotRegisterToken": {
            "de": "Für dein Konto kann gerade kein Gerät angemeldet werden. Bitte versuche es später erneut.",
            "en": "Cannot register a new token for your user. You might want to try again later."},
        "ThirdPartyTokenInvalid": {"de": "Das Token des Anbieters ist ungültig",
                                   "en": "The login provider rejected the token"},
        # generic-validateJWT, generic-jwtTokens
        "TokenMissing": {"de": "Anmeldung nötig: sende Authorization: Bearer <Token>",
                         "en": "Authentication required: send Authorization: Bearer <token>"},
        "TokenInvalid": {"de": "Das Token ist ungültig", "en": "The token is invalid"},
        "TokenNotYetValid": {"de": "Das Token ist noch nicht gültig", "en": "The token is not valid yet"},
        "TokenAudienceInvalid": {"de": "Das Token ist nicht für diesen Dienst ausgestellt",
                                 "en": "The token was not issued for this service"},
        "TokenIssuerInvalid": {"de": "Das Token kommt nicht von einem bekannten Aussteller",
                               "en": "The token was not issued by a trusted issuer"},
        "TokenKeyUnknown": {"de": "Das Token ist mit einem unbekannten Schlüssel signiert",
                            "en": "The token is signed with an unknown key"},
        "TokenAlgorithmInvalid": {"de": "Das Token verwendet einen nicht erlaubten Algorithmus",
                                  "en": "The token uses an algorithm that is not allowed"},
        "RefreshTokenInvalid": {"de": "Das Refresh-Token ist ungültig", "en": "The refresh token is invalid"},
        "RefreshTokenExpired": {"de": "Das Refresh-Token ist abgelaufen, bitte melde dich neu an",
                                "en": "The refresh token has expired, please log in again"},
        "RefreshTokenReused": {
            "de": "Dieses Refresh-Token wurde schon benutzt; alle Sitzungen daraus sind beendet, "
                  "bitte melde dich neu an",
            "en": "This refresh token was already used; every session from it has ended, please log in again"},
        "ModelExpected": {"de": "Für eigene Profildaten wird ein Profilmodell benötigt",
                          "en": "Model expected!"},
    }
