"""POST /api/webhooks/n8n/message: a WhatsApp message reported by n8n."""

from flask import request
from pydantic import BaseModel, Field

from app.errors import ValidationError
from app.media import inbound
from app.schemas import validation
from app.schemas.http import WEBHOOK, operation
from app.schemas.webhooks import IncomingMessage, Stored, StoredId
from app.services import reactions
from app.webhooks import bp
from app.webhooks.verification import webhook_required


class WebhookUpload(BaseModel):
    """The webhook as multipart/form-data: the JSON body in `payload`, the file in `file`."""

    payload: str = Field(description="The JSON body (IncomingMessage) as text")
    file: bytes = Field(json_schema_extra={"format": "binary"}, description="The media file")


@bp.post("/n8n/message")
@webhook_required
@operation(
    body=IncomingMessage,
    multipart=WebhookUpload,
    responses={201: Stored, 200: Stored},
    errors=(400, 401, 404, 502),
    security=WEBHOOK,
)
def receive_message(body: IncomingMessage | None):
    """Store a WhatsApp message and emit `new_message`; idempotent on message_id.

    The same `message_id` again answers 200 with `duplicate: true`; nothing is
    stored or emitted twice. Media come by `media.url` (downloaded; 502 when
    that fails, nothing stored) or as multipart `payload` + `file`. A reaction
    changes the reacted message and answers 200. 503 when the database is
    down, so n8n retries.
    """
    part = None
    if body is None:
        body, part = _multipart()
    if body.message_type == "reaction":
        message = reactions.react(body.reaction.message_id, body.reaction.emoji)
        return Stored(data=StoredId(id=message.id, conversation_id=message.conversation_id)), 200
    message, created = inbound.receive(body, part)
    data = StoredId(id=message.id, conversation_id=message.conversation_id)
    if created:
        return Stored(data=data), 201
    return Stored(duplicate=True, data=data), 200


def _multipart():
    """The multipart request's JSON `payload` and its `file` part."""
    payload = request.form.get("payload")
    if payload is None:
        raise ValidationError("payload (the JSON body) is required", field="payload")
    part = request.files.get("file")
    if part is None:
        raise ValidationError("file is required in a multipart request", field="file")
    return validation.json_text(IncomingMessage, payload), part
