"""POST /api/webhooks/n8n/status: a reply's delivery status reported by n8n."""

from flask import jsonify, request

from app.services import delivery_status
from app.webhooks import bp
from app.webhooks.payloads import status_report
from app.webhooks.verification import verify_request


@bp.post("/n8n/status")
def receive_status():
    """Apply the status under the monotonic rule; a late or repeated one is accepted, ignored."""
    verify_request()
    report = status_report(request.get_json(silent=True))
    message = delivery_status.find_reply(report.message_id)
    event = delivery_status.report(message, report.status, report.at, report.error)
    data = {"id": message.id, "conversationId": message.conversation_id, **message.delivery()}
    return jsonify({"success": True, "changed": event is not None, "data": data}), 200
