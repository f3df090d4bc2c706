"""Exports of the OpenAPI document: JSON, YAML, and Markdown / HTML for people (like miqro's doc output).

    python server.py <env> docs --format json|yaml|md|html --out FILE [--host VHOST_ID]

The Markdown and HTML renderings list, per tag (route file name), every operation with its summary,
security, parameters with their rules, request body fields and responses. They are rendered from
the same document /docs serves, so every export says the same thing. The HTML is self-contained
(inline CSS, no external URL).
"""
from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

import yaml

from core.app.docs.openapi import build_documents, operations
from core.app.docs.versions import OPENAPI_VERSIONS
from core.shared import Shared

RULE_KEYS = ("format", "enum", "pattern", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems",
             "default", "nullable", "not")


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if isinstance(ref, str) and ref.startswith("#/"):
        node: Any = document
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return node if isinstance(node, dict) else {}
    return schema if isinstance(schema, dict) else {}


def type_label(schema: dict[str, Any]) -> str:
    """``string``, ``array of integer``, ``object``, ``Error`` (a $ref's name) ..."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    declared = schema.get("type", "any")
    if isinstance(declared, list):  # OpenAPI 3.1: ["string", "null"]
        declared = " or ".join(str(t) for t in declared if t != "null") or "null"
    kind = str(declared)
    if kind == "array":
        return f"array of {type_label(schema.get('items') or {})}"
    return kind


def rules_text(schema: dict[str, Any]) -> str:
    """The validation rules of a schema in one line: ``minLength 2, enum: a | b``."""
    parts: list[str] = []
    for key in RULE_KEYS:
        if key not in schema:
            continue
        value = schema[key]
        if key == "enum":
            parts.append("one of " + " | ".join(json.dumps(v) for v in value))
        elif key == "not":
            parts.append("not " + rules_text(value))
        elif key == "nullable":
            parts.append("may be null")
        else:
            parts.append(f"{key} {json.dumps(value)}")
    if isinstance(schema.get("type"), list) and "null" in schema["type"]:
        parts.append("may be null")
    items = schema.get("items")
    if isinstance(items, dict) and rules_text(items):
        parts.append(f"items: {rules_text(items)}")
    return ", ".join(parts)


def body_fields(document: dict[str, Any], schema: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    """Flattened body fields (``address.city``, ``items[].sku``) with type, required and rules."""
    schema = _resolve(document, schema)
    rows: list[dict[str, Any]] = []
    required = set(schema.get("required") or [])
    for name, prop in (schema.get("properties") or {}).items():
        prop = _resolve(document, prop)
        path = f"{prefix}{name}"
        rows.append({"name": path, "type": type_label(prop), "required": name in required,
                     "rules": rules_text(prop), "description": prop.get("description", "")})
        if prop.get("type") == "object" and prop.get("properties"):
            rows.extend(body_fields(document, prop, path + "."))
        items = prop.get("items")
        if prop.get("type") == "array" and isinstance(items, dict) and _resolve(document, items).get("properties"):
            rows.extend(body_fields(document, items, path + "[]."))
    return rows


def _operation_view(document: dict[str, Any], path: str, method: str, op: dict[str, Any]) -> dict[str, Any]:
    params = [{"name": p["name"], "in": p["in"], "type": type_label(p.get("schema") or {}),
               "required": bool(p.get("required")), "rules": rules_text(p.get("schema") or {}),
               "description": p.get("description", "")} for p in op.get("parameters", [])]
    content = (op.get("requestBody") or {}).get("content", {})
    media = next(iter(content), None)
    body = body_fields(document, content[media].get("schema") or {}) if media else []
    responses = []
    for status, response in op.get("responses", {}).items():
        schemas = [c.get("schema") or {} for c in (response.get("content") or {}).values()]
        responses.append({"status": status, "description": response.get("description", ""),
                          "schema": type_label(schemas[0]) if schemas else ""})
    security = [name for requirement in op.get("security", []) for name in requirement]
    policy = op.get("x-policy")
    policy_text = f"groups {', '.join(policy['groups'])} ({policy['groupPolicy']})" if policy else ""
    return {"method": method.upper(), "path": path, "summary": op.get("summary", ""), "id": op.get("operationId", ""),
            "deprecated": bool(op.get("deprecated")), "security": security, "parameters": params, "body": body,
            "media": media, "responses": responses, "messages": op.get("x-messages") or {}, "policy": policy_text}


def grouped(document: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(tag, operation views) in the document's tag order."""
    groups: dict[str, list[dict[str, Any]]] = {t["name"]: [] for t in document.get("tags", [])}
    sockets = [(path, "ws", item["x-websocket"]) for path, item in document.get("paths", {}).items()
               if isinstance(item.get("x-websocket"), dict)]
    found = operations(document) + sockets
    for path, method, op in found:
        for tag in op.get("tags") or ["default"]:
            groups.setdefault(tag, []).append(_operation_view(document, path, method, op))
    return [(tag, ops) for tag, ops in groups.items() if ops]


