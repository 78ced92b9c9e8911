"""Webhooks called by n8n and by Meta (the WhatsApp Cloud API)."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/api/webhooks")

from app.webhooks import n8n, status, whatsapp  # noqa: E402,F401
