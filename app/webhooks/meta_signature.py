"""Checking that a Cloud API webhook comes from Meta: X-Hub-Signature-256 over the raw body.

Meta signs every POST with `sha256=<hex HMAC-SHA256 of the raw body>` keyed
with the app secret (WHATSAPP_APP_SECRET). Without a configured secret no
request can be verified, so every one is refused.
"""

import functools
import hashlib
import hmac

from flask import current_app, request

from app.errors import Unauthorized

META_SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value Meta sends for this body."""
    return _PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_request() -> None:
    """Refuse (401) a request whose signature is missing or does not match its body."""
    secret = current_app.config["WHATSAPP_APP_SECRET"]
    if not secret:
        raise Unauthorized("WHATSAPP_APP_SECRET is not configured")
    given = request.headers.get(META_SIGNATURE_HEADER, "").strip()
    if not given:
        raise Unauthorized(f"{META_SIGNATURE_HEADER} is missing")
    # get_data caches the raw body, so the JSON parser later reads the same bytes.
    expected = sign(secret, request.get_data(cache=True))
    if not hmac.compare_digest(given.lower().encode(), expected.encode()):
        raise Unauthorized(f"{META_SIGNATURE_HEADER} does not match the body")


def meta_signature_required(view):
    """Verify Meta's signature before anything else reads the body."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        verify_request()
        return view(*args, **kwargs)

    return wrapper
