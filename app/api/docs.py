"""The interface's own documents: OpenAPI, AsyncAPI, and the reference page that shows both."""

import re
from pathlib import Path

from flask import abort, current_app, jsonify, render_template, send_from_directory
from markupsafe import Markup, escape

from app.api import bp
from app.schemas import asyncapi, openapi
from app.schemas.http import HTML, operation
from app.schemas.rest import AssetPath

# Swagger UI comes from npm (package-lock.json pins it), served from node_modules
# like the panel's socket.io-client: the page never depends on a CDN.
ROOT = Path(__file__).resolve().parents[2]
ASSETS = {
    "swagger-ui.css": ROOT / "node_modules" / "swagger-ui-dist",
    "swagger-ui-bundle.js": ROOT / "node_modules" / "swagger-ui-dist",
    "docs.js": Path(__file__).resolve().parent / "docs_assets",
    "docs.css": Path(__file__).resolve().parent / "docs_assets",
}
# Swagger UI runs without inline scripts or styles: the panel's strict policy holds.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


@bp.get("/openapi.json")
@operation(responses={200: dict}, common_errors=False)
def openapi_document():
    """The OpenAPI document of the REST API and the n8n webhooks, generated from their models."""
    return jsonify(openapi.document(current_app._get_current_object()))


@bp.get("/asyncapi.json")
@operation(responses={200: dict}, common_errors=False)
def asyncapi_document():
    """The AsyncAPI 3 document of the Socket.IO events, both ways, with acks and refusals."""
    return jsonify(asyncapi.document(current_app._get_current_object()))


@bp.get("/docs")
@operation(responses={200: HTML}, common_errors=False)
def reference_page():
    """The readable reference: the REST API (Swagger UI) and the Socket.IO events."""
    document = asyncapi.document(current_app._get_current_object())
    response = current_app.make_response(
        render_template("api/docs.html", asyncapi=document, operations=socket_operations(document))
    )
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@bp.get("/docs/assets/<name>")
@operation(path=AssetPath, responses={200: "*/*"}, errors=(404,), common_errors=False)
def docs_asset(name: str):
    """A file of the reference page (Swagger UI's build, the page's script and style)."""
    if name not in ASSETS:
        abort(404)
    return send_from_directory(ASSETS[name], name, max_age=3600)


@bp.app_template_filter("code_spans")
def code_spans(text: str) -> Markup:
    """The documents' `backticks` as <code>, everything else escaped."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def socket_operations(document: dict) -> list[dict]:
    """The AsyncAPI operations as the page lists them: name, payload rows, ack."""
    schemas = document["components"]["schemas"]
    found = []
    for operation_ in document["operations"].values():
        name = operation_["messages"][0]["$ref"].rsplit("/", 1)[1]
        payload = document["components"]["messages"][name]["payload"]
        found.append({**operation_, "name": name, "payload": _payload(payload, schemas)})
    return found


def _payload(schema: dict, schemas: dict) -> dict:
    schema = _resolved(schema, schemas)
    required = set(schema.get("required", ()))
    rows = [
        {
            "key": key,
            "type": _type_name(field, schemas),
            "required": key in required,
            "description": field.get("description", ""),
        }
        for key, field in schema.get("properties", {}).items()
    ]
    return {"rows": rows, "type": _type_name(schema, schemas)}


def _resolved(schema: dict, schemas: dict) -> dict:
    if "$ref" in schema:
        return schemas[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _type_name(schema: dict, schemas: dict) -> str:
    """A short readable type: "integer", "string or null", "INBOUND | OUTBOUND"..."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    if "anyOf" in schema:
        return " or ".join(_type_name(option, schemas) for option in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(str(value) for value in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = schema.get("type", "any")
    if kind == "object" and not schema.get("properties"):
        return "{} (empty object)" if schema.get("additionalProperties") is False else "object"
    if schema.get("exclusiveMinimum") == 0:
        kind = f"positive {kind}"
    return f"{kind} ({schema['format']})" if "format" in schema else kind
