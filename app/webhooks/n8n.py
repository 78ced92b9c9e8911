"""POST /api/webhooks/n8n/message: a WhatsApp message reported by n8n."""

from app.schemas.http import WEBHOOK, operation
from app.schemas.webhooks import IncomingMessage, Stored, StoredId
from app.services import messages
from app.webhooks import bp
from app.webhooks.verification import webhook_required


@bp.post("/n8n/message")
@webhook_required
@operation(
    body=IncomingMessage,
    responses={201: Stored, 200: Stored},
    errors=(400, 401, 404),
    security=WEBHOOK,
)
def receive_message(body: IncomingMessage):
    """Store a WhatsApp message and emit `new_message`; idempotent on message_id.

    The same `message_id` again answers 200 with `duplicate: true`; nothing is
    stored or emitted twice. 503 when the database is down, so n8n retries.
    """
    message, created = messages.store(body)
    data = StoredId(id=message.id, conversation_id=message.conversation_id)
    if created:
        return Stored(data=data), 201
    return Stored(duplicate=True, data=data), 200
