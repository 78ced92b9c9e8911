"""Socket.IO events, both ways: their payloads, the acks and the refusals.

Client events are declared where they are handled, with `client_event(name,
Model, refusals=...)` (app/realtime/handlers.py), which records them here in
CLIENT_EVENTS; server events are listed in SERVER_EVENTS. Durable payloads are
declared without `eventId`: the event log adds it (app/services/events.py).
"""

from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel

from app.schemas.common import CamelInput, CamelModel, comparable_text
from app.schemas.messages import (
    MessageMedia,
    MessageReaction,
    MessageRead,
    MessageStatus,
    NewMessage,
    SentMessage,
)
from app.schemas.workflow import ConversationUpdated
from app.transport.attachments import UPLOAD_CHUNK_BYTES

# Refusals any client event may get, besides its own.
COMMON_REFUSALS = ("Rate limit exceeded", "Unauthorized", "Service unavailable")

PositiveId = Annotated[int, Field(strict=True, gt=0, examples=[12])]


class Handshake(CamelInput):
    """The Socket.IO handshake's `auth` object."""

    token: str = Field(description="An access token from POST /api/auth/login")
    last_event_id: int | None = Field(
        None,
        description="The last eventId this client saw: the server replays what came after it "
        "(or emits resync_required when more than 1000 are missing or the log no longer reaches)",
    )


# Client -> server


class ClientPayload(BaseModel):
    """A client event's payload; `invalid` is the refusal when it is not the right shape."""

    invalid: ClassVar[str]


class ConversationRef(ClientPayload, RootModel[PositiveId]):
    """A conversation id, as a bare positive integer."""

    invalid: ClassVar[str] = "Invalid conversationId"


class Typing(ClientPayload, CamelInput):
    """The sender started or stopped typing in a conversation it has joined."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"conversationId": 12, "isTyping": True}]}
    )
    invalid: ClassVar[str] = "Invalid conversationId"

    conversation_id: PositiveId
    is_typing: bool = Field(strict=True)


class MarkRead(ClientPayload, CamelInput):
    """Mark a message read (the owner or an admin)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"messageId": "msg_9b1f0c2e"}]})
    invalid: ClassVar[str] = "Invalid messageId"

    message_id: Annotated[str, Field(strict=True, min_length=1), AfterValidator(comparable_text)]


