"""Validating n8n's message payload into an IncomingMessage, naming the bad field."""

import re
from dataclasses import dataclass
from datetime import datetime

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
    return _without_nul(value, field)


def _user_id(body: dict) -> int:
    value = body.get("user_id")
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON has one number type: 7.0 is the integer 7
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise ValidationError("user_id must be a positive integer", field="user_id")
    return value


def _message_type(body: dict) -> str:
    value = body.get("message_type")
    if value is None:
        return "text"
    if not isinstance(value, str) or not _MESSAGE_TYPE.fullmatch(value.lower()):
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


REPORTED_STATUSES = ("sent", "delivered", "read", "failed")
MAX_ERROR_CHARS = 1000


@dataclass(frozen=True)
class StatusReport:
    """A validated delivery status of one reply, as n8n reports it."""

    message_id: str
    status: str
    at: datetime | None
    error: str | None


def _status(body: dict) -> str:
    value = body.get("status")
    if not isinstance(value, str) or value.strip().lower() not in REPORTED_STATUSES:
        raise ValidationError(
            "status must be one of " + ", ".join(REPORTED_STATUSES), field="status"
        )
    return value.strip().lower()


def _without_nul(value: str, field: str) -> str:
    """Refuse NUL characters, which PostgreSQL cannot store or compare in text."""
    if "\x00" in value:
        raise ValidationError(f"{field} must not contain NUL characters", field=field)
    return value


def _error(body: dict, status: str) -> str | None:
    """The failure reason (kept for `failed` only); an empty one counts as absent."""
    value = body.get("error")
    if value is not None and not isinstance(value, str):
        raise ValidationError("error must be a string", field="error")
    if value is not None:
        _without_nul(value, "error")
    if value is not None and len(value) > MAX_ERROR_CHARS:
        raise ValidationError(f"error must be at most {MAX_ERROR_CHARS} characters", field="error")
    if status != "failed":
        return None
    return (value or "").strip() or "reported as failed by n8n"


def status_report(body) -> StatusReport:
    """The validated status report, or ValidationError naming the first bad field."""
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object", field="body")
    message_id = _without_nul(_string(body, "message_id", 255).strip(), "message_id")
    status = _status(body)
    return StatusReport(message_id, status, _timestamp(body), _error(body, status))
