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

from app.errors import ValidationError
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


MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
# Types stored without text of their own: the file or the place is the message.
_WITHOUT_TEXT = (*MEDIA_TYPES, "location", "reaction", "unsupported")


class MediaIn(BaseModel):
    """A WhatsApp file: by `url` (the server downloads it), or as the multipart `file` part."""

    url: Text(2048, strip=True) | None = Field(
        None, description="Where to download it (required unless the request is multipart)"
    )
    mime_type: Text(127, strip=True) = Field(examples=["image/jpeg"])
    filename: Text(255, strip=True) | None = None
    caption: Text(MAX_CONTENT_CHARS) | None = None
    sha256: Text(128, strip=True) | None = Field(
        None, description="WhatsApp's SHA-256 of the file (base64 or hex): checked when given"
    )
    voice: bool = Field(False, description="A voice note")


class LocationIn(BaseModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    name: Text(255, strip=True) | None = None
    address: Text(1000, strip=True) | None = None


class ContextIn(BaseModel):
    """The message this one quotes."""

    message_id: Text(255, strip=True) = Field(description="The quoted message's WhatsApp id")


class ReactionIn(BaseModel):
    message_id: Text(255, strip=True) = Field(description="The reacted message's WhatsApp id")
    emoji: Annotated[str, Field(max_length=16), AfterValidator(without_nul)] = Field(
        description='The emoji; "" removes the reaction', examples=["👍"]
    )


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
    message_content: Text(MAX_CONTENT_CHARS) | None = Field(
        None, description="The text; optional for media (then the caption), location, reaction"
    )
    message_type: MessageType = "text"
    direction: Direction = "INBOUND"
    timestamp: TimestampInput = None
    message_id: Text(255) | None = Field(
        None, description="The WhatsApp message id: the idempotency key"
    )
    media: MediaIn | None = None
    location: LocationIn | None = None
    context: ContextIn | None = None
    reaction: ReactionIn | None = None

    @model_validator(mode="after")
    def _parts_of_its_type(self) -> "IncomingMessage":
        """Each type has what it needs: a reaction its target, a location its place,
        media its file (a type named as media may still come as text), others text."""
        if self.message_type == "reaction" and self.reaction is None:
            raise ValidationError("reaction is required for a reaction", field="reaction")
        if self.message_type == "location" and self.location is None:
            raise ValidationError("location is required for a location", field="location")
        if self.media is not None and self.message_type not in MEDIA_TYPES:
            raise ValidationError(
                "message_type must be one of " + ", ".join(MEDIA_TYPES) + " for media",
                field="message_type",
            )
        if self.message_content is None:
            if self.media is not None and self.media.caption:
                self.message_content = self.media.caption
            elif self.message_type not in _WITHOUT_TEXT:
                raise ValidationError(
                    "message_content must be a non-empty string", field="message_content"
                )
        return self


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
