"""Replies from the inbox: stored OUTBOUND `pending` and queued for sending in one transaction."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.media.ingest import StoredFile
from app.models import Conversation, Message, User
from app.schemas.messages import SentMessage
from app.schemas.templates import TemplateReply
from app.services import messages, outbox, reply_window, templates


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
    conversation: Conversation,
    author: User,
    content: str | None,
    client_message_id: str | None,
    media: StoredFile | None = None,
    message_type: str = "text",
    template: TemplateReply | None = None,
) -> tuple[SentMessage, bool]:
    """Store a reply, queue it for sending and emit `new_message`; returns (reply, created).

    Written by the same code as a webhook's message (messages.write). The caller
    has checked that `author` may write in the conversation. A repeated
    clientMessageId, even one racing the first, returns the stored reply and
    neither stores nor sends anything again. Free-form content needs the
    24-hour window open (reply_window); a template does not.
    """
    existing = find_by_client_id(conversation, client_message_id)
    if existing is not None:
        return SentMessage.of(existing), False
    if template is None:
        reply_window.ensure_open(conversation)
    draft = messages.Draft(
        user_id=conversation.user_id,
        customer_phone=conversation.customer_phone,
        customer_name="",  # keeps the conversation's
        content=content if template is None else templates.text_of(template),
        message_type=message_type if template is None else "template",
        media=media,
        direction="OUTBOUND",
        sent_by=author.id,
        client_message_id=client_message_id,
        status="pending",
        template=None if template is None else templates.as_json(template),
    )
    try:
        stored = messages.write(draft)
    except IntegrityError:
        existing = find_by_client_id(conversation, client_message_id)
        if existing is None:
            raise
        return SentMessage.of(existing), False
    outbox.notify()
    return SentMessage(**dict(stored.payload), status="pending"), True