# ---------------------------------------------------------------------------------------- markdown
def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def scheme_text(scheme: dict[str, Any]) -> str:
    """``http bearer, JWT`` / ``apiKey in header `key``` (an http scheme has no ``in`` or ``name``)."""
    if scheme.get("type") == "http":
        kind = f"http {scheme.get('scheme', '')}".strip()
        return f"{kind}, {scheme['bearerFormat']}" if scheme.get("bearerFormat") else kind
    if scheme.get("type") == "apiKey":
        return f"apiKey in {scheme.get('in')} `{scheme.get('name')}`"
    return str(scheme.get("type"))


MESSAGE_LABELS = (("send", "Server sends"), ("receive", "Client may send"))


def to_markdown(document: dict[str, Any]) -> str:
    info = document.get("info", {})
    out = [f"# {info.get('title', 'API')}", "", str(info.get("description", "")), "",
           f"Version {info.get('version', '')} · OpenAPI {document.get('openapi', '')}", ""]
    schemes = document.get("components", {}).get("securitySchemes", {})
    if schemes:
        out += ["## Authentication", ""]
        out += [f"- **{name}** ({scheme_text(s)}): {s.get('description', '')}" for name, s in schemes.items()] + [""]
    for tag, ops in grouped(document):
        out += [f"## {tag}", ""]
        for op in ops:
            out += [f"### {op['method']} {op['path']}", ""]
            if op["summary"]:
                out += [op["summary"], ""]
            out += [f"Operation id: `{op['id']}`" + (" · **deprecated**" if op["deprecated"] else ""), ""]
            if op["security"]:
                out += ["Security: " + " or ".join(f"`{s}`" for s in op["security"])
                        + (f"; policy: {op['policy']}" if op["policy"] else ""), ""]
            out += [f"{label}: {_md(op['messages'][key])}" + "\n" for key, label in MESSAGE_LABELS
                    if op["messages"].get(key)]
            if op["parameters"]:
                out += ["| Parameter | In | Type | Required | Rules | Description |", "|---|---|---|---|---|---|"]
                out += [f"| `{p['name']}` | {p['in']} | {_md(p['type'])} | {'yes' if p['required'] else 'no'} | "
                        f"{_md(p['rules'])} | {_md(p['description'])} |" for p in op["parameters"]] + [""]
            if op["body"]:
                out += [f"Request body ({op['media']}):", "", "| Field | Type | Required | Rules | Description |",
                        "|---|---|---|---|---|"]
                out += [f"| `{f['name']}` | {_md(f['type'])} | {'yes' if f['required'] else 'no'} | "
                        f"{_md(f['rules'])} | {_md(f['description'])} |" for f in op["body"]] + [""]
            out += ["| Status | Codes | Body |", "|---|---|---|"]
            out += [f"| {r['status']} | {_md(r['description'])} | {_md(r['schema'])} |" for r in op["responses"]]
            out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------- html
