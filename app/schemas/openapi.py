"""GET /api/openapi.json: the OpenAPI 3.1 document, generated from the declared operations.

Every route of the app that carries an `@operation` declaration (app/schemas/http.py)
is documented; tests/test_openapi.py checks that no route lacks one, validates
the document, and runs schemathesis against it.
"""

import re

from flask import Flask

from app.schemas.common import ErrorBody
from app.schemas.http import Operation
from app.schemas.json_schema import component_schemas, properties
from app.webhooks.verification import (
    SECRET_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_TOLERANCE_SECONDS,
    TIMESTAMP_HEADER,
)

STATUS_TEXT = {
    200: "OK",
    201: "Created",
    400: "Bad input; `error.field` names the field",
    401: "Missing, invalid, expired or revoked token (or webhook credentials)",
    403: "Not yours, wrong role, or inactive user",
    404: "Not found",
    409: "Conflict",
    206: "Partial content (a Range request)",
    413: "Body larger than 64 KiB (a file: larger than its type's limit)",
    416: "The requested range is outside the file",
    429: "Rate limited",
    502: "A file to download could not be fetched; retry later",
    503: "A dependency (database, Redis) is down; retry later",
}

SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (access token)"},
    "refreshToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (refresh token)"},
    "refreshCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "refresh_token_cookie",
        "description": "The refresh token a login with refreshCookie: true set (HttpOnly)",
    },
    "refreshCsrf": {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF-TOKEN",
        "description": "The value of the csrf_refresh_token cookie set with refresh_token_cookie",
    },
    "metricsToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "METRICS_TOKEN, required only when it is set",
    },
    "webhookSecret": {
        "type": "apiKey",
        "in": "header",
        "name": SECRET_HEADER,
        "description": "N8N_WEBHOOK_SECRET, compared in constant time",
    },
    "webhookSignature": {
        "type": "apiKey",
        "in": "header",
        "name": SIGNATURE_HEADER,
        "description": 'sha256=<hex HMAC-SHA256(N8N_WEBHOOK_SECRET, "<timestamp>.<raw body>")>',
    },
    "metaSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Hub-Signature-256",
        "description": "sha256=<hex HMAC-SHA256(WHATSAPP_APP_SECRET, raw body)>, sent by Meta",
    },
    "webhookTimestamp": {
        "type": "apiKey",
        "in": "header",
        "name": TIMESTAMP_HEADER,
        "description": f"Unix seconds, within ±{SIGNATURE_TOLERANCE_SECONDS} s of our clock",
    },
}

DESCRIPTION = """REST API and n8n webhooks of the WhatsApp inbox.

Keys are camelCase (the n8n webhooks' are snake_case, as n8n sends them).
Errors are `{"error": {"code", "message", "field"?}}`; a 400 names the bad field.
Authenticate with `Authorization: Bearer <accessToken>` from `POST /api/auth/login`.
The Socket.IO events are described in `/api/asyncapi.json`; both in `/api/docs`.
"""


def _operations(app: Flask):
    """(path, method, Operation) of every declared route, in a stable order."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        declared = getattr(app.view_functions[rule.endpoint], "__operation__", None)
        if declared is None:
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield path, method.lower(), declared


def _parameters(declared: Operation) -> list[dict]:
    found = []
    for where, model in (("path", declared.path), ("query", declared.query)):
        if model is None:
            continue
        fields, required = properties(model)
        for name, schema in fields.items():
            parameter = {"name": name, "in": where, "required": where == "path" or name in required}
            if "description" in schema:
                parameter["description"] = schema.pop("description")
            if where == "query":
                parameter["allowEmptyValue"] = True  # sent empty, it counts as absent
            found.append({**parameter, "schema": schema})
    return found


def _content(schema: dict, media_type: str = "application/json") -> dict:
    return {media_type: {"schema": schema}}


def _responses(declared: Operation, refs: dict) -> dict:
    documented = {}
    for status, kind in sorted(declared.responses.items()):
        if isinstance(kind, str):  # a media type: a page or a file
            content = _content({"type": "string"}, kind)
        else:
            content = _content(refs[kind, "serialization"])
        documented[str(status)] = {"description": STATUS_TEXT[status], "content": content}
    for status in declared.errors:
        documented.setdefault(
            str(status),
            {
                "description": STATUS_TEXT[status],
                "content": _content(refs[ErrorBody, "serialization"]),
            },
        )
    return documented


def _operation_object(path: str, method: str, declared: Operation, refs: dict) -> dict:
    found = {"tags": [declared.tag], "summary": declared.summary}
    if declared.description:
        found["description"] = declared.description
    found["operationId"] = (
        f"{method}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}"
    )
    if declared.security:
        found["security"] = list(declared.security)
    if parameters := _parameters(declared):
        found["parameters"] = parameters
    if declared.body is not None:
        found["requestBody"] = {
            "required": True,
            "content": _content(refs[declared.body, "validation"]),
        }
    if declared.multipart is not None:
        found.setdefault("requestBody", {"required": True, "content": {}})
        found["requestBody"]["content"].update(
            _content(refs[declared.multipart, "validation"], "multipart/form-data")
        )
    found["responses"] = _responses(declared, refs)
    return found


def _schema_inputs(operations) -> list:
    types = {(ErrorBody, "serialization"): None}
    for _, _, declared in operations:
        if declared.body is not None:
            types[declared.body, "validation"] = None
        if declared.multipart is not None:
            types[declared.multipart, "validation"] = None
        for kind in declared.responses.values():
            if not isinstance(kind, str):
                types[kind, "serialization"] = None
    return list(types)


def build(app: Flask) -> dict:
    """The OpenAPI document of the app's declared routes."""
    operations = list(_operations(app))
    refs, components = component_schemas(_schema_inputs(operations))
    paths: dict[str, dict] = {}
    for path, method, declared in operations:
        paths.setdefault(path, {})[method] = _operation_object(path, method, declared, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "WhatsApp inbox backend", "version": "1.0.0", "description": DESCRIPTION},
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": SECURITY_SCHEMES},
    }


def document(app: Flask) -> dict:
    """The document, built once per app (its routes do not change after start-up)."""
    if "openapi_document" not in app.extensions:
        app.extensions["openapi_document"] = build(app)
    return app.extensions["openapi_document"]
