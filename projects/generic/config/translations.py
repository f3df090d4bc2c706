"""Texts of the generic project (identity ``generic-translations``).

The first block is mia.js's generic-translations text for text, typos included ("verweitert",
"wengiger"): clients written against mia.js may compare messages. The second block holds the
codes mia.py added, for which mia.js had no text.
"""
from core import Config


class GenericTranslations(Config):
    identity = "generic-translations"
    translations = {
        "SessionInvalidGroup": {
            "de": "Der Zugriff auf diesen Service ist auf Grund von Session Restriktionen nicht gestattet",
            "en": "Session is not allowed to access this service due to group permissions"},
        "NoIPDetermined": {"de": "Zugriff verweigert. Ihre IP Adresse kann nicht ermittelt werden",
                           "en": "Access blocked. Can not determine your IP address"},
        "IPNotAllowed": {"de": "Zugriff auf diesen Service für diese IP Adresse verweigert",
                         "en": "IP address is not allowed to access this service"},
        "TemporaryDisabled": {
            "de": "Der Zugriff ist für dieses Device vorübergehend deaktiviert. Zugriff verweigert",
            "en": "Your device is temporary disabled and not allowed to use this service"},
        "SessionTokenEmpty": {
            "de": "Sessiontoken fehlt. Bitte setzen Sie das Feld session im Header mit einem gültigen Sessiontoken",
            "en": "Session token empty. Please submit session token in header field session"},
        "SessionTokenNotValid": {
            "de": "Sessiontoken ist ungültig. Bitte setzen Sie das Feld session im Header mit einem gültigen "
                  "Sessiontoken",
            "en": "Your session token is not valid"},
        "ExternalDataRequestError": {"de": "Unerwartetes Datenformat von externer API erhalten",
                                     "en": "Unexpected data structure received from external API"},
        "AccessKeyIsEmpty": {
            "de": "Accesskey fehlt. Bitte setzen Sie das Feld key im Header mit einem gültigen Accesskey",
            "en": "Your access key is empty. Please submit a valid access key in header field key"},
        "DeviceIdInvalid": {"de": "Id fehlt oder ist wengiger als 32 Zeichen lang.",
                            "en": "Your id is empty or less than 32 characters."},
        "AccessKeyInvalid": {
            "de": "Accesskey ist ungültig. Bitte setzen Sie einen gültigen Accesskey im Header im Feld key",
            "en": "Your access key is invalid. Please submit a valid access key in header field key"},
        "AccessKeyInvalidGroup": {
            "de": "Accesskey ist gültig aber der Zugriff auf diesen Service ist damit nicht erlaubt",
            "en": "Your access key is valid but not allowed for this service"},
        "SessionMismatch": {"de": "Änderungen an den Benutzerdaten sind mit dieser Session-Id nicht erlaubt",
                            "en": "You are not allowed to modify this data with the given session id"},
        "BodyDataIsEmpty": {
            "de": "Es wurden keinen Änderungen vorgenommen, da keine JSON Daten im Body gefunden werden konnten",
            "en": "Missing JSON data in body - nothing to update"},
        "DeviceIdDoesNotExist": {"de": "Device-Id existiert nicht", "en": "DeviceId does not exist"},
        "BadRequest": {"de": "Irgendwas stimmt nicht mit der Anfrage", "en": "Something is not ok with your request"},
        "Forbidden": {"de": "Du bist nicht berechtigt diesen Service zu verwenden",
                      "en": "You are not allowed to access this service"},
        "NotFound": {"de": "Nach was auch immer du suchst, hier ist es leider nicht",
                     "en": "Whatever you are looking for it is not here"},
        "InternalServerError": {"de": "Oops - irgendwas ist schief gelaufen",
                                "en": "Oops - I'm sorry but something went wrong"},
        "UnknownServiceGroupOrVersion": {"de": "Serviceverzeichnis kann nicht angezeigt werden",
                                         "en": "Group or version id not found to create services list"},
        "DeviceIdInvalidOrDoesNotExists": {
            "de": "Die Device-Id ist nicht gültig oder abgelaufen auf Grund längerer Inaktivität",
            "en": "Given device id is not valid or expired due to long inactivity"},
        "KeyInvalid": {"de": "Key ungültig, Zugriff verweitert", "en": "Key invalid, access denied"},
        "SignatureMethodInvalid": {"de": "Signatur Methode ungültig, Zugriff verweitert",
                                   "en": "Signature method invalid, access denied"},
        "KeyInvalidForGroup": {"de": "Key ist nicht gültig für diesen Service", "en": "Key invalid for this service"},
        "KeyExpired": {"de": "Key ist abgelaufen", "en": "Key is expired"},
        "InvalidCredentials": {"de": "Falsches Login oder Kennwort", "en": "Invalid user credentials"},
        "MaxDeviceNumberExceeded": {
            "de": "Maximale Anzahl Geräte überschritten. Bitte loggen Sie sich von einem anderen Gerät aus.",
            "en": "Maximum device number is exceeded. Please log off on one or more devices."},
        "LoginInvalid": {"de": "Login ungültig.", "en": "Login is invalid."},
        "NoUserIsLoggedIn": {"de": "Sie müssen sich zunächst einloggen.", "en": "You should login first."},
        "WrongOrMissingRequestParameter": {"de": "Request Parameter fehlt oder ist fehlerhaft",
                                           "en": "Missing request parameter"},
        "NotModified": {"de": "Der Ressourcenzustand hat sich nicht geändert", "en": "Not Modified"},
        "ETagPreconditionFailed": {"de": "If-Match header enthält kein gültiges ETag",
                                   "en": "If-Match header field is empty or contains expired ETag"},
        "ThirdPartyLoginIsNotAcceptable": {
            "de": "Dieses Dritt-Anbieter Konto kann für das Login nicht verwendet werden",
            "en": "Third party account is not acceptable"},
        "EmailAddressIsNotValidated": {
            "de": "Die Email adresse ist noch nicht validiert. Eine Validierungsemail wurde Ihnen zugeschickt. "
                  "Bitte versuchen Sie es noch einmal nachdem die Email Adresse validiert wurde.",
            "en": "Your provided e-mail address is not yet validated. Validation email has been sent to you. "
                  "Please try again after validating your e-mail."},
        "InvalidEmailAddress": {"de": "Email adresse ist ungültig", "en": "Invalid email address"},
        "InvalidPasswordResetToken": {"de": "Passwort Resettoken ist nicht gültig",
                                      "en": "Invalid password reset token"},
        "ServiceIsDeprecated": {
            "de": "Dieser Service is markiert als deprecated und der Service wird eingestellt werden. "
                  "Bitte verwenden Sie diesen Service nicht mehr.",
            "en": "This service is deprecated and will expire. Please do not use this service for new development"},
        "RateLimitExceededForKey": {"de": "Zugriffslimit erreicht für diesen Key",
                                    "en": "Rate limit exceeded for this key"},
        "LoginAlreadyExists": {"de": "Benutzer existiert bereits", "en": "User already exists"},
        # ---- codes mia.py added (no mia.js text exists)
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
        "DeviceIdExpired": {"de": "Die Device-Id ist nicht gültig oder abgelaufen auf Grund längerer Inaktivität",
                            "en": "Given device id is not valid or expired due to long inactivity"},
        "TokenExpired": {"de": "Dieses Token ist abgelaufen, bitte fordere ein neues an",
                         "en": "This token has expired, please request a new one"},
        "PreconditionFailedETag": {
            "de": "Das Profil wurde inzwischen geändert (ETag passt nicht), bitte neu laden",
            "en": "The profile was changed meanwhile (ETag does not match), please reload it"},
        "InvalidValidationToken": {"de": "Ungültiges Bestätigungstoken", "en": "Invalid validation token"},
        "InvalidInvalidationToken": {"de": "Ungültiges Token", "en": "Invalid invalidation token"},
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
        "TokenRevoked": {"de": "Diese Sitzung wurde beendet, bitte melde dich neu an",
                         "en": "This session has ended, please log in again"},
        "RefreshTokenRevoked": {"de": "Die Sitzungen dieses Kontos wurden beendet, bitte melde dich neu an",
                                "en": "The sessions of this account have ended, please log in again"},
        "ModelExpected": {"de": "Für eigene Profildaten wird ein Profilmodell benötigt",
                          "en": "Model expected!"},
    }