_CSS = """body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#222;padding:0 1rem}
h2{border-bottom:2px solid #ddd;padding-bottom:.3rem;margin-top:2.5rem}
h3{font-family:monospace;background:#f4f6f8;padding:.5rem;border-left:4px solid #49cc90}
h3.deprecated{border-left-color:#aaa;text-decoration:line-through}
table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}
td,th{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f4f6f8}code{background:#f4f6f8;padding:0 .2rem}"""


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(document: dict[str, Any]) -> str:
    info = document.get("info", {})
    title = escape(str(info.get("title", "API")))
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>"
             f"<style>{_CSS}</style></head><body><h1>{title}</h1>",
             f"<p>{escape(str(info.get('description', '')))}</p>",
             f"<p>Version {escape(str(info.get('version', '')))} · OpenAPI {escape(document.get('openapi', ''))}</p>"]
    for tag, ops in grouped(document):
        parts.append(f"<h2>{escape(tag)}</h2>")
        for op in ops:
            css = ' class="deprecated"' if op["deprecated"] else ""
            parts.append(f"<h3{css}>{op['method']} {escape(op['path'])}</h3>")
            if op["summary"]:
                parts.append(f"<p>{escape(op['summary'])}</p>")
            parts.append(f"<p>Operation id: <code>{escape(op['id'])}</code>"
                         + (" · <strong>deprecated</strong>" if op["deprecated"] else "") + "</p>")
            if op["security"]:
                parts.append("<p>Security: " + " or ".join(f"<code>{escape(s)}</code>" for s in op["security"])
                             + (f"; policy: {escape(op['policy'])}" if op["policy"] else "") + "</p>")
            parts += [f"<p>{label}: {escape(op['messages'][key])}</p>" for key, label in MESSAGE_LABELS
                      if op["messages"].get(key)]
            if op["parameters"]:
                parts.append(_table(["Parameter", "In", "Type", "Required", "Rules", "Description"], [
                    [f"<code>{escape(p['name'])}</code>", escape(p["in"]), escape(p["type"]),
                     "yes" if p["required"] else "no", escape(p["rules"]), escape(p["description"])]
                    for p in op["parameters"]]))
            if op["body"]:
                parts.append(f"<p>Request body ({escape(str(op['media']))}):</p>")
                parts.append(_table(["Field", "Type", "Required", "Rules", "Description"], [
                    [f"<code>{escape(f['name'])}</code>", escape(f["type"]), "yes" if f["required"] else "no",
                     escape(f["rules"]), escape(f["description"])] for f in op["body"]]))
            parts.append(_table(["Status", "Codes", "Body"], [
                [escape(r["status"]), escape(r["description"]), escape(r["schema"])] for r in op["responses"]]))
    parts.append("</body></html>\n")
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------- cli
WRITERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "json": lambda doc: json.dumps(doc, indent=2, ensure_ascii=False) + "\n",
    "yaml": lambda doc: yaml.safe_dump(doc, sort_keys=False, allow_unicode=True),
    "md": to_markdown,
    "html": to_html,
}


def render(document: dict[str, Any], fmt: str) -> str:
    """The document in ``fmt`` (json, yaml, md or html)."""
    return WRITERS[fmt](document)


def main(app: Any, argv: list[str]) -> int:
    """``server.py <env> docs ...``: write one vhost's document; exit code 0 on success."""
    parser = argparse.ArgumentParser(prog="server.py <env> docs", description="Export the API documentation.")
    parser.add_argument("--format", choices=sorted(WRITERS), default="json")
    parser.add_argument("--out", help="file to write (default: standard output)")
    parser.add_argument("--host", default="*", help="vhost id whose document to export (default: host-less routes)")
    parser.add_argument("--openapi", choices=sorted(OPENAPI_VERSIONS),
                        help="OpenAPI version (default: the environment's openapiVersion, else 3.1.0)")
    args = parser.parse_args(argv)
    documents: dict[str, dict[str, Any]] = app.config["mia.docs"]
    if args.openapi and OPENAPI_VERSIONS[args.openapi] != next(iter(documents.values())).get("openapi"):
        environment = {**Shared.environment, "openapiVersion": args.openapi}
        documents = build_documents(app.config["mia.routes"], [h for h in documents if h != "*"], environment)
    if args.host not in documents:
        parser.error(f"unknown vhost id {args.host!r}; known: {', '.join(sorted(documents))}")
    text = render(documents[args.host], args.format)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"mia: wrote {args.format} API docs to {args.out}")
    else:
        print(text, end="")
    return 0
