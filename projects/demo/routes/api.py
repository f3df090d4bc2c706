"""The public todos API of the demo (mia.js's routes/api.js): no authentication, two prefixes."""
from datetime import UTC, datetime

CHECK_ACCESS = {"name": "demo-checkAccess", "version": "1.0"}
TODOS = {"name": "demo-todos", "version": "1.0"}
JSON_OUTPUT = {"name": "generic-defaultResponse", "version": "1.0"}
# mia.js's dates: new Date(2015, 7, 14, 12) is 14 August (JavaScript months count from 0), in UTC here
TODOS_MODIFIED = datetime(2015, 8, 14, 12, 0, 0, tzinfo=UTC)
SERVICES_MODIFIED = datetime(2015, 4, 5, 16, 0, 0, tzinfo=UTC)
TODO_ITEM = {
    "_id": {"type": "String", "desc": "24 hexadecimal characters"},
    "name": {"type": "String"},
    "status": {"type": "String", "allow": ["unchecked", "checked"]},
    "group": {"type": "String"},
    "created": {"type": "Date"},
    "lastModified": {"type": "Date"},
}

routes = {
    "group": "demo",
    "name": "Demo todos",
    "version": "1.0",
    "prefix": ["/demo/v1", "/demo/latest"],
    # "rateLimit": {"maxRequests": 1000, "interval": 5},  # as in mia.js: available, switched off
    "routes": {
        "./todo": {
            "list": {
                "identity": "todos",
                "modified": TODOS_MODIFIED,
                "description": "List todos",
                "controller": [CHECK_ACCESS, TODOS, JSON_OUTPUT],
                "responseSchemes": {
                    "success": {"status": {"type": "Number"}, "response": [TODO_ITEM]},
                    "error": {"status": {"type": "Number"},
                              "errors": [{"code": {"type": "String"}, "msg": {"type": "String"}}]},
                },
            },
            "index": {
                "identity": "todo",
                "modified": TODOS_MODIFIED,
                "description": "Get single todo",
                "controller": [TODOS, JSON_OUTPUT],
            },
            "create": {
                "identity": "create-todo",
                "modified": TODOS_MODIFIED,
                "description": "Create a todo item",
                "idempotent": {"retention": "24h"},  # Idempotency-Key: a retried create answers the first answer
                "controller": [TODOS, JSON_OUTPUT],
            },
            "update": {
                "identity": "update-todo",
                "modified": TODOS_MODIFIED,
                "description": "Update a todo item",
                "controller": [TODOS, JSON_OUTPUT],
            },
            "delete": {
                "identity": "delete-todo",
                "modified": TODOS_MODIFIED,
                "description": "Delete a todo item",
                "controller": [TODOS, JSON_OUTPUT],
            },
        },
        "./todo.html": {
            "list": {
                "identity": "todos-html",
                "description": "The todo list as an HTML page (output controller html-output)",
                "controller": [CHECK_ACCESS, {**TODOS, "function": "list"}, {"name": "html-output"}],
            },
        },
        "./services": {
            "list": {
                "identity": "services",
                "modified": SERVICES_MODIFIED,
                "description": "Services list of all available services",
                "controller": [{"name": "generic-listServices", "version": "2.0"}, JSON_OUTPUT],
            },
        },
    },
}
