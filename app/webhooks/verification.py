"""Checking that a webhook request comes from our n8n."""

import hmac

from flask import current_app, request

from app.errors import Unauthorized


def verify_request() -> None:
    """Accept the request only with the shared secret, compared in constant time."""
    expected = current_app.config["N8N_WEBHOOK_SECRET"]
    given = request.headers.get("X-Webhook-Secret", "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("Invalid or missing webhook secret")
