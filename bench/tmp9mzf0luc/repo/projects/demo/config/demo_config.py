"""The demo's settings, read through ``Shared.config("demo-config.<name>")`` (mia.js's demo-config)."""
from core import Config


class DemoConfig(Config):
    """Title of the HTML page and the todos the first list call seeds into an empty collection."""

    identity = "demo-config"
    version = "1.0"
    group = "demo"
    title = "mia.py demo: todos"
    # Inserted by the first GET /demo/v1/todo when the collection is empty (as mia.js did).
    todos = [
        {"name": "Eat some icecreme", "status": "unchecked"},
        {"name": "Go out for lunch", "status": "unchecked"},
        {"name": "Get some sleep", "status": "unchecked"},
        {"name": "Get this demo done", "status": "unchecked"},
        {"name": "Create own project", "status": "unchecked"},
    ]
    # Groups of the JWT sessions of demo users, by login ("*": everybody else).
    jwtGroups = {"ada": ["users", "editors"], "*": ["users"]}
