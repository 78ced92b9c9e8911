"""Checking that a webhook request comes from our n8n: a signature, or the shared secret.

A signed request carries `X-Signature-256: sha256=<hex HMAC-SHA256>` over
"<X-Signature-Timestamp>.<raw body>" keyed with N8N_WEBHOOK_SECRET. The
timestamp (Unix seconds) must lie within SIGNATURE_TOLERANCE_SECONDS of our
clock, so a captured request cannot be replayed later. Within the window a
signature is accepted once (app/signature_ledger.py); a repeat is let through only when
its body names a `message_id`, which makes it a harmless duplicate.
"""

import functools
import hashlib
import hmac
import time

from flask import after_this_request, current_app, request

from app.errors import Unauthorized
from app.state import state

SIGNATURE_HEADER = "X-Signature-256"
TIMESTAMP_HEADER = "X-Signature-Timestamp"
SECRET_HEADER = "X-Webhook-Secret"
SIGNATURE_TOLERANCE_SECONDS = 300
_SIGNATURE_PREFIX = "sha256="


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Signature-256 value for a body sent at `timestamp` (what n8n computes)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return _SIGNATURE_PREFIX + digest.hexdigest()


def verify_request() -> None:
    """Accept a valid recent signature, or (unless signatures are required) the secret."""
    secret = current_app.config["N8N_WEBHOOK_SECRET"]
    if not secret:
        raise Unauthorized("Webhook secret is not configured")
    if SIGNATURE_HEADER in request.headers:
        _verify_signature(secret)
    elif current_app.config["WEBHOOK_REQUIRE_SIGNATURE"]:
        raise Unauthorized(f"A signed request ({SIGNATURE_HEADER}) is required")
    else:
        _verify_secret_header(secret)


def webhook_required(view):
    """Verify the request (verify_request) before anything else, its body included."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        verify_request()
        return view(*args, **kwargs)

    return wrapper


def _verify_secret_header(secret: str) -> None:
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise Unauthorized("Invalid or missing webhook secret")


def _verify_signature(secret: str) -> None:
    timestamp = request.headers.get(TIMESTAMP_HEADER, "").strip()
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise Unauthorized(f"{TIMESTAMP_HEADER} must be Unix seconds")
    if abs(time.time() - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
        raise Unauthorized("Signature timestamp is outside the allowed window")
    # get_data caches the raw body, so the JSON parser later reads the same bytes.
    expected = sign(secret, timestamp, request.get_data(cache=True))
    given = request.headers.get(SIGNATURE_HEADER, "").strip()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("Invalid webhook signature")
    _claim_once(expected, int(timestamp) + SIGNATURE_TOLERANCE_SECONDS)


def _claim_once(signature: str, valid_until: float) -> None:
    """Refuse a signature already used, unless the body's message_id makes the repeat
    a duplicate; a request that stores nothing gives its claim back."""
    ledger = state().webhook_signatures
    if not ledger.claim(signature, valid_until):
        if _names_a_message_id():
            return
        raise Unauthorized("Webhook signature already used")

    @after_this_request
    def release_unless_stored(response):
        if response.status_code >= 400:
            ledger.release(signature)
        return response


def _names_a_message_id() -> bool:
    body = request.get_json(silent=True, cache=True)
    return (
        isinstance(body, dict)
        and isinstance(body.get("message_id"), str)
        and bool(body["message_id"].strip())
    )
