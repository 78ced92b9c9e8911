"""Creating messages and marking them read: the one path for webhook, REST and socket."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.errors import Forbidden, NotFound
from app.extensions import db
from app.models import Conversation, Event, Message, User
from app.realtime import broadcast
from app.services import events
from app.services.conversations import can_access, message_by_id
from app.timeutil import isoformat, utcnow


@dataclass(frozen=True)
class IncomingMessage:
    """A validated message as n8n reports it."""

    user_id: int
    customer_name: str
    customer_phone: str
    content: str
    message_type: str = "text"
    direction: str = "INBOUND"
    timestamp: datetime | None = None
    whatsapp_id: str | None = None


def find_by_whatsapp_id(whatsapp_id: str | None) -> Message | None:
    if not whatsapp_id:
        return None
    return db.session.scalar(select(Message).where(Message.whatsapp_id == whatsapp_id))


def _conversation_for(user_id: int, phone: str, name: str) -> Conversation:
    conversation = db.session.scalar(
        select(Conversation).where(
            Conversation.user_id == user_id, Conversation.customer_phone == phone
        )
    )
    if conversation is None:
        conversation = Conversation(user_id=user_id, customer_phone=phone, customer_name=name)
        db.session.add(conversation)
        db.session.flush()
    elif name:
        conversation.customer_name = name
    return conversation


def touch_conversation(conversation: Conversation, message: Message) -> None:
    """Keep the list's preview on the newest message by its WhatsApp time."""
    if conversation.last_message_at is None or message.timestamp >= conversation.last_message_at:
        conversation.last_message = message.content[:200]
        conversation.last_message_at = message.timestamp


def store(incoming: IncomingMessage) -> tuple[Message, bool]:
    """Store a message and emit `new_message`; returns (message, created).

    Idempotent on the WhatsApp id: a repeat, even one racing the first,
    returns the stored message and emits nothing.
    """
    existing = find_by_whatsapp_id(incoming.whatsapp_id)
    if existing is not None:
        return existing, False
    if db.session.get(User, incoming.user_id) is None:
        raise NotFound("user_id does not name a known user", field="user_id")
    try:
        message, event = _insert(incoming)
    except IntegrityError:
        # A concurrent request stored the same WhatsApp id first.
        db.session.rollback()
        existing = find_by_whatsapp_id(incoming.whatsapp_id)
        if existing is None:
            raise
        return existing, False
    broadcast.publish(event)
    return message, True


def _insert(incoming: IncomingMessage) -> tuple[Message, Event]:
    """Write the message, its conversation and its event in one transaction."""
    events.lock_event_log()
    conversation = _conversation_for(
        incoming.user_id, incoming.customer_phone, incoming.customer_name
    )
    message = Message(
        conversation=conversation,
        user_id=incoming.user_id,
        direction=incoming.direction,
        message_type=incoming.message_type,
        content=incoming.content,
        timestamp=incoming.timestamp or utcnow(),
        whatsapp_id=incoming.whatsapp_id,
    )
    db.session.add(message)
    touch_conversation(conversation, message)
    db.session.flush()
    event = events.record("new_message", message.user_id, conversation.id, message.to_payload())
    db.session.commit()
    return message, event


def get_accessible(message_id: str, user: User) -> Message:
    """The message, if it exists and this user may act on it."""
    message = db.session.scalar(select(Message).where(Message.id == message_id))
    if message is None:
        raise NotFound("Message not found")
    if not can_access(user, message.user_id):
        raise Forbidden("Unauthorized")
    return message


def mark_read(message_id: str, user: User) -> dict:
    """Mark a message read by this user and emit `message_read`; idempotent.

    Returns the receipt. A message already read keeps its first reader and
    emits nothing again.
    """
    message = get_accessible(message_id, user)
    if message.is_read:
        return message.receipt()
    events.lock_event_log()
    read_at = utcnow()
    changed = db.session.execute(
        update(Message)
        .where(Message.seq == message.seq, Message.is_read.is_(False))
        .values(is_read=True, read_by=user.id, read_at=read_at)
    ).rowcount
    if not changed:
        db.session.rollback()
        db.session.refresh(message)
        return message.receipt()
    payload = {
        "messageId": message.id,
        "conversationId": message.conversation_id,
        "readBy": user.id,
        "readAt": isoformat(read_at),
    }
    event = events.record("message_read", message.user_id, message.conversation_id, payload)
    db.session.commit()
    db.session.refresh(message)
    broadcast.publish(event)
    return message.receipt()


def _visible(user: User):
    query = select(Message)
    return query if user.is_admin else query.where(Message.user_id == user.id)


def since(user: User, since_id: str | None, limit: int) -> list[dict]:
    """Messages this user may see created after `since_id`, oldest first."""
    query = _visible(user)
    if since_id:
        query = query.where(Message.seq > message_by_id(since_id, "since").seq)
    return [m.to_dict() for m in db.session.scalars(query.order_by(Message.seq).limit(limit))]


def stats(user: User) -> dict:
    """Counts over the messages this user may see."""
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    inbound = Message.direction == "INBOUND"
    columns = select(
        func.count(),
        func.count().filter(inbound, Message.is_read.is_(False)),
        func.count().filter(inbound),
        func.count().filter(Message.direction == "OUTBOUND"),
        func.count().filter(
            Message.timestamp >= today, Message.timestamp < today + timedelta(days=1)
        ),
    )
    if not user.is_admin:
        columns = columns.where(Message.user_id == user.id)
    total, unread, inbound_count, outbound, today_count = db.session.execute(columns).one()
    return {
        "total": total,
        "unread": unread,
        "inbound": inbound_count,
        "outbound": outbound,
        "today": today_count,
    }
