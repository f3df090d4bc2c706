"""The demo's notification settings: connectors and templates (mia.js's ``notification-templates``).

SMTP points at a local development server (``python -m aiosmtpd -n -l 127.0.0.1:8025`` prints every
mail it gets). Nothing secret is kept here: in a real project set MIA_SMTP_HOST, MIA_SMTP_PORT,
MIA_SMTP_USER, MIA_SMTP_PASSWORD, MIA_APNS_KEY (or MIA_APNS_KEY_FILE), MIA_APNS_KEY_ID,
MIA_APNS_TEAM_ID and MIA_FCM_SERVICE_ACCOUNT in the process environment. Without an APNs key or an
FCM service account, pushes end ``rejected`` with the reason ApnsNotConfigured / FcmNotConfigured.
"""
from core import Config

WELCOME_HTML = ("<html><body><h1>Welcome, [name]!</h1><p>Thanks for trying <b>mia.py</b>. "
                "Your todo list is waiting at <a href='[url]'>[url]</a>.</p></body></html>")
WELCOME_HTML_DE = ("<html><body><h1>Willkommen, [name]!</h1><p>Danke, dass du <b>mia.py</b> ausprobierst. "
                   "Deine Todo-Liste wartet unter <a href='[url]'>[url]</a>.</p></body></html>")


class NotificationTemplates(Config):
    identity = "notification-templates"
    version = "1.0"
    group = "demo"
    notifications = {
        "defaultLanguage": "en",
        "connectors": {
            # A flat connector applies in every environment; mia.js's per-mode form also works:
            # "smtp": {"local": {...}, "production": {...}}.
            "smtp": {"host": "127.0.0.1", "port": 8025, "timeout": 10, "from": "mia.py demo <noreply@example.com>"},
            "apns": {"keyId": None, "teamId": None, "keyFile": None, "topic": "com.example.miademo",
                     "production": False},
            "fcm": {"serviceAccount": None},
        },
        "templates": {
            "en": {"welcome": {
                "mail": {"smtp": {"subject": "Welcome to the mia.py demo, [name]",
                                  "text": "Hi [name], thanks for trying mia.py. Your todo list: [url]",
                                  "html": WELCOME_HTML}},
                "push": {"apns": {"alert": {"title": "Welcome", "body": "Hi [name], your todos are waiting"},
                                  "badge": 1, "sound": "default", "payload": {"screen": "todos"}}},
            }},
            "de": {"welcome": {
                "mail": {"smtp": {"subject": "Willkommen bei der mia.py-Demo, [name]",
                                  "text": "Hallo [name], danke, dass du mia.py ausprobierst. Deine Todos: [url]",
                                  "html": WELCOME_HTML_DE}},
                "push": {"apns": {"alert": {"title": "Willkommen", "body": "Hallo [name], deine Todos warten"},
                                  "badge": 1, "sound": "default", "payload": {"screen": "todos"}}},
            }},
        },
    }
