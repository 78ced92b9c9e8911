"""Starting a conversation with a customer who has not written: the agent's first message.

The message goes out like any reply (the message write path, `pending`, the
durable queue to n8n). WhatsApp itself only lets a business open a
conversation with a template message; the Cloud API lane's template replies
(`{template: {...}}`) take this path over once they are merged.
"""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import phones
from app.extensions import db
from app.models import Conversation, Message, User
from app.schemas.messages import SentMessage
from app.schemas.workflow import NewConversation
from app.services import messages, outbox


def _existing(author: User, phone: str, client_message_id: str | None) -> Message | None:
    if not client_message_id:
        return None
    return db.session.scalar(
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.user_id == author.id,
            Conversation.customer_phone == phone,
            Message.client_message_id == client_message_id,
        )
    )


def start(author: User, request: NewConversation) -> tuple[SentMessage, bool]:
    """Store the first message of the author's conversation with this number and queue it.

    Returns (message, created); an existing conversation with the number simply
    gets the message. The same clientMessageId again sends nothing twice.
    """
    phone = phones.normalise(request.customer_phone)  # E.164, as every path stores it
    existing = _existing(author, phone, request.client_message_id)
    if existing is not None:
        return SentMessage.of(existing), False
    draft = messages.Draft(
        user_id=author.id,
        customer_phone=phone,
        customer_name=request.customer_name or "",
        content=request.content,
        direction="OUTBOUND",
        sent_by=author.id,
        client_message_id=request.client_message_id,
        status="pending",
    )
    try:
        stored = messages.write(draft)
    except IntegrityError:
        existing = _existing(author, phone, request.client_message_id)
        if existing is None:
            raise
        return SentMessage.of(existing), False
    outbox.notify()
    return SentMessage(**dict(stored.payload), status="pending"), True
