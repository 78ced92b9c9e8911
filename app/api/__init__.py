"""The REST API under /api: one module per resource."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api", template_folder="templates")

from app.api import (  # noqa: E402,F401
    auth,
    canned_responses,
    conversations,
    docs,
    events,
    media,
    messages,
    realtime,
    reports,
    search,
    templates,
    users,
)
