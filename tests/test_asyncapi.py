"""GET /api/asyncapi.json is a valid AsyncAPI 3 document, lists every Socket.IO event both
ways, and what the server really sends matches its schemas."""

import json
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from app.extensions import socketio
from app.schemas.socket import CLIENT_EVENTS, Ack
from tests.conftest import received, webhook_body

pytestmark = pytest.mark.usefixtures("fast_password_hashes")

# From npm (@asyncapi/specs, pinned in package-lock.json), not fetched at test time.
ASYNCAPI_3_SCHEMA = (
    Path(__file__).resolve().parents[1]
    / "node_modules/@asyncapi/specs/schemas/3.0.0-without-$id.json"
)
CONNECTION_EVENTS = {"connect", "disconnect"}


@pytest.fixture
def document(client):
    return client.get("/api/asyncapi.json").get_json()


def payload_validator(document: dict, event: str) -> jsonschema.Draft202012Validator:
    """A validator of one message's payload, resolving the document's component refs."""
    registry = Registry().with_resource("urn:asyncapi", DRAFT202012.create_resource(document))
    payload = document["components"]["messages"][event]["payload"]
    ref = "urn:asyncapi" + payload["$ref"]
    return jsonschema.Draft202012Validator({"$ref": ref}, registry=registry)


def refs_in(value):
    if isinstance(value, dict):
        if isinstance(value.get("$ref"), str):
            yield value["$ref"]
        for item in value.values():
            yield from refs_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from refs_in(item)


def test_document_is_valid_asyncapi_3(document):
    schema = json.loads(ASYNCAPI_3_SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(document)


def test_every_reference_resolves(document):
    for ref in refs_in(document):
        target = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]


def test_every_handled_client_event_is_documented_with_its_ack(app, document):
    handled = set(socketio.server.handlers["/"]) - CONNECTION_EVENTS
    received_ops = {
        op["messages"][0]["$ref"].rsplit("/", 1)[1]
        for op in document["operations"].values()
        if op["action"] == "receive"
    }
    assert received_ops == handled
    for name, op in document["operations"].items():
        if op["action"] == "receive":
            event = op["messages"][0]["$ref"].rsplit("/", 1)[1]
            # The common {"ok": true}, or the event's own ack (call_invite's carries
            # callId, the uploads' say how much was received), documented as <event>_ack.
            ack = "ack" if CLIENT_EVENTS[event].ack is Ack else f"{event}_ack"
            assert [m["$ref"].rsplit("/", 1)[1] for m in op["reply"]["messages"]] == [
                ack,
                "refusal",
            ], name
            assert ack in document["components"]["messages"], name
            assert "Refusals:" in op["description"], name


def test_server_events_match_their_schemas(document, make_user, socket_for, post_webhook):
    owner, admin = make_user(), make_user("ADMIN")
    owner_socket, admin_socket = socket_for(owner), socket_for(admin)
    message = post_webhook(**webhook_body(owner)).get_json()["data"]
    conversation_id = message["conversationId"]
    assert owner_socket.emit("join_conversation", conversation_id, callback=True) == {"ok": True}
    assert admin_socket.emit("join_conversation", conversation_id, callback=True) == {"ok": True}
    typing = {"conversationId": conversation_id, "isTyping": True}
    assert admin_socket.emit("typing", typing, callback=True) == {"ok": True}
    ack = owner_socket.emit("mark_read", {"messageId": message["id"]}, callback=True)
    refusal = owner_socket.emit("typing", {"conversationId": True}, callback=True)
    assert refusal == {"error": "Invalid conversationId"}
    payload_validator(document, "ack").validate(ack)
    payload_validator(document, "refusal").validate(refusal)

    seen = received(owner_socket)
    assert set(seen) == {"new_message", "message_read", "user_typing", "error"}
    for name, payloads in seen.items():
        for payload in payloads:
            payload_validator(document, name).validate(payload)
    resync = socket_for(owner, lastEventId=10**9)
    (payload,) = received(resync)["resync_required"]
    payload_validator(document, "resync_required").validate(payload)


def test_client_event_schemas_accept_and_refuse_what_the_server_does(document):
    join = payload_validator(document, "join_conversation")
    assert join.is_valid(12) and not join.is_valid(True) and not join.is_valid(0)
    typing = payload_validator(document, "typing")
    assert typing.is_valid({"conversationId": 3, "isTyping": False})
    assert not typing.is_valid({"conversationId": 3, "isTyping": "yes"})
    assert not payload_validator(document, "mark_read").is_valid({"messageId": ""})
