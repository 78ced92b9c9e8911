"""Messages across conversations: resync, read receipts, stats."""

from flask_jwt_extended import current_user, jwt_required

from app.api import bp
from app.schemas.http import BEARER, operation
from app.schemas.messages import Message, SentMessage
from app.schemas.rest import MessagePath, MessagesSinceQuery, ReadReceipt, Stats
from app.services import messages, outbox


@bp.get("/messages")
@jwt_required()
@operation(
    query=MessagesSinceQuery, responses={200: list[Message]}, errors=(400, 401), security=BEARER
)
def messages_since(query: MessagesSinceQuery):
    """Every message the caller may see created after ?since=<messageId>, oldest first.

    The resync path after a reconnect.
    """
    return [Message.of(m) for m in messages.since(current_user, query.since, query.limit)]


@bp.patch("/messages/<message_id>/read")
@jwt_required()
@operation(
    path=MessagePath, responses={200: ReadReceipt}, errors=(400, 401, 403, 404), security=BEARER
)
def mark_read(message_id: str):
    """Mark a message read; the same path and events (`message_read`) as the socket's mark_read.

    Idempotent: a message already read keeps its first reader.
    """
    return ReadReceipt.of(messages.mark_read(message_id, current_user))


@bp.post("/messages/<message_id>/retry")
@jwt_required()
@operation(
    path=MessagePath,
    responses={200: SentMessage},
    errors=(400, 401, 403, 404, 409),
    security=BEARER,
)
def retry_reply(message_id: str):
    """Queue a failed reply for n8n again (owner or admin); 409 unless it failed."""
    messages.get_accessible(message_id, current_user)
    return SentMessage.of(outbox.retry(message_id))


@bp.get("/messages/stats")
@jwt_required()
@operation(responses={200: Stats}, errors=(401,), security=BEARER)
def stats():
    """Counts over the messages the caller may see."""
    return messages.stats(current_user)
