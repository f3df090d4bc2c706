"""Which OpenAPI version the documents are written in: 3.1.0 by default, 3.0.3 on request.

Kept beside core/app/docs/openapi.py (which builds the document) because the choice is configuration:
the environment key ``openapiVersion`` or ``server.py <env> docs --openapi 3.0.3``. apispec writes
either version; :func:`upgrade_to_31` turns 3.0 spellings that reach a 3.1 document from outside
apispec (``swagger.options`` merged by the user) into JSON Schema 2020-12.
"""
from __future__ import annotations

from typing import Any

from core.errors import StartupError

OPENAPI_VERSION = "3.1.0"  # the default
OPENAPI_VERSIONS = {"3.1.0": "3.1.0", "3.1": "3.1.0", "3.0.3": "3.0.3", "3.0": "3.0.3"}


def openapi_version(environment: dict[str, Any], requested: Any = None) -> str:
    """``requested`` (the CLI option), else the environment's ``openapiVersion``, else 3.1.0."""
    value = requested or environment.get("openapiVersion") or OPENAPI_VERSION
    if str(value) not in OPENAPI_VERSIONS:
        raise StartupError(f"openapiVersion {value!r} is not supported; use 3.1.0 or 3.0.3")
    return OPENAPI_VERSIONS[str(value)]


def upgrade_to_31(node: Any) -> None:
    """3.0 spellings left in a 3.1 document (``swagger.options`` merges) in JSON Schema 2020-12 form.

    ``nullable: true`` -> ``"null"`` in the type list; ``exclusiveMinimum: true`` + ``minimum: n`` ->
    ``exclusiveMinimum: n`` (and the same for the maximum).
    """
    if isinstance(node, list):
        for item in node:
            upgrade_to_31(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("nullable") is True and "type" in node:
        types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        node["type"] = [*types, "null"] if "null" not in types else types
    if isinstance(node.get("nullable"), bool) and "type" in node:
        del node["nullable"]
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if node.get(exclusive) is True and bound in node:
            node[exclusive] = node.pop(bound)
        elif node.get(exclusive) is False:
            del node[exclusive]
    for key, value in node.items():
        if key not in ("enum", "default", "example", "const"):
            upgrade_to_31(value)
