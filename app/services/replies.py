"""Replies from the inbox: stored OUTBOUND `pending` and queued for n8n in one transaction."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Conversation, Event, Message, User
from app.realtime import broadcast
from app.schemas.messages import NewMessage
from app.services import events, outbox
from app.services.messages import touch_conversation
from app.timeutil import utcnow


def find_by_client_id(conversation: Conversation, client_message_id: str | None) -> Message | None:
    """The reply a client already posted to this conversation under this id."""
    if not client_message_id:
        return None
    return db.session.scalar(
        select(Message).where(
            Message.conversation_id == conversation.id,
            Message.client_message_id == client_message_id,
        )
    )


def create(
    conversation: Conversation, author: User, content: str, client_message_id: str | None
) -> tuple[Message, bool]:
    """Store a reply, queue it for n8n and emit `new_message`; returns (message, created).

    The caller has checked that `author` may write in the conversation. A
    repeated clientMessageId, even one racing the first, returns the stored
    reply and neither stores nor sends anything again.
    """
    existing = find_by_client_id(conversation, client_message_id)
    if existing is not None:
        return existing, False
    try:
        message, event = _insert(conversation, author, content, client_message_id)
    except IntegrityError:
        db.session.rollback()
        existing = find_by_client_id(conversation, client_message_id)
        if existing is None:
            raise
        return existing, False
    broadcast.publish(event)
    outbox.notify()
    return message, True


def _insert(
    conversation: Conversation, author: User, content: str, client_message_id: str | None
) -> tuple[Message, Event]:
    """Write the reply, its outbox row and its `new_message` event in one transaction."""
    events.lock_event_log()
    now = utcnow()
    message = Message(
        conversation=conversation,
        user_id=conversation.user_id,
        sent_by=author.id,
        direction="OUTBOUND",
        message_type="text",
        content=content,
        timestamp=now,
        client_message_id=client_message_id,
        status="pending",
        status_at=now,
    )
    db.session.add(message)
    touch_conversation(conversation, message)
    db.session.flush()
    outbox.enqueue(message)
    payload = NewMessage.of(message).model_dump()
    event = events.record("new_message", message.user_id, conversation.id, payload)
    db.session.commit()
    return message, event
