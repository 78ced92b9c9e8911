"""Starting a conversation with a customer who has not written: the agent's first message.

It is a reply (replies.send) to the caller's conversation with the number,
which is created on sending if there is none: the same 24-hour window rule
(a number that never wrote has no window, so only a template goes out), the
same idempotency on clientMessageId, the same write path and queue.
"""

from app import phones
from app.models import User
from app.schemas.messages import SentMessage
from app.schemas.workflow import NewConversation
from app.services import replies


def start(author: User, request: NewConversation) -> tuple[SentMessage, bool]:
    """Send the first message of the author's conversation with this number.

    Returns (message, created); an existing conversation with the number simply
    gets the message, under its own window. The same clientMessageId again
    sends nothing twice.
    """
    recipient = replies.Recipient.number(
        author.id,
        phones.normalise(request.customer_phone),  # E.164, as every path stores it
        request.customer_name or "",
    )
    return replies.send(
        recipient,
        author,
        request.content,
        request.client_message_id,
        template=request.template,
    )
