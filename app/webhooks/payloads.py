"""Validating n8n's message payload into an IncomingMessage, naming the bad field."""

import re

from app.errors import ValidationError
from app.models import DIRECTIONS
from app.services.messages import IncomingMessage
from app.timeutil import parse_timestamp

_MESSAGE_TYPE = re.compile(r"^[a-z_]{1,32}$")
MAX_CONTENT_CHARS = 60_000


def _string(body: dict, field: str, max_length: int, required: bool = True) -> str | None:
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} must be a non-empty string", field=field)
    if len(value) > max_length:
        raise ValidationError(f"{field} must be at most {max_length} characters", field=field)
    return value


def _user_id(body: dict) -> int:
    value = body.get("user_id")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise ValidationError("user_id must be a positive integer", field="user_id")
    return value


def _message_type(body: dict) -> str:
    value = body.get("message_type")
    if value is None:
        return "text"
    if not isinstance(value, str) or not _MESSAGE_TYPE.match(value.lower()):
        raise ValidationError(
            "message_type must be a word such as text or image", field="message_type"
        )
    return value.lower()


def _direction(body: dict) -> str:
    value = body.get("direction")
    if value is None:
        return "INBOUND"
    if not isinstance(value, str) or value.upper() not in DIRECTIONS:
        raise ValidationError("direction must be INBOUND or OUTBOUND", field="direction")
    return value.upper()


def _timestamp(body: dict):
    value = body.get("timestamp")
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except (ValueError, OverflowError, OSError):
        raise ValidationError(
            "timestamp must be ISO-8601 or Unix seconds", field="timestamp"
        ) from None


def incoming_message(body) -> IncomingMessage:
    """The validated message, or ValidationError naming the first bad field."""
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object", field="body")
    return IncomingMessage(
        user_id=_user_id(body),
        customer_name=_string(body, "customer_name", 255).strip(),
        customer_phone=_string(body, "customer_phone", 64).strip(),
        content=_string(body, "message_content", MAX_CONTENT_CHARS),
        message_type=_message_type(body),
        direction=_direction(body),
        timestamp=_timestamp(body),
        whatsapp_id=_string(body, "message_id", 255, required=False),
    )
