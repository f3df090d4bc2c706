"""Texts of the demo (``req.mia.translator("demo-translations", key)``), English and German."""
from core import Config


class DemoTranslations(Config):
    identity = "demo-translations"
    version = "1.0"
    group = "demo"
    translations = {
        "SomethingHappend": {
            "en": "Something happened. Please try again later",
            "de": "Da ist etwas schiefgelaufen. Bitte versuche es später noch einmal",
        },
        "NothingToRemove": {
            "en": "Id does not exists so there is nothing to delete",
            "de": "Die Id existiert nicht, es gibt also nichts zu löschen",
        },
        "NothingToUpdate": {
            "en": "Id does not exists so there is nothing to update",
            "de": "Die Id existiert nicht, es gibt also nichts zu ändern",
        },
    }
