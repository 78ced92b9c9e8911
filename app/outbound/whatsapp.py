"""Sending a reply straight to WhatsApp: the Graph API's /{phone_number_id}/messages.

Used when OUTBOUND_TRANSPORT=whatsapp, from the same durable queue as the n8n
hand-off (app/outbound/sender.py). A refusal WhatsApp will repeat whatever we
do (a 4xx other than a rate limit) fails the reply at once with WhatsApp's
code and reason; anything else (5xx, rate limits, timeouts, a network error)
is retried with the queue's backoff.
"""

import json

import requests
from flask import current_app

from app.outbound.n8n import HandOffError, short
from app.services import whatsapp_numbers

CAPTIONED = ("image", "video", "document")
# Graph API codes that mean "slow down", retried like a 5xx: API and pair rate limits.
RATE_LIMIT_CODES = {4, 80007, 130429, 131048, 131056}


class Refused(HandOffError):
    """WhatsApp refused the message for good; `code` is its error code."""

    def __init__(self, reason: str, code: int | None):
        super().__init__(reason)
        self.code = code


def message_body(payload: dict) -> dict:
    """The Graph API body for one reply (text, template or file) of the outbox's payload."""
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": payload["customer_phone"],
    }
    if payload.get("template"):
        return {**body, "type": "template", "template": payload["template"]}
    if payload.get("media_url"):
        kind = payload["message_type"]
        return {**body, "type": kind, kind: _media_object(kind, payload)}
    return {
        **body,
        "type": "text",
        "text": {"preview_url": False, "body": payload["message_content"]},
    }


def _media_object(kind: str, payload: dict) -> dict:
    """A file by link: WhatsApp downloads it from our signed media_url (PUBLIC_URL must be
    reachable from the internet). Captions go with images, videos and documents only;
    a file name with documents."""
    found = {"link": payload["media_url"]}
    if payload.get("caption") and kind in CAPTIONED:
        found["caption"] = payload["caption"]
    if payload.get("filename") and kind == "document":
        found["filename"] = payload["filename"]
    return found


def _messages_url(phone_number_id: str) -> str:
    """{WHATSAPP_GRAPH_URL}/{WHATSAPP_GRAPH_VERSION}/{phone_number_id}/messages"""
    config = current_app.config
    base = f"{config['WHATSAPP_GRAPH_URL']}/{config['WHATSAPP_GRAPH_VERSION']}"
    return f"{base}/{phone_number_id}/messages"


def _graph_error(response: requests.Response) -> tuple[str, int | None]:
    """WhatsApp's reason and code from an error answer ({"error": {...}})."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return f"HTTP {response.status_code}: {short(response.text)}", None
    details = (error.get("error_data") or {}).get("details") or ""
    reason = " ".join(str(part) for part in (error.get("message"), details) if part)
    code = error.get("code") if isinstance(error.get("code"), int) else None
    return short(reason or f"HTTP {response.status_code}"), code


def _wamid(response: requests.Response) -> str:
    try:
        return str(response.json()["messages"][0]["id"])[:255]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise HandOffError(
            f"the Graph API answered without a message id: {short(response.text)}"
        ) from exc


def send(payload: dict) -> str:
    """Send one reply; returns its wamid, or raises HandOffError (Refused: do not retry)."""
    config = current_app.config
    sender = whatsapp_numbers.sending_number(payload["user_id"])
    if sender is None:
        raise HandOffError(
            f"no WhatsApp number is tied to user {payload['user_id']} (flask numbers add)"
        )
    try:
        response = requests.post(
            _messages_url(sender),
            data=json.dumps(message_body(payload)),
            headers={
                "Authorization": f"Bearer {config['WHATSAPP_ACCESS_TOKEN']}",
                "Content-Type": "application/json",
            },
            timeout=config["OUTBOUND_TIMEOUT_SECONDS"],
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise HandOffError(f"Graph API unreachable: {short(exc)}") from exc
    if 200 <= response.status_code < 300:
        return _wamid(response)
    reason, code = _graph_error(response)
    if (
        400 <= response.status_code < 500
        and response.status_code != 429
        and code not in RATE_LIMIT_CODES
    ):
        raise Refused(reason, code)
    raise HandOffError(f"Graph API answered HTTP {response.status_code}: {reason}")
