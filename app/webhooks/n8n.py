"""POST /api/webhooks/n8n/message: a WhatsApp message reported by n8n."""

from flask import jsonify, request

from app.services import messages
from app.webhooks import bp
from app.webhooks.payloads import incoming_message
from app.webhooks.verification import verify_request


@bp.post("/n8n/message")
def receive_message():
    """Store the message and emit it; a repeated message_id is answered, not stored."""
    verify_request()
    message, created = messages.store(incoming_message(request.get_json(silent=True)))
    data = {"id": message.id, "conversationId": message.conversation_id}
    if created:
        return jsonify({"success": True, "data": data}), 201
    return jsonify({"success": True, "duplicate": True, "data": data}), 200
