"""GET /api/asyncapi.json: the AsyncAPI 3 document of the Socket.IO events, generated
from the declared client events (with their acks and refusals) and SERVER_EVENTS.

The server is the application described: a client event is an operation it
`receive`s (its ack is the operation's reply), a server event one it `send`s.
All events travel on one channel, the Socket.IO namespace `/`.
"""

from flask import Flask

from app.schemas.calls import CALL_SERVER_EVENTS
from app.schemas.json_schema import component_schemas
from app.schemas.socket import (
    CLIENT_EVENTS,
    COMMON_REFUSALS,
    SERVER_EVENTS,
    Ack,
    Handshake,
    Refusal,
)

CHANNEL = "socket"
DESCRIPTION = """Socket.IO (protocol v5; socket.io-client 4.x works unmodified) on namespace `/`.

Connect with `auth: {token: <accessToken>, lastEventId?}` (schema `Handshake`). A refused
handshake gets a connect_error: `Authentication failed` (missing, malformed, expired or
revoked token), `User not found` (deleted or inactive), `Too many connections` (20 per user)
or `Service unavailable`. A connected socket is in the room `user:<id>`, admins also in
`admin`. Ping every 25 s, timeout 60 s; frames over 64 KiB close the socket.

Every client event may pass an ack callback: it gets `{"ok": true}` or `{"error": "<message>"}`,
and a refusal is also sent as an `error` event. More than 10 events a second from one
socket: `Rate limit exceeded`, the event dropped.

Durable events (`new_message`, `message_read`, `message_status`) carry `eventId`, written
with the change they report: a client reconnecting with `lastEventId` gets what it missed,
in order (or `resync_required`), and drops an eventId it has already seen. The same log is
`GET /api/events` over REST.

Calls (`call_*`) signal WebRTC calls and screen sharing between a user and the admins: they
are ephemeral (no `eventId`, no replay); `call_signal` goes both ways, its server-to-client
message is `call_signal_sent`. See docs/calls.md.
"""


def _message_ref(name: str) -> dict:
    return {"$ref": f"#/channels/{CHANNEL}/messages/{name}"}


def _ack_name(event) -> str:
    """The reply message of an event: the common `ack`, or the event's own (`<name>_ack`)."""
    return "ack" if event.ack is Ack else f"{event.name}_ack"


def _client_operation(event) -> dict:
    refusals = ", ".join(f"`{r}`" for r in dict.fromkeys((*event.refusals, *COMMON_REFUSALS)))
    description = f"{event.description}\n\nRefusals: {refusals}.".strip()
    return {
        "action": "receive",
        "channel": {"$ref": f"#/channels/{CHANNEL}"},
        "summary": event.summary,
        "description": description,
        "messages": [_message_ref(event.name)],
        "reply": {
            "channel": {"$ref": f"#/channels/{CHANNEL}"},
            "messages": [_message_ref(_ack_name(event)), _message_ref("refusal")],
        },
    }


def _server_operation(event) -> dict:
    durable = " Durable: carries `eventId`, replayed on reconnect." if event.durable else ""
    return {
        "action": "send",
        "channel": {"$ref": f"#/channels/{CHANNEL}"},
        "summary": (event.payload.__doc__ or "").strip(),
        "description": f"To {event.to}.{durable}",
        "messages": [_message_ref(_sent_name(event))],
    }


def _sent_name(event) -> str:
    """A server event's message key: its name, or `<name>_sent` when a client event has
    the same name (call_signal goes both ways, with different payloads)."""
    return f"{event.name}_sent" if event.name in CLIENT_EVENTS else event.name


def _message(name: str, schema: dict, model, extra: str = "") -> dict:
    summary = (model.__doc__ or "").strip().splitlines()[0]
    message = {"name": name, "title": name, "summary": summary, "payload": schema}
    if extra:
        message["description"] = extra
    return message


def build() -> dict:
    """The AsyncAPI document of every declared Socket.IO event."""
    client, server = list(CLIENT_EVENTS.values()), [*SERVER_EVENTS, *CALL_SERVER_EVENTS]
    models = [(e.payload, "validation") for e in client] + [
        (e.payload, "serialization") for e in server
    ]
    models += [(e.ack, "serialization") for e in client if e.ack is not Ack]
    models += [(Ack, "serialization"), (Refusal, "serialization"), (Handshake, "validation")]
    refs, schemas = component_schemas(models)
    messages = {e.name: _message(e.name, refs[e.payload, "validation"], e.payload) for e in client}
    for event in server:
        messages[_sent_name(event)] = _message(
            event.name, refs[event.payload, "serialization"], event.payload
        )
    messages["ack"] = _message("ack", refs[Ack, "serialization"], Ack, "The ack's argument.")
    for event in client:
        if event.ack is not Ack:
            messages[_ack_name(event)] = _message(
                _ack_name(event), refs[event.ack, "serialization"], event.ack, "The ack's argument."
            )
    messages["refusal"] = _message(
        "refusal", refs[Refusal, "serialization"], Refusal, "The ack's argument."
    )
    operations = {f"receive_{e.name}": _client_operation(e) for e in client}
    operations.update({f"send_{e.name}": _server_operation(e) for e in server})
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "WhatsApp inbox: Socket.IO events",
            "version": "1.0.0",
            "description": DESCRIPTION,
        },
        "defaultContentType": "application/json",
        "servers": {
            "inbox": {
                "host": "{host}",
                "protocol": "wss",
                "pathname": "/socket.io/",
                "description": "The same host as the REST API (ws:// when served without TLS)",
                "variables": {"host": {"default": "localhost:5000"}},
                "security": [{"$ref": "#/components/securitySchemes/handshakeToken"}],
            }
        },
        "channels": {
            CHANNEL: {
                "address": "/",
                "title": "Socket.IO namespace /",
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
            }
        },
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "securitySchemes": {
                "handshakeToken": {
                    "type": "httpApiKey",
                    "name": "auth.token",
                    "in": "query",
                    "description": "The access token, sent in the Socket.IO handshake's `auth` "
                    "object (schema `Handshake`), not in the URL",
                }
            },
        },
    }


def document(app: Flask) -> dict:
    """The document, built once per app."""
    if "asyncapi_document" not in app.extensions:
        app.extensions["asyncapi_document"] = build()
    return app.extensions["asyncapi_document"]
