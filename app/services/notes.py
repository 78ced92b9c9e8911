"""Internal notes: messages for colleagues, in the thread but never sent to the customer."""

from app.models import Conversation, User
from app.schemas.messages import SentMessage
from app.services import messages

NOTE = "note"


def create(conversation: Conversation, author: User, content: str) -> SentMessage:
    """Store a note and emit it as `new_message` (messageType "note").

    Written by the message write path like a reply, but with no delivery
    status, so it gets no outbox row: nothing ever hands it to n8n or WhatsApp.
    The caller has checked that `author` may write in the conversation.
    """
    draft = messages.Draft(
        user_id=conversation.user_id,
        customer_phone=conversation.customer_phone,
        customer_name="",  # keeps the conversation's
        content=content,
        message_type=NOTE,
        direction="OUTBOUND",
        sent_by=author.id,
    )
    stored = messages.write(draft)
    return SentMessage(**dict(stored.payload), status=None)
