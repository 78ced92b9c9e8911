"""POST /api/webhooks/n8n/status: a reply's delivery status reported by n8n."""

from app.schemas.http import WEBHOOK, operation
from app.schemas.webhooks import StatusApplied, StatusData, StatusReport
from app.services import delivery_status
from app.webhooks import bp
from app.webhooks.verification import webhook_required


@bp.post("/n8n/status")
@webhook_required
@operation(
    body=StatusReport, responses={200: StatusApplied}, errors=(400, 401, 404, 409), security=WEBHOOK
)
def receive_status(body: StatusReport):
    """Apply a reply's delivery status; it never moves backwards (a late one is accepted, ignored).

    `message_id` is ours or the WhatsApp id n8n got back. Each change emits `message_status`.
    """
    message = delivery_status.find_reply(body.message_id)
    event = delivery_status.report(message, body.status, body.timestamp, body.error)
    data = StatusData(
        id=message.id,
        conversation_id=message.conversation_id,
        status=message.status,
        error=message.error if message.status == "failed" else None,
    )
    return StatusApplied(changed=event is not None, data=data)
