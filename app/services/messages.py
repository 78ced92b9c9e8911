"""Creating messages and marking them read: the one path for webhook, REST and socket."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import NamedTuple

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from app.errors import Forbidden, NotFound
from app.extensions import db
from app.media.ingest import StoredFile
from app.models import (
    Conversation,
    Media,
    Message,
    OutboundDelivery,
    User,
    WhatsappMediaFetch,
    new_message_id,
)
from app.realtime import broadcast
from app.schemas.messages import Location, MediaRef, MessageRead, NewMessage
from app.schemas.rest import Stats
from app.schemas.webhooks import IncomingMessage
from app.services import events, search_index, search_text, workflow
from app.services.conversations import can_access, message_by_id
from app.timeutil import utcnow


@dataclass(frozen=True, slots=True)
class Draft:
    """A message about to be stored: inbound from a webhook, or an agent's reply.

    `customer_name` "" keeps the conversation's stored name. A reply has its
    author (`sent_by`), the client's idempotency key and the status `pending`,
    which queues it for n8n in the same transaction.
    """

    user_id: int  # the conversation's owner
    customer_phone: str
    customer_name: str
    content: str
    message_type: str = "text"
    direction: str = "INBOUND"
    timestamp: datetime | None = None  # WhatsApp's time; now when absent
    whatsapp_id: str | None = None
    sent_by: int | None = None
    client_message_id: str | None = None
    status: str | None = None
    template: str | None = None  # a template reply: WhatsApp's template object as JSON
    # A Cloud API file known by its Graph media id only: queued for fetching with the message.
    media_fetch: dict | None = None
    # Rich messages: a stored file (app/media/ingest.py), a location, the quoted message.
    media: "StoredFile | None" = None
    location: dict | None = None
    reply_to: str | None = None

    @property
    def preview(self) -> str:
        """The conversation list's last message: the text, or the type of a file without one."""
        return self.content[:200] or f"[{self.message_type}]"


class Stored(NamedTuple):
    """A message just written: its id, conversation and `new_message` payload model."""

    id: str
    conversation_id: int
    payload: NewMessage


def find_by_whatsapp_id(whatsapp_id: str | None) -> Message | None:
    if not whatsapp_id:
        return None
    return db.session.scalar(select(Message).where(Message.whatsapp_id == whatsapp_id))


def _user_exists(user_id: int) -> bool:
    return db.session.execute(select(User.id).where(User.id == user_id)).first() is not None


def _on_conflict_set(statement, table) -> dict:
    """The one rule for an existing conversation's preview, in SQL.

    The newest WhatsApp time wins the preview (a reply's time is when it was
    written); an empty name keeps the old one.
    """
    new = statement.excluded
    newer = or_(table.c.last_message_at.is_(None), new.last_message_at >= table.c.last_message_at)
    return {
        "customer_name": case(
            (new.customer_name != "", new.customer_name), else_=table.c.customer_name
        ),
        "last_message": case((newer, new.last_message), else_=table.c.last_message),
        "last_message_at": case((newer, new.last_message_at), else_=table.c.last_message_at),
    }


@cache
def _conversation_upsert(dialect: str):
    """The conversation upsert, built once per dialect (building it costs more than running it)."""
    table = Conversation.__table__
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.user_id, table.c.customer_phone],
        set_=_on_conflict_set(statement, table),
    ).returning(table.c.id, table.c.customer_name, table.c.status)


@cache
def _message_insert():
    """The message insert, built once; it returns the row's seq (search index, reply queue)."""
    table = Message.__table__
    return table.insert().returning(table.c.seq)


@cache
def _outbox_insert():
    return OutboundDelivery.__table__.insert()


@cache
def _media_insert():
    return Media.__table__.insert()


def _rich_values(draft: Draft) -> dict:
    """A rich message's own columns (left out of a plain one: fewer parameters to bind)."""
    values = {}
    if draft.location is not None:
        values["location"] = json.dumps(draft.location)
    if draft.reply_to is not None:
        values["reply_to"] = draft.reply_to
    return values


@cache
def _media_fetch_insert():
    return WhatsappMediaFetch.__table__.insert()


def _insert_media(connection, draft: Draft, message_id: str, conversation_id: int) -> None:
    """Tie the stored file to its message, in the message's transaction."""
    media = draft.media
    connection.execute(
        _media_insert(),
        {
            "id": media.id,
            "user_id": draft.user_id,
            "conversation_id": conversation_id,
            "message_id": message_id,
            "storage_key": media.storage_key,
            "mime_type": media.mime_type,
            "size": media.size,
            "filename": media.filename,
            "caption": media.caption,
            "voice": media.voice,
            "sha256": media.sha256,
            "thumbnail_key": media.thumbnail_key,
            "created_at": media.created_at,
        },
    )


def _upsert_conversation(connection, draft: Draft, timestamp: datetime):
    """Create or update the conversation in one statement, never reading it first.

    Returns its id, customer name (an empty name keeps the stored one) and status.
    """
    values = {
        "user_id": draft.user_id,
        "customer_phone": draft.customer_phone,
        "customer_name": draft.customer_name,
        "last_message": draft.preview,
        "last_message_at": timestamp,
        "created_at": utcnow(),
    }
    statement = _conversation_upsert(connection.dialect.name)
    return connection.execute(statement, values).one()


