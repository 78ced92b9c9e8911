"""GET/POST /api/webhooks/whatsapp: Meta's WhatsApp Cloud API webhook, without n8n."""

import hmac

from flask import current_app

from app.channels import whatsapp_cloud
from app.errors import Forbidden
from app.schemas.http import META_SIGNATURE, operation
from app.schemas.whatsapp import Envelope, Receipt, VerifyQuery
from app.webhooks import bp
from app.webhooks.meta_signature import meta_signature_required


@bp.get("/whatsapp")
@operation(query=VerifyQuery, responses={200: "text/plain"}, errors=(403,), common_errors=False)
def verify_subscription(query: VerifyQuery):
    """Meta's verification handshake: echo `hub.challenge` when the verify token matches.

    403 unless `hub.mode` is `subscribe` and `hub.verify_token` equals WHATSAPP_VERIFY_TOKEN.
    """
    expected = current_app.config["WHATSAPP_VERIFY_TOKEN"]
    matches = hmac.compare_digest(query.verify_token.encode(), expected.encode())
    if not expected or query.mode != "subscribe" or not matches:
        raise Forbidden("hub.verify_token does not match WHATSAPP_VERIFY_TOKEN")
    return current_app.response_class(query.challenge, mimetype="text/plain")


@bp.post("/whatsapp")
@meta_signature_required
@operation(body=Envelope, responses={200: Receipt}, errors=(400, 401), security=META_SIGNATURE)
def receive(body: Envelope):
    """Store every message and apply every status of Meta's envelope; 200 once all are stored.

    Signed by Meta (X-Hub-Signature-256 with WHATSAPP_APP_SECRET). Messages are
    idempotent on their wamid; a change for a number no user owns is answered
    200 and logged (Meta must not retry it); 503 on a database outage, so Meta
    retries the whole envelope (what was stored is then a duplicate).
    """
    tally = whatsapp_cloud.receive(body)
    return Receipt(
        stored=tally.stored,
        duplicates=tally.duplicates,
        statuses=tally.statuses,
        ignored=tally.ignored,
    )
