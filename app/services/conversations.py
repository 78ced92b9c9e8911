"""Reading conversations and their messages, with ownership enforced."""

from typing import Any

from sqlalchemy import and_, false, func, literal_column, or_, select

from app.errors import Forbidden, NotFound, ValidationError
from app.extensions import db
from app.models import Conversation, Message, User
from app.services import reply_window
from app.services.ids import is_int_id


def can_access(user: User, owner_id: int) -> bool:
    """Owners see their own conversations; admins see all."""
    return user.is_admin or user.id == owner_id


def get_visible(conversation_id: int, user: User) -> Conversation:
    """The conversation, if it exists and this user may see it."""
    if not is_int_id(conversation_id):
        raise NotFound("Conversation not found")
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound("Conversation not found")
    if not can_access(user, conversation.user_id):
        raise Forbidden("Unauthorized")
    return conversation


# Literals, not parameters: SQLite uses the partial index ix_messages_unread only
# when the query's terms match its WHERE as written.
_UNREAD = (
    Message.direction == literal_column("'INBOUND'"),
    Message.is_read.is_(false()),
)


def _all_unread_counts() -> dict[int, int]:
    query = (
        select(Message.conversation_id, func.count())
        .where(*_UNREAD)
        .group_by(Message.conversation_id)
    )
    return dict(db.session.execute(query).all())


def unread_counts_of(conversation_ids: set[int]) -> dict[int, int]:
    """Unread inbound messages of these conversations (absent: none)."""
    if not conversation_ids:
        return {}
    query = (
        select(Message.conversation_id, func.count())
        .where(
            Message.conversation_id.in_(conversation_ids),
            *_UNREAD,
        )
        .group_by(Message.conversation_id)
    )
    return dict(db.session.execute(query).all())


def list_for(
    user: User, owner_id: int | None = None, limit: int | None = None, before: int | None = None
) -> list[tuple[Conversation, int, Any]]:
    """(conversation, unread count, last inbound time) of those this user may see,
    newest activity first.

    `limit`: the first page only (None: all); `before`: the page after that
    conversation. For a page, unread counts and last inbound times are read for its
    conversations only (unread ones through ix_messages_unread).
    """
    query = select(Conversation)
    if not user.is_admin:
        query = query.where(Conversation.user_id == user.id)
    elif owner_id is not None:
        if not is_int_id(owner_id):
            return []  # no user can have that id
        query = query.where(Conversation.user_id == owner_id)
    if before is not None:
        query = query.where(_listed_after(get_listed(before, user)))
    query = query.order_by(*_list_order()).limit(limit)
    found = list(db.session.scalars(query))
    # A page: its own counts. Everything: every unread count at once (a parameter
    # per conversation would not fit in one statement).
    ids = {conversation.id for conversation in found}
    if limit is not None:
        unread, inbound = unread_counts_of(ids), _last_inbound_of(ids)
    else:
        unread = _all_unread_counts()
        times = reply_window.last_inbound_times()
        inbound = dict(
            db.session.execute(select(times.c.conversation_id, times.c.last_inbound)).all()
        )
    return [(c, unread.get(c.id, 0), inbound.get(c.id)) for c in found]


def _last_inbound_of(conversation_ids: set[int]) -> dict:
    """The newest inbound message's time of each of these conversations (absent: none)."""
    if not conversation_ids:
        return {}
    query = (
        select(Message.conversation_id, func.max(Message.timestamp))
        .where(Message.conversation_id.in_(conversation_ids), Message.direction == "INBOUND")
        .group_by(Message.conversation_id)
    )
    return dict(db.session.execute(query).all())


def _list_order():
    """Newest activity first, conversations without messages last, then newest id.

    SQLite already sorts NULL last in a descending order; saying NULLS LAST there
    would keep it from walking ix_conversations_owner_activity (PostgreSQL's
    index is declared DESC NULLS LAST, so it walks it as written).
    """
    activity = Conversation.last_message_at.desc()
    if db.session.get_bind().dialect.name != "sqlite":
        activity = activity.nulls_last()
    return activity, Conversation.id.desc()


def get_listed(conversation_id: int, user: User) -> Conversation:
    """The `before` cursor: a conversation this user may see, else 400."""
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None or not can_access(user, conversation.user_id):
        raise ValidationError("before is not a conversation you can see", field="before")
    return conversation


def _listed_after(cursor: Conversation):
    """The conversations after `cursor` in the list order."""
    at, id_ = Conversation.last_message_at, Conversation.id
    if cursor.last_message_at is None:
        return and_(at.is_(None), id_ < cursor.id)
    return or_(
        at < cursor.last_message_at,
        and_(at == cursor.last_message_at, id_ < cursor.id),
        at.is_(None),
    )


def message_by_id(message_id: str, field: str) -> Message:
    """A message looked up as a cursor; an unknown id is the client's mistake."""
    message = db.session.scalar(select(Message).where(Message.id == message_id))
    if message is None:
        raise ValidationError(f"{field} is not a known message id", field=field)
    return message


def messages_page(conversation: Conversation, limit: int, before: str | None) -> list[Message]:
    """Up to `limit` messages before the `before` message, oldest first."""
    query = select(Message).where(Message.conversation_id == conversation.id)
    if before:
        query = query.where(Message.seq < message_by_id(before, "before").seq)
    newest_first = db.session.scalars(query.order_by(Message.seq.desc()).limit(limit))
    return list(reversed(list(newest_first)))