def write(draft: Draft) -> Stored:
    """Store a message, its conversation's preview, its queue row (replies) and its
    `new_message` event in one transaction, then emit the event.

    The one write path of a message. Core statements in a transaction of their
    own, not the ORM session (which is most of a webhook's CPU otherwise): the
    message is not loaded back. A webhook's message naming the previous owner of
    a transferred conversation goes to that conversation; an inbound one reopens
    a resolved or snoozed conversation (app/services/workflow.py). Raises
    IntegrityError, having stored nothing, for a repeated WhatsApp id or
    clientMessageId, or an unknown owner.
    """
    with db.engine.begin() as connection:
        draft = workflow.routed(connection, draft)
        stored, event, status = _insert_on(connection, draft)
        reopened = []
        # The upsert said how the conversation stood: only a resolved or snoozed one
        # costs the reopening UPDATE, not every inbound message.
        if draft.direction == "INBOUND" and status in workflow.REOPENABLE:
            reopened = workflow.reopen_on_inbound(connection, stored.conversation_id)
    broadcast.publish(event)
    for change in reopened:
        broadcast.publish(change)
    return stored


def _insert_on(connection, draft: Draft) -> tuple[Stored, events.RecordedEvent, str]:
    events.lock_event_log(connection)
    now = utcnow()
    timestamp = draft.timestamp or now
    conversation_id, customer_name, status = _upsert_conversation(connection, draft, timestamp)
    values = {
        "id": new_message_id(),
        "conversation_id": conversation_id,
        "user_id": draft.user_id,
        "direction": draft.direction,
        "message_type": draft.message_type,
        "content": draft.content,
        "timestamp": timestamp,
        "whatsapp_id": draft.whatsapp_id,
        "is_read": False,
        "created_at": now,
        **_rich_values(draft),
        "search_text": search_text.fold(draft.content),
    }
    queued = draft.status == "pending"
    if draft.sent_by is not None:  # an agent's reply or note (left out otherwise: fewer to bind)
        values.update(sent_by=draft.sent_by, client_message_id=draft.client_message_id)
    if draft.template is not None:
        values["template"] = draft.template
    if queued:
        values.update(status=draft.status, status_at=now)
    seq = connection.execute(_message_insert(), values).scalar_one()
    search_index.add(connection, seq, values["search_text"])
    if queued:
        connection.execute(_outbox_insert(), {"message_seq": seq, "next_attempt_at": now})
    if draft.media is not None:
        _insert_media(connection, draft, values["id"], conversation_id)
    if draft.media_fetch is not None:
        connection.execute(
            _media_fetch_insert(),
            {**draft.media_fetch, "message_id": values["id"], "next_attempt_at": now},
        )
    payload = NewMessage(
        id=values["id"],
        conversation_id=conversation_id,
        user_id=draft.user_id,
        customer_name=customer_name,
        customer_phone=draft.customer_phone,
        message_content=draft.content,
        message_type=draft.message_type,
        direction=draft.direction,
        timestamp=timestamp,
        is_read=False,
        media=MediaRef.of(draft.media),
        location=Location(**draft.location) if draft.location else None,
        reply_to=draft.reply_to,
    )
    event = events.record("new_message", draft.user_id, conversation_id, payload, connection)
    return Stored(values["id"], conversation_id, payload), event, status


def store(
    incoming: IncomingMessage, media: StoredFile | None = None, reply_to: str | None = None
) -> tuple[Message | Stored, bool]:
    """Store a message n8n reported and emit `new_message`; returns (message, created).

    Idempotent on the WhatsApp id through its unique constraint: a repeat, even
    one racing the first, stores and emits nothing and returns the stored
    message. An unknown user fails the conversation's foreign key the same way.
    """
    draft = Draft(
        user_id=incoming.user_id,
        customer_phone=incoming.customer_phone,
        customer_name=incoming.customer_name,
        content=incoming.message_content or "",
        message_type=incoming.message_type,
        direction=incoming.direction,
        timestamp=incoming.timestamp,
        whatsapp_id=incoming.message_id,
        media=media,
        location=incoming.location.model_dump() if incoming.location else None,
        reply_to=reply_to,
    )
    try:
        return write(draft), True
    except IntegrityError:
        # A repeated WhatsApp id, or (through the foreign key) an unknown user:
        # both are rare, so they are told apart only now.
        existing = find_by_whatsapp_id(incoming.message_id)
        if existing is not None:
            return existing, False
        if not _user_exists(incoming.user_id):
            raise NotFound("user_id does not name a known user", field="user_id") from None
        raise


def get_accessible(message_id: str, user: User) -> Message:
    """The message, if it exists and this user may act on it."""
    message = db.session.scalar(select(Message).where(Message.id == message_id))
    if message is None:
        raise NotFound("Message not found")
    if not can_access(user, message.user_id):
        raise Forbidden("Unauthorized")
    return message


def mark_read(message_id: str, user: User) -> Message:
    """Mark a message read by this user and emit `message_read`; idempotent.

    Returns the message. A message already read keeps its first reader and
    emits nothing again.
    """
    message = get_accessible(message_id, user)
    if message.is_read:
        return message
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
        return message
    payload = MessageRead(
        message_id=message.id,
        conversation_id=message.conversation_id,
        read_by=user.id,
        read_at=read_at,
    )
    event = events.record("message_read", message.user_id, message.conversation_id, payload)
    db.session.commit()
    db.session.refresh(message)
    broadcast.publish(event)
    return message


def _visible(user: User):
    query = select(Message)
    return query if user.is_admin else query.where(Message.user_id == user.id)


def since(user: User, since_id: str | None, limit: int) -> list[Message]:
    """Messages this user may see created after `since_id`, oldest first."""
    query = _visible(user)
    if since_id:
        query = query.where(Message.seq > message_by_id(since_id, "since").seq)
    return list(db.session.scalars(query.order_by(Message.seq).limit(limit)))


def stats(user: User) -> Stats:
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
    return Stats(
        total=total, unread=unread, inbound=inbound_count, outbound=outbound, today=today_count
    )
