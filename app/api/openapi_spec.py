"""The OpenAPI 3 document of the REST API and the n8n webhooks (served by app/api/openapi.py).

Kept true by tests/test_openapi.py: its paths must equal the app's routes, and
schemathesis checks every response against it. Request schemas describe what
the server accepts exactly, so valid data is never refused with a 400 and
invalid data never accepted.
"""

from app.webhooks.verification import (
    SECRET_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_TOLERANCE_SECONDS,
    TIMESTAMP_HEADER,
)

INT_ID_MAX = 2**31 - 1  # users and conversations: 32-bit ids on PostgreSQL
BIGINT_MAX = 2**63 - 1
# A string the server accepts after str.strip(): one character Python does not
# count as whitespace. Spelled out, because JSON Schema's \s is not Python's.
PYTHON_WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# ...and no NUL anywhere, which PostgreSQL cannot store (refused with a 400).
NON_BLANK = f"^[^\\x00]*[^{PYTHON_WHITESPACE}\\x00][^\\x00]*$"
# 1 to 2**31 - 1 written in ASCII digits (leading zeros and surrounding whitespace allowed).
USER_ID_DIGITS = (
    f"^[{PYTHON_WHITESPACE}]*0*(?:[1-9][0-9]{{0,8}}|1[0-9]{{9}}|20[0-9]{{8}}|21[0-3][0-9]{{7}}"
    "|214[0-6][0-9]{6}|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}"
    f"|2147483[0-5][0-9]{{2}}|21474836[0-3][0-9]|214748364[0-7])[{PYTHON_WHITESPACE}]*$"
)

STATUS_TEXT = {
    200: "OK",
    201: "Created",
    400: "Bad input; `error.field` names the field",
    401: "Missing, invalid, expired or revoked token (or webhook credentials)",
    403: "Not yours, wrong role, or inactive user",
    404: "Not found",
    409: "Conflict",
    413: "Body larger than 64 KiB",
    429: "Rate limited (Retry-After says when to try again)",
    503: "A dependency (database, Redis) is down; retry later",
}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    """The schema, or JSON null (which the server takes as "absent" for optional fields)."""
    return {"anyOf": [schema, {"type": "null"}]}


def obj(required: dict, optional: dict | None = None) -> dict:
    """An object schema with these required and optional properties (extra keys allowed)."""
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
    }


def text(max_length: int, **extra) -> dict:
    """A string the server trims: at least one non-blank character, at most max_length."""
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": max_length,
        "pattern": NON_BLANK,
        **extra,
    }


def json_body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def responses(ok: dict, *errors: int) -> dict:
    """The documented answers: the success ones given, and each error with the error body."""
    documented = {
        str(status): {"description": STATUS_TEXT[status], "content": json_of(schema)}
        for status, schema in ok.items()
    }
    for status in (*errors, 413, 503):
        documented[str(status)] = {
            "description": STATUS_TEXT[status],
            "content": json_of(ref("Error")),
        }
    return documented


