"""WhatsApp's 24-hour customer service window: when free-form replies are allowed.

The window closes 24 hours after the customer's last inbound message (by
WhatsApp's time); after it, or before the customer ever wrote, only an
approved template may be sent (WhatsApp refuses anything else with 131047).
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from app.errors import Conflict
from app.extensions import db
from app.models import Conversation, Message
from app.timeutil import utcnow

WINDOW = timedelta(hours=24)


class WindowClosed(Conflict):
    code = "window_closed"


def last_inbound_times():
    """A subquery: conversation_id -> the time of its customer's last message."""
    return (
        select(Message.conversation_id, func.max(Message.timestamp).label("last_inbound"))
        .where(Message.direction == "INBOUND")
        .group_by(Message.conversation_id)
        .subquery()
    )


def expires_at(last_inbound: datetime | None) -> datetime | None:
    """When the window of a customer who last wrote at `last_inbound` closes (None: never open)."""
    return None if last_inbound is None else last_inbound + WINDOW


def window_of(conversation: Conversation) -> datetime | None:
    """The conversation's windowExpiresAt."""
    last = db.session.scalar(
        select(func.max(Message.timestamp)).where(
            Message.conversation_id == conversation.id, Message.direction == "INBOUND"
        )
    )
    return expires_at(last)


def ensure_open(conversation: Conversation) -> None:
    """Refuse (409 window_closed) a free-form reply outside the window."""
    if not current_app.config["REPLY_WINDOW_ENFORCED"]:
        return
    closes = window_of(conversation)
    if closes is None or closes <= utcnow():
        raise WindowClosed(
            "The customer last wrote more than 24 hours ago (or never): WhatsApp accepts only"
            " a template message now",
            field="content",
        )
