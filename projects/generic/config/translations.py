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
        # account protection (generic-loginProtection, generic-users)
        "TooManyFailedLogins": {"de": "Zu viele fehlgeschlagene Anmeldungen, bitte später erneut versuchen",
                                "en": "Too many failed logins, try again later"},
        "PasswordPolicy": {"de": "Das Passwort erfüllt die Passwortregeln nicht",
                           "en": "The password does not meet the password policy"},
        "StaticKeyCannotLogin": {
            "de": "Mit einem statischen Schlüssel ist keine Benutzeranmeldung möglich; signiere mit dem App-Secret",
            "en": "A static key cannot hold a user login; sign requests with the app secret instead"},
        "ServerBusy": {"de": "Der Server ist ausgelastet, bitte später erneut versuchen",
                       "en": "The server is busy, try again later"},
        "DeviceRegistrationLimit": {"de": "Zu viele neue Geräte von dieser Adresse",
                                    "en": "Too many new devices from this address"},
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
        "ModelExpected": {"de": "Für eigene Profildaten wird ein Profilmodell benötigt",
                          "en": "Model expected!"},
    }
