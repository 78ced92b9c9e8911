"""Reading conversations and their messages, with ownership enforced."""

from sqlalchemy import func, select

from app.errors import Forbidden, NotFound, ValidationError
from app.extensions import db
from app.models import Conversation, Message, User
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


def _unread_counts():
    return (
        select(Message.conversation_id, func.count().label("unread"))
        .where(Message.direction == "INBOUND", Message.is_read.is_(False))
        .group_by(Message.conversation_id)
        .subquery()
    )


def unread_counts_of(conversation_ids: set[int]) -> dict[int, int]:
    """Unread inbound messages of these conversations (absent: none)."""
    if not conversation_ids:
        return {}
    query = (
        select(Message.conversation_id, func.count())
        .where(
            Message.conversation_id.in_(conversation_ids),
            Message.direction == "INBOUND",
            Message.is_read.is_(False),
        )
        .group_by(Message.conversation_id)
    )
    return dict(db.session.execute(query).all())


def list_for(user: User, owner_id: int | None = None) -> list[tuple[Conversation, int]]:
    """(conversation, unread count) of those this user may see, newest activity first."""
    unread = _unread_counts()
    query = select(Conversation, func.coalesce(unread.c.unread, 0)).outerjoin(
        unread, unread.c.conversation_id == Conversation.id
    )
    if not user.is_admin:
        query = query.where(Conversation.user_id == user.id)
    elif owner_id is not None:
        if not is_int_id(owner_id):
            return []  # no user can have that id
        query = query.where(Conversation.user_id == owner_id)
    query = query.order_by(Conversation.last_message_at.desc().nulls_last(), Conversation.id.desc())
    return [(conversation, count) for conversation, count in db.session.execute(query)]


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
