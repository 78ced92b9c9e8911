"""Messages across conversations: resync, read receipts, stats."""

from flask import jsonify, request
from flask_jwt_extended import current_user, jwt_required

from app.api import bp
from app.api.params import int_arg
from app.services import messages, outbox


@bp.get("/messages")
@jwt_required()
def messages_since():
    """Every message the caller may see created after ?since=<messageId>, oldest first."""
    limit = int_arg("limit", 1000, minimum=1, maximum=1000)
    return jsonify(messages.since(current_user, request.args.get("since"), limit))


@bp.patch("/messages/<message_id>/read")
@jwt_required()
def mark_read(message_id: str):
    """Mark a message read; the same path as the socket's mark_read."""
    return jsonify(messages.mark_read(message_id, current_user))


@bp.post("/messages/<message_id>/retry")
@jwt_required()
def retry_reply(message_id: str):
    """Queue a failed reply for n8n again (owner or admin); 409 unless it failed."""
    messages.get_accessible(message_id, current_user)
    return jsonify(outbox.retry(message_id).to_reply())


@bp.get("/messages/stats")
@jwt_required()
def stats():
    return jsonify(messages.stats(current_user))
