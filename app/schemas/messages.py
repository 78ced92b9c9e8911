"""Messages as clients see them, over REST and in the durable Socket.IO events.

`NewMessage` is the `new_message` event; replies add their delivery status
(`SentMessage`), REST adds the read receipt (`Message`). The durable events'
payloads are declared without `eventId`, which the event log adds.
"""

from typing import Literal

from pydantic import Field

from app.schemas.common import CamelModel, UtcTime

DeliveryStatus = Literal["pending", "sent", "delivered", "read", "failed"]
MESSAGE_TYPES = (
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "button",
    "unsupported",
)


class MediaRef(CamelModel):
    """A message's file: `url` serves it (with its own short-lived credential)."""

    id: str = Field(examples=["med_4c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"])
    mime_type: str = Field(description="Sniffed from the bytes", examples=["image/jpeg"])
    size: int = Field(description="Bytes", examples=[48213])
    filename: str | None = Field(examples=["fatura.pdf"])
    caption: str | None
    voice: bool = Field(description="A voice note (audio recorded in WhatsApp)")
    url: str = Field(
        description="GET /api/media/<id> with a credential valid for MEDIA_URL_SECONDS",
        examples=["/api/media/med_4c1d2e3f?token=eyJ..."],
    )
    thumbnail_url: str | None = Field(None, description="A small JPEG of an image, if any")

    @classmethod
    def of(cls, media) -> "MediaRef | None":
        """The reference to a stored Media row (None for none)."""
        if media is None:
            return None
        from app.media import links

        return cls(
            id=media.id,
            mime_type=media.mime_type,
            size=media.size,
            filename=media.filename,
            caption=media.caption,
            voice=media.voice,
            url=links.media_url(media.id),
            thumbnail_url=links.media_url(media.id, thumbnail=True)
            if media.thumbnail_key
            else None,
        )


class Location(CamelModel):
    """A shared location."""

    latitude: float = Field(examples=[41.0082])
    longitude: float = Field(examples=[28.9784])
    name: str | None = Field(None, examples=["Galata Kulesi"])
    address: str | None = Field(None, examples=["Bereketzade, 34421 Beyoğlu/İstanbul"])


class NewMessage(CamelModel):
    """A stored message, inbound or a reply: the `new_message` event."""

    id: str = Field(examples=["msg_9b1f0c2e7d8a4f6b8c1d2e3f4a5b6c7d"])
    conversation_id: int = Field(examples=[12])
    user_id: int = Field(description="The conversation's owner", examples=[7])
    customer_name: str = Field(examples=["Mehmet Demir"])
    customer_phone: str = Field(examples=["+905551112233"])
    message_content: str = Field(examples=["Merhaba, siparişim nerede?"])
    message_type: str = Field(
        description="One of " + ", ".join(MESSAGE_TYPES), examples=["text", "image"]
    )
    direction: Literal["INBOUND", "OUTBOUND"]
    timestamp: UtcTime = Field(description="The WhatsApp time (a reply's: when it was written)")
    is_read: bool
    media: MediaRef | None = None
    location: Location | None = None
    reply_to: str | None = Field(None, description="Our id of the message this one quotes")
    reactions: dict[str, int] = Field(
        default_factory=dict, description="The customer's reaction: {emoji: count}"
    )

    @classmethod
    def of(cls, message, **extra):
        """The payload of a stored Message row (and of its conversation)."""
        return cls(
            media=MediaRef.of(message.media),
            location=message.location_dict,
            reply_to=message.reply_to,
            reactions=message.reaction_counts,
            id=message.id,
            conversation_id=message.conversation_id,
            user_id=message.user_id,
            customer_name=message.conversation.customer_name,
            customer_phone=message.conversation.customer_phone,
            message_content=message.content,
            message_type=message.message_type,
            direction=message.direction,
            timestamp=message.timestamp,
            is_read=message.is_read,
            **extra,
        )


class SentMessage(NewMessage):
    """A message with its delivery status (null for inbound): the reply endpoints' answer."""

    status: DeliveryStatus | None = Field(examples=["pending"])
    error: str | None = Field(
        None, description="Why a failed reply failed (failed only)", exclude_if=lambda v: v is None
    )
    error_code: int | None = Field(
        None,
        description="WhatsApp's error code of a failed reply (e.g. 131047), when it gave one",
        exclude_if=lambda v: v is None,
    )

    @classmethod
    def of(cls, message, **extra):
        failed = message.status == "failed"
        return super().of(
            message,
            status=message.status,
            error=message.error if failed else None,
            error_code=message.error_code if failed else None,
            **extra,
        )


class Message(SentMessage):
    """A message over REST: the event's keys, the delivery status and the read receipt."""

    read_by: int | None = Field(description="Who read it first")
    read_at: UtcTime | None

    @classmethod
    def of(cls, message, **extra):
        return super().of(message, read_by=message.read_by, read_at=message.read_at, **extra)


class MessageRead(CamelModel):
    """A message was read: the `message_read` event."""

    message_id: str
    conversation_id: int
    read_by: int
    read_at: UtcTime


class MessageReaction(CamelModel):
    """The customer reacted to a message (or took the reaction back): `message_reaction`."""

    message_id: str
    conversation_id: int
    reactions: dict[str, int] = Field(examples=[{"👍": 1}])


class MessageMedia(CamelModel):
    """A message's file arrived after the message (Cloud API files are fetched by id):
    `message_media`."""

    message_id: str
    conversation_id: int
    media: MediaRef


class MessageStatus(CamelModel):
    """A reply's delivery status changed: the `message_status` event."""

    message_id: str
    conversation_id: int
    status: DeliveryStatus
    at: UtcTime
    error: str | None = Field(
        None, description="Why it failed (failed only)", exclude_if=lambda v: v is None
    )
    error_code: int | None = Field(
        None, description="WhatsApp's error code (failed only)", exclude_if=lambda v: v is None
    )

    @classmethod
    def of(cls, message) -> "MessageStatus":
        failed = message.status == "failed"
        return cls(
            message_id=message.id,
            conversation_id=message.conversation_id,
            status=message.status,
            at=message.status_at,
            error=message.error if failed else None,
            error_code=message.error_code if failed else None,
        )
