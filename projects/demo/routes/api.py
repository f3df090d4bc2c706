"""The public todos API of the demo (mia.js's routes/api.js): no authentication, two prefixes."""
from datetime import datetime

CHECK_ACCESS = {"name": "demo-checkAccess", "version": "1.0"}
TODOS = {"name": "demo-todos", "version": "1.0"}
JSON_OUTPUT = {"name": "generic-defaultResponse", "version": "1.0"}
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
                "modified": datetime(2015, 7, 14, 12, 0, 0),
                "description": "List todos (an empty collection is filled with five examples first)",
                "controller": [CHECK_ACCESS, TODOS, JSON_OUTPUT],
                "responseSchemes": {
                    "success": {"status": {"type": "Number"}, "response": [TODO_ITEM]},
                    "error": {"status": {"type": "Number"},
                              "errors": [{"code": {"type": "String"}, "msg": {"type": "String"}}]},
                },
            },
            "index": {
                "identity": "todo",
                "modified": datetime(2015, 7, 14, 12, 0, 0),
                "description": "One todo by id, as an array (empty when the id is unknown)",
                "controller": [TODOS, JSON_OUTPUT],
            },
            "create": {
                "identity": "create-todo",
                "modified": datetime(2015, 7, 14, 12, 0, 0),
                "description": "Create a todo; answers its id",
                "controller": [TODOS, JSON_OUTPUT],
            },
            "update": {
                "identity": "update-todo",
                "modified": datetime(2015, 7, 14, 12, 0, 0),
                "description": "Change a todo's name or status",
                "controller": [TODOS, JSON_OUTPUT],
            },
            "delete": {
                "identity": "delete-todo",
                "modified": datetime(2015, 7, 14, 12, 0, 0),
                "description": "Delete a todo",
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
                "modified": datetime(2015, 7, 14, 12, 0, 0),
                "description": "Machine-readable list of this API's services",
                "controller": [{"name": "generic-listServices", "version": "2.0"}, JSON_OUTPUT],
            },
        },
    },
}
