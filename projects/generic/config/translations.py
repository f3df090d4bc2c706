"""Texts of the generic project (identity ``generic-translations``)."""
from core import Config


class GenericTranslations(Config):
    identity = "generic-translations"
    translations = {
        "ServiceIsDeprecated": {
            "de": "Dieser Service ist veraltet und wird bald entfernt. Bitte aktualisiere deine App.",
            "en": "This service is deprecated and will be removed soon. Please update your application.",
        },
    }
