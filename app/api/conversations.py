"""Conversations and their messages."""

from flask import jsonify, request
from flask_jwt_extended import current_user, jwt_required

from app.api import bp
from app.api.params import int_arg
from app.services import conversations


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
