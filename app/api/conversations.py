"""Conversations and their messages."""

from flask import jsonify, request
from flask_jwt_extended import current_user, jwt_required

from app.api import bp
from app.api.params import int_arg, json_object, required_string
from app.errors import ValidationError
from app.services import conversations, replies

# WhatsApp's limit for the body of a text message.
MAX_REPLY_CHARS = 4096


@bp.get("/conversations")
@jwt_required()
def list_conversations():
    """Conversations the caller may see, newest first (admins may filter by ?userId=)."""
    owner_id = int_arg("userId", None, minimum=1)
    return jsonify(conversations.list_for(current_user, owner_id))


@bp.get("/conversations/<int:conversation_id>/messages")
@jwt_required()
def conversation_messages(conversation_id: int):
    """A page of a conversation's messages, oldest first."""
    conversation = conversations.get_visible(conversation_id, current_user)
    limit = int_arg("limit", 50, minimum=1, maximum=500)
    return jsonify(conversations.messages_page(conversation, limit, request.args.get("before")))


def _without_nul(value: str, field: str) -> str:
    """Refuse NUL characters, which PostgreSQL cannot store in text."""
    if "\x00" in value:
        raise ValidationError(f"{field} must not contain NUL characters", field=field)
    return value


def _client_message_id(body: dict) -> str | None:
    """The optional idempotency key of a reply: 1-64 characters."""
    value = body.get("clientMessageId")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise ValidationError(
            "clientMessageId must be a string of 1 to 64 characters", field="clientMessageId"
        )
    return _without_nul(value, "clientMessageId")


@bp.post("/conversations/<int:conversation_id>/messages")
@jwt_required()
def send_reply(conversation_id: int):
    """Reply to the customer: stored `pending`, handed to n8n; idempotent on clientMessageId."""
    conversation = conversations.get_visible(conversation_id, current_user)
    body = json_object()
    content = _without_nul(required_string(body, "content", MAX_REPLY_CHARS), "content")
    message, created = replies.create(conversation, current_user, content, _client_message_id(body))
    return jsonify(message.to_reply()), 201 if created else 200
