"""Replies from the inbox: stored OUTBOUND `pending` and queued for sending in one transaction.

A reply in a conversation and an agent's first message to a number
(POST /api/conversations) are the same thing here: the same window rule,
the same idempotency on clientMessageId, the same message write path.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.media.ingest import StoredFile
from app.models import Conversation, Message, User
from app.schemas.messages import SentMessage
from app.schemas.templates import TemplateReply
from app.services import messages, outbox, reply_window, templates


@dataclass(frozen=True)
class Recipient:
    """Whom a reply goes to: an owner's conversation with a number, which may not exist yet."""

    owner_id: int
    phone: str  # E.164
    conversation: Conversation | None  # None: the owner never talked with this number
    customer_name: str = ""  # "" keeps the conversation's stored name

    @classmethod
    def of(cls, conversation: Conversation) -> "Recipient":
        return cls(conversation.user_id, conversation.customer_phone, conversation)

    @classmethod
    def number(cls, owner_id: int, phone: str, customer_name: str = "") -> "Recipient":
        """The owner's conversation with `phone` if there is one, else a new one on sending."""
        conversation = db.session.scalar(
            select(Conversation).where(
                Conversation.user_id == owner_id, Conversation.customer_phone == phone
            )
        )
        return cls(owner_id, phone, conversation, customer_name)


def find_by_client_id(
    conversation: Conversation | None, client_message_id: str | None
) -> Message | None:
    """The reply a client already posted to this conversation under this id."""
    if conversation is None or not client_message_id:
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
    """A reply in an existing conversation (see send)."""
    return send(
        Recipient.of(conversation),
        author,
        content,
        client_message_id,
        media=media,
        message_type=message_type,
        template=template,
    )


def send(
    recipient: Recipient,
    author: User,
    content: str | None,
    client_message_id: str | None,
    media: StoredFile | None = None,
    message_type: str = "text",
    template: TemplateReply | None = None,
) -> tuple[SentMessage, bool]:
    """Store a reply, queue it for sending and emit `new_message`; returns (reply, created).

    Written by the same code as a webhook's message (messages.write), which
    creates the conversation when the recipient has none yet. The caller has
    checked that `author` may write to the recipient. A repeated
    clientMessageId, even one racing the first, returns the stored reply and
    neither stores nor sends anything again. Free-form content needs the
    24-hour window open (reply_window; a number that never wrote has none);
    a template does not.
    """
    existing = find_by_client_id(recipient.conversation, client_message_id)
    if existing is not None:
        return SentMessage.of(existing), False
    if template is None:
        reply_window.ensure_open(recipient.conversation)
    draft = messages.Draft(
        user_id=recipient.owner_id,
        customer_phone=recipient.phone,
        customer_name=recipient.customer_name,
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
        # A racing request with the same clientMessageId won (and may have
        # created the conversation): answer with its reply.
        again = Recipient.number(recipient.owner_id, recipient.phone)
        existing = find_by_client_id(again.conversation, client_message_id)
        if existing is None:
            raise
        return SentMessage.of(existing), False
    outbox.notify()
    return SentMessage(**dict(stored.payload), status="pending"), True