def json_of(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def query(name: str, schema: dict, description: str) -> dict:
    """An optional query parameter; sent empty (`?limit=`) it counts as absent."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "allowEmptyValue": True,
        "schema": schema,
        "description": description,
    }


def path_id(name: str, description: str, maximum: int = INT_ID_MAX) -> dict:
    schema = {"type": "integer", "minimum": 0, "maximum": maximum}
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


BEARER = [{"bearerAuth": []}]
REFRESH = [{"refreshToken": []}]
WEBHOOK = [{"webhookSecret": []}, {"webhookSignature": [], "webhookTimestamp": []}]

ISO_TIME = {"type": "string", "format": "date-time"}
# Unix seconds, or milliseconds above 1e11: anything from year 1 to year 9999.
UNIX_TIME = {
    "type": "number",
    "minimum": -62135596800,
    "exclusiveMaximum": 253402300800000,
}

SCHEMAS = {
    "Error": obj(
        {
            "error": obj(
                {"code": {"type": "string"}, "message": {"type": "string"}},
                {"field": {"type": "string"}},
            )
        }
    ),
    "User": obj(
        {
            "id": {"type": "integer"},
            "email": {"type": "string"},
            "name": {"type": "string"},
            "role": {"type": "string", "enum": ["ADMIN", "USER"]},
        }
    ),
    "Login": obj({"email": text(255), "password": {"type": "string", "minLength": 1}}),
    "Tokens": obj(
        {"accessToken": {"type": "string"}, "refreshToken": {"type": "string"}, "user": ref("User")}
    ),
    "AccessToken": obj({"accessToken": {"type": "string"}}),
    "Success": obj({"success": {"type": "boolean", "enum": [True]}}),
    "Conversation": obj(
        {
            "id": {"type": "integer"},
            "userId": {"type": "integer"},
            "customerPhone": {"type": "string"},
            "customerName": {"type": "string"},
            "lastMessage": nullable({"type": "string"}),
            "lastMessageAt": nullable(ISO_TIME),
            "unreadCount": {"type": "integer", "minimum": 0},
        }
    ),
    "Message": obj(
        {
            "id": {"type": "string"},
            "conversationId": {"type": "integer"},
            "userId": {"type": "integer"},
            "customerName": {"type": "string"},
            "customerPhone": {"type": "string"},
            "messageContent": {"type": "string"},
            "messageType": {"type": "string"},
            "direction": {"type": "string", "enum": ["INBOUND", "OUTBOUND"]},
            "timestamp": ISO_TIME,
            "isRead": {"type": "boolean"},
        },
        {
            "readBy": nullable({"type": "integer"}),
            "readAt": nullable(ISO_TIME),
            "status": nullable(
                {"type": "string", "enum": ["pending", "sent", "delivered", "read", "failed"]}
            ),
            "error": nullable({"type": "string"}),
        },
    ),
    "Reply": obj(
        {"content": text(4096)},
        {
            "clientMessageId": text(
                64, description="Idempotency key: the same one again sends nothing twice"
            )
        },
    ),
    "ReadReceipt": obj(
        {"messageId": {"type": "string"}, "readBy": {"type": "integer"}, "readAt": ISO_TIME}
    ),
    "Stats": obj(
        {
            key: {"type": "integer", "minimum": 0}
            for key in ("total", "unread", "inbound", "outbound", "today")
        }
    ),
    "EventPage": obj(
        {
            "events": {
                "type": "array",
                "items": obj(
                    {
                        "eventId": {"type": "integer"},
                        "event": {"type": "string"},
                        "data": {"type": "object"},
                    }
                ),
            },
            "lastEventId": {"type": "integer", "minimum": 0},
        }
    ),
    "RealtimeStatus": obj(
        {
            "connectedUsers": {"type": "integer", "minimum": 0},
            "onlineUserIds": {"type": "array", "items": {"type": "integer"}},
        }
    ),
    "UserOnline": obj({"userId": {"type": "integer"}, "online": {"type": "boolean"}}),
    "Health": obj(
        {
            "status": {"type": "string", "enum": ["ok", "unavailable"]},
            "database": {"type": "string", "enum": ["ok", "unavailable"]},
            "messageQueue": {"type": "string", "enum": ["local", "redis", "unavailable"]},
        },
        {"error": obj({"code": {"type": "string"}, "message": {"type": "string"}})},
    ),
    "IncomingMessage": obj(
        {
            "user_id": {
                "description": "The owning agent's user id (also as a string of digits)",
                "anyOf": [
                    {"type": "integer", "minimum": 1, "maximum": INT_ID_MAX},
                    {"type": "string", "pattern": USER_ID_DIGITS},
                ],
            },
            "customer_name": text(255),
            "customer_phone": text(64),
            "message_content": text(60_000),
        },
        {
            "message_type": nullable(
                {"type": "string", "pattern": "^[a-zA-Z_\\u212a]{1,32}$", "default": "text"}
            ),
            "direction": nullable(
                {"type": "string", "enum": ["INBOUND", "OUTBOUND"], "default": "INBOUND"}
            ),
            "timestamp": nullable(
                {
                    "description": "ISO-8601, or Unix seconds (ms above 1e11); default now",
                    "oneOf": [ISO_TIME, UNIX_TIME],
                }
            ),
            "message_id": nullable(
                text(255, description="WhatsApp message id: the idempotency key")
            ),
        },
    ),
    "StoredMessage": obj(
        {
            "success": {"type": "boolean", "enum": [True]},
            "data": obj({"id": {"type": "string"}, "conversationId": {"type": "integer"}}),
        },
        {"duplicate": {"type": "boolean", "enum": [True]}},
    ),
    "StatusReport": obj(
        {
            "message_id": text(255, description="Our message id, or the WhatsApp id n8n got back"),
            "status": {"type": "string", "enum": ["sent", "delivered", "read", "failed"]},
        },
        {
            "timestamp": nullable({"oneOf": [ISO_TIME, UNIX_TIME]}),
            "error": nullable({"type": "string", "maxLength": 1000}),
        },
    ),
    "StatusApplied": obj(
        {
            "success": {"type": "boolean", "enum": [True]},
            "changed": {"type": "boolean"},
            "data": obj(
                {"id": {"type": "string"}, "conversationId": {"type": "integer"}},
                {"status": nullable({"type": "string"}), "error": nullable({"type": "string"})},
            ),
        }
    ),
}

LIMIT_DESCRIPTION = "How many to return at most"

PATHS = {
    "/api/auth/login": {
        "post": {
            "summary": "Exchange email and password for tokens",
            "description": "10 failed logins per account or 50 per address within a minute: 429.",
            "requestBody": json_body(ref("Login")),
            "responses": responses({200: ref("Tokens")}, 400, 401, 403, 429),
        }
    },
    "/api/auth/refresh": {
        "post": {
            "summary": "A new access token for a refresh token",
            "security": REFRESH,
            "responses": responses({200: ref("AccessToken")}, 401),
        }
    },
    "/api/auth/me": {
        "get": {
            "summary": "The caller",
            "security": BEARER,
            "responses": responses({200: ref("User")}, 401),
        }
    },
    "/api/auth/logout": {
        "post": {
            "summary": "Revoke the token sent (access or refresh); its live sockets are cut",
            "security": [{"bearerAuth": []}, {"refreshToken": []}],
            "responses": responses({200: ref("Success")}, 401),
        }
    },
    "/api/conversations": {
        "get": {
            "summary": "Conversations the caller may see, newest first",
            "security": BEARER,
            "parameters": [
                query(
                    "userId",
                    {"type": "integer", "minimum": 1, "maximum": BIGINT_MAX},
                    "Admins: one owner's",
                ),
            ],
            "responses": responses(
                {200: {"type": "array", "items": ref("Conversation")}}, 400, 401
            ),
        }
    },
    "/api/conversations/{conversation_id}/messages": {
        "parameters": [path_id("conversation_id", "The conversation")],
        "get": {
            "summary": "A page of a conversation's messages, oldest first",
            "security": BEARER,
            "parameters": [
                query(
                    "limit",
                    {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                    LIMIT_DESCRIPTION,
                ),
                query("before", {"type": "string"}, "A message id: only messages older than it"),
            ],
            "responses": responses(
                {200: {"type": "array", "items": ref("Message")}}, 400, 401, 403, 404
            ),
        },
        "post": {
            "summary": "Reply to the customer: stored pending, handed to n8n",
            "security": BEARER,
            "requestBody": json_body(ref("Reply")),
            "responses": responses(
                {201: ref("Message"), 200: ref("Message")}, 400, 401, 403, 404, 409
            ),
        },
    },
    "/api/events": {
        "get": {
            "summary": "The durable event log after an eventId (the polling fallback)",
            "security": BEARER,
            "parameters": [
                query(
                    "after",
                    {"type": "integer", "minimum": 0, "maximum": BIGINT_MAX, "default": 0},
                    "An eventId",
                ),
                query(
                    "limit",
                    {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                    LIMIT_DESCRIPTION,
                ),
            ],
            "responses": responses({200: ref("EventPage")}, 400, 401),
        }
    },
    "/api/messages": {
        "get": {
            "summary": "Every message the caller may see created after `since`, oldest first",
            "security": BEARER,
            "parameters": [
                query("since", {"type": "string"}, "A message id (unknown to the caller: 400)"),
                query(
                    "limit",
                    {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1000},
                    LIMIT_DESCRIPTION,
                ),
            ],
            "responses": responses({200: {"type": "array", "items": ref("Message")}}, 400, 401),
        }
    },
    "/api/messages/{message_id}/read": {
        "parameters": [
            {"name": "message_id", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "patch": {
            "summary": "Mark a message read (idempotent); emits message_read",
            "security": BEARER,
            "responses": responses({200: ref("ReadReceipt")}, 400, 401, 403, 404),
        },
    },
    "/api/messages/{message_id}/retry": {
        "parameters": [
            {"name": "message_id", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "post": {
            "summary": "Queue a failed reply for n8n again (the only way out of failed)",
            "security": BEARER,
            "responses": responses({200: ref("Message")}, 400, 401, 403, 404, 409),
        },
    },
    "/api/messages/stats": {
        "get": {
            "summary": "Counts over the messages the caller may see",
            "security": BEARER,
            "responses": responses({200: ref("Stats")}, 401),
        }
    },
    "/api/realtime/status": {
        "get": {
            "summary": "Connected users across every process (admins)",
            "security": BEARER,
            "responses": responses({200: ref("RealtimeStatus")}, 401, 403),
        }
    },
    "/api/users/{user_id}/online": {
        "parameters": [path_id("user_id", "The user", maximum=BIGINT_MAX)],
        "get": {
            "summary": "Whether a user has a live socket (admins, or the user themself)",
            "security": BEARER,
            "responses": responses({200: ref("UserOnline")}, 401, 403, 404),
        },
    },
    "/api/webhooks/n8n/message": {
        "post": {
            "summary": "A WhatsApp message reported by n8n; idempotent on message_id",
            "security": WEBHOOK,
            "requestBody": json_body(ref("IncomingMessage")),
            "responses": responses(
                {201: ref("StoredMessage"), 200: ref("StoredMessage")}, 400, 401, 404
            ),
        }
    },
    "/api/webhooks/n8n/status": {
        "post": {
            "summary": "A reply's delivery status reported by n8n (never moves backwards)",
            "security": WEBHOOK,
            "requestBody": json_body(ref("StatusReport")),
            "responses": responses({200: ref("StatusApplied")}, 400, 401, 404, 409),
        }
    },
    "/api/openapi.json": {
        "get": {
            "summary": "This document",
            "responses": {"200": {"description": "OK", "content": json_of({"type": "object"})}},
        }
    },
    "/health": {
        "get": {
            "summary": "Is the database (and Redis, when configured) reachable",
            "responses": {
                "200": {"description": "OK", "content": json_of(ref("Health"))},
                "503": {"description": STATUS_TEXT[503], "content": json_of(ref("Health"))},
            },
        }
    },
}

SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (access token)"},
    "refreshToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (refresh token)"},
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
    "webhookTimestamp": {
        "type": "apiKey",
        "in": "header",
        "name": TIMESTAMP_HEADER,
        "description": f"Unix seconds, within ±{SIGNATURE_TOLERANCE_SECONDS} s of our clock",
    },
}


def _document_rest_limit(paths: dict) -> None:
    """Operations called with a bearer token share the per-user REST limit (app/rate_limits.py)."""
    for item in paths.values():
        for operation in (item[method] for method in item if method != "parameters"):
            schemes = {name for option in operation.get("security", []) for name in option}
            if schemes & {"bearerAuth", "refreshToken"}:
                operation["responses"]["429"] = responses({}, 429)["429"]


_document_rest_limit(PATHS)

SPEC = {
    "openapi": "3.1.0",
    "info": {
        "title": "WhatsApp inbox backend",
        "version": "1.0.0",
        "description": "REST API and n8n webhooks. Errors: {error: {code, message, field?}}. "
        "The Socket.IO interface is described in the project's contract, not here.",
    },
    "paths": PATHS,
    "components": {"schemas": SCHEMAS, "securitySchemes": SECURITY_SCHEMES},
}
