"""Webhooks called by n8n."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/api/webhooks")

from app.webhooks import n8n, status  # noqa: E402,F401