class UploadStart(ClientPayload, CamelInput):
    """Start an upload to a conversation, or (with `uploadId`) ask where one stands."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "conversationId": 12,
                    "filename": "fatura.pdf",
                    "mimeType": "application/pdf",
                    "size": 48213,
                }
            ]
        }
    )
    invalid: ClassVar[str] = "Invalid upload"

    conversation_id: PositiveId
    filename: Annotated[str, Field(strict=True, min_length=1, max_length=255)]
    mime_type: Annotated[str, Field(strict=True, min_length=3, max_length=127)]
    size: Annotated[int, Field(strict=True, ge=0)]
    upload_id: Annotated[str, Field(strict=True, max_length=40)] | None = Field(
        None, description="Resume this upload (after a reconnect)"
    )


class UploadChunk(ClientPayload, CamelInput):
    """The next bytes of an upload, at the offset the server has received so far."""

    invalid: ClassVar[str] = "Invalid upload"

    upload_id: Annotated[str, Field(strict=True, min_length=1, max_length=40)]
    offset: Annotated[int, Field(strict=True, ge=0)]
    data: Annotated[bytes, Field(strict=True, max_length=UPLOAD_CHUNK_BYTES)] = Field(
        description=f"Binary, at most chunkSize ({UPLOAD_CHUNK_BYTES}) bytes"
    )


class UploadFinish(ClientPayload, CamelInput):
    """Send the uploaded file as a reply (its caption, the client's idempotency key)."""

    invalid: ClassVar[str] = "Invalid upload"

    upload_id: Annotated[str, Field(strict=True, min_length=1, max_length=40)]
    caption: Annotated[str, Field(strict=True, max_length=4096)] | None = None
    client_message_id: Annotated[str, Field(strict=True, min_length=1, max_length=64)] | None = None


class Ack(BaseModel):
    """The ack of an accepted event (the upload events add their own keys)."""

    ok: Literal[True] = True


class UploadAck(Ack, CamelModel):
    """upload_start and upload_chunk's ack: where the upload stands."""

    upload_id: str | None = Field(None, exclude_if=lambda v: v is None)
    chunk_size: int | None = Field(None, exclude_if=lambda v: v is None)
    received: int


class UploadFinished(Ack):
    """upload_finish's ack: the stored reply."""

    message: SentMessage


class UploadProgress(CamelModel):
    """How much of an upload has arrived: to every socket of the uploader."""

    upload_id: str
    conversation_id: int
    received: int
    size: int


class Refusal(BaseModel):
    """The ack of a refused event (the same message also comes as an `error` event)."""

    error: str = Field(examples=["Unauthorized"])


# Server -> client


class Durable(CamelModel):
    """What the event log adds to every durable event."""

    event_id: int = Field(
        description="Only grows; a client drops an event whose eventId it has already seen",
        examples=[1042],
    )


class NewMessageEvent(Durable, NewMessage):
    """A message was stored (inbound from the webhook, or a reply)."""


class MessageReadEvent(Durable, MessageRead):
    """A message was read (over the socket or REST)."""


class MessageStatusEvent(Durable, MessageStatus):
    """A reply's delivery status changed."""


class MessageReactionEvent(Durable, MessageReaction):
    """The customer reacted to a message, or took the reaction back."""


class MessageMediaEvent(Durable, MessageMedia):
    """A message's file, fetched after the message from WhatsApp's Graph API."""


class ConversationUpdatedEvent(Durable, ConversationUpdated):
    """A conversation's status, snooze time, labels or owner changed (also a reopen)."""


class UserTyping(CamelModel):
    """Someone started or stopped typing in a conversation."""

    user_id: int
    conversation_id: int
    is_typing: bool


class ResyncRequired(BaseModel):
    """The replay cannot cover the gap: reload through REST (GET /api/conversations...)."""

    model_config = ConfigDict(extra="forbid")


class ErrorEvent(BaseModel):
    """A client event was refused (also answered in its ack, when one was asked for)."""

    message: str = Field(examples=["Invalid conversationId"])


@dataclass(frozen=True)
class ClientEvent:
    """A declared client -> server event."""

    name: str
    payload: type[ClientPayload]
    refusals: tuple[str, ...]
    summary: str
    description: str
    ack: type[BaseModel] = Ack


@dataclass(frozen=True)
class ServerEvent:
    """A server -> client event: who gets it, and whether it is durable (eventId, replay)."""

    name: str
    payload: type[BaseModel]
    to: str
    durable: bool = False


CLIENT_EVENTS: dict[str, ClientEvent] = {}

SERVER_EVENTS = (
    ServerEvent(
        "new_message",
        NewMessageEvent,
        "`user:<owner>` and `admin`: every socket once, also an admin who owns the conversation",
        durable=True,
    ),
    ServerEvent(
        "message_read",
        MessageReadEvent,
        "the owner, the admins and the `conversation:<id>` room, once per socket",
        durable=True,
    ),
    ServerEvent("message_status", MessageStatusEvent, "the owner and the admins", durable=True),
    ServerEvent("message_reaction", MessageReactionEvent, "the owner and the admins", durable=True),
    ServerEvent("message_media", MessageMediaEvent, "the owner and the admins", durable=True),
    ServerEvent(
        "conversation_updated",
        ConversationUpdatedEvent,
        "the owner, the previous owner of a transferred conversation, and the admins",
        durable=True,
    ),
    ServerEvent(
        "user_typing",
        UserTyping,
        "`conversation:<id>`, not back to the sender; a `true` left alone for 6 s, or a typer "
        "disconnecting, is followed by `isTyping: false`",
    ),
    ServerEvent(
        "resync_required",
        ResyncRequired,
        "the reconnecting socket, instead of a replay longer than 1000 events",
    ),
    ServerEvent("upload_progress", UploadProgress, "every socket of the uploader"),
    ServerEvent("error", ErrorEvent, "the socket whose event was refused"),
)
