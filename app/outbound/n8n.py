"""One hand-off of a reply to n8n over HTTP."""

import requests
from flask import current_app

# Enough of n8n's answer or of the network error to tell an operator what happened.
_REASON_CHARS = 300


class HandOffError(Exception):
    """n8n did not take the reply; the message says why."""


def short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _REASON_CHARS else text[: _REASON_CHARS - 1] + "…"


def _whatsapp_id(response: requests.Response) -> str | None:
    """The WhatsApp id n8n may report in its 2xx body, for later status look-ups."""
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get("whatsapp_message_id") if isinstance(body, dict) else None
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:255]


def hand_off(payload: dict) -> str | None:
    """POST the reply to N8N_OUTBOUND_URL; returns n8n's WhatsApp id, or raises HandOffError."""
    config = current_app.config
    if not config["N8N_OUTBOUND_URL"]:
        raise HandOffError("N8N_OUTBOUND_URL is not configured")
    try:
        response = requests.post(
            config["N8N_OUTBOUND_URL"],
            json=payload,
            headers={"X-Webhook-Secret": config["N8N_WEBHOOK_SECRET"]},
            timeout=config["OUTBOUND_TIMEOUT_SECONDS"],
            # A redirected POST would turn into a GET; n8n's URL is configured exactly.
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise HandOffError(f"n8n unreachable: {short(exc)}") from exc
    if not 200 <= response.status_code < 300:
        raise HandOffError(f"n8n answered HTTP {response.status_code}: {short(response.text)}")
    return _whatsapp_id(response)
