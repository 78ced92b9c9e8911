"""n8n's webhook payloads (snake_case, as its workflows write them) and our answers."""

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)

from app.schemas.common import (
    CamelModel,
    PhoneInput,
    Text,
    TimestampInput,
    UserIdInput,
    refuse,
    without_nul,
)

MAX_CONTENT_CHARS = 60_000
MAX_ERROR_CHARS = 1000
DIRECTIONS = ("INBOUND", "OUTBOUND")
REPORTED_STATUSES = ("sent", "delivered", "read", "failed")
_MESSAGE_TYPE = re.compile(r"[a-z_]{1,32}")


def _message_type(value: Any) -> str:
    if value is None:
        return "text"
    if not isinstance(value, str) or not _MESSAGE_TYPE.fullmatch(value.lower()):
        raise refuse("must be a word such as text or image")
    return value.lower()


MessageType = Annotated[
    str,
    PlainValidator(_message_type),
    WithJsonSchema(
        {
            "anyOf": [
                # K (U+212A, the Kelvin sign) lowers to k.
                {"type": "string", "pattern": "^[a-zA-Z_\\u212a]{1,32}$"},
                {"type": "null"},
            ],
            "default": "text",
            "examples": ["text"],
        },
        mode="validation",
    ),
]


def _direction(value: Any) -> str:
    if value is None:
        return "INBOUND"
    if not isinstance(value, str) or value.upper() not in DIRECTIONS:
        raise refuse("must be INBOUND or OUTBOUND")
    return value.upper()


Direction = Annotated[
    str,
    PlainValidator(_direction),
    WithJsonSchema(
        {"anyOf": [{"enum": list(DIRECTIONS)}, {"type": "null"}], "default": "INBOUND"},
        mode="validation",
    ),
]


def _reported_status(value: Any) -> str:
    if not isinstance(value, str) or value.strip().lower() not in REPORTED_STATUSES:
        raise refuse("must be one of " + ", ".join(REPORTED_STATUSES))
    return value.strip().lower()


ReportedStatus = Annotated[
    str,
    PlainValidator(_reported_status),
    WithJsonSchema({"enum": list(REPORTED_STATUSES)}, mode="validation"),
]


class IncomingMessage(BaseModel):
    """A WhatsApp message n8n reports: POST /api/webhooks/n8n/message."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "user_id": 7,
                    "customer_name": "Mehmet Demir",
                    "customer_phone": "+905551112233",
                    "message_content": "Merhaba, siparişim nerede?",
                    "message_id": "wamid.HBgMOTA1NTUxMTEyMjMzFQIAEhgUM0E",
                }
            ]
        }
    }

    user_id: UserIdInput
    customer_name: Text(255, strip=True)
    customer_phone: PhoneInput
    message_content: Text(MAX_CONTENT_CHARS)
    message_type: MessageType = "text"
    direction: Direction = "INBOUND"
    timestamp: TimestampInput = None
    message_id: Text(255) | None = Field(
        None, description="The WhatsApp message id: the idempotency key"
    )


class StatusReport(BaseModel):
    """A reply's delivery status as n8n reports it: POST /api/webhooks/n8n/status."""

    model_config = {
        "json_schema_extra": {
            "examples": [{"message_id": "wamid.HBgMOTA1NTUx", "status": "delivered"}]
        }
    }

    message_id: Text(255, strip=True, description="Our message id, or the WhatsApp id n8n got back")
    status: ReportedStatus
    timestamp: TimestampInput = None
    error: Annotated[str, Field(max_length=MAX_ERROR_CHARS), AfterValidator(without_nul)] | None = (
        Field(None, description="Why WhatsApp refused it (kept for `failed` only)")
    )

    @model_validator(mode="after")
    def _reason_for_failed_only(self) -> "StatusReport":
        """The failure reason is kept for `failed` only; an empty one gets a default."""
        if self.status != "failed":
            self.error = None
        else:
            self.error = (self.error or "").strip() or "reported as failed by n8n"
        return self


class StoredId(CamelModel):
    id: str = Field(description="Our message id")
    conversation_id: int


class Stored(BaseModel):
    """The message is stored (201), or was already (200, `duplicate`)."""

    success: Literal[True] = True
    duplicate: Literal[True] | None = Field(None, exclude_if=lambda v: v is None)
    data: StoredId


class StatusData(StoredId):
    status: str | None
    error: str | None = Field(None, exclude_if=lambda v: v is None)


class StatusApplied(BaseModel):
    """The report was applied (`changed`), or accepted and ignored."""

    success: Literal[True] = True
    changed: bool
    data: StatusData
