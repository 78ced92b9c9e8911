"""Team workflow payloads: conversation status, labels and transfer, internal notes,
search, canned responses.

`ConversationUpdated` is the durable `conversation_updated` event (the event log
adds `eventId`).
"""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.schemas.common import (
    PYTHON_WHITESPACE,
    CamelInput,
    CamelModel,
    Text,
    TimestampInput,
    UtcTime,
    comparable_text,
)
from app.schemas.messages import Message
from app.schemas.rest import MAX_REPLY_CHARS, Conversation, QueryInt

ConversationStatus = Literal["open", "pending", "resolved", "snoozed"]
MAX_LABELS = 20
MAX_LABEL_CHARS = 40
# A canned response's shortcut: one word (anything but whitespace, "/" and NUL),
# spelled out so that Python and JSON Schema agree on what whitespace is.
SHORTCUT_PATTERN = f"^[^/\\x00{PYTHON_WHITESPACE}]+$"


def _distinct_labels(labels: list[str]) -> list[str]:
    """Labels stripped, without repeats (case-insensitively), in their first order."""
    seen: dict[str, str] = {}
    for label in labels:
        seen.setdefault(label.casefold(), label)
    return list(seen.values())


Label = Text(MAX_LABEL_CHARS, strip=True, examples=["vip"])


class ConversationPatch(CamelInput):
    """What PATCH /api/conversations/<id> may change; every key is optional.

    `snoozedUntil` (a future time) snoozes the conversation, with or without
    `status: "snoozed"`; any other status clears it. `userId` transfers the
    conversation to another active user (admins only).
    """

    model_config = ConfigDict(
        json_schema_extra={
            "minProperties": 1,
            "examples": [
                {"status": "resolved"},
                {"status": "snoozed", "snoozedUntil": "2099-12-01T09:00:00Z"},
                {"userId": 7, "labels": ["vip", "iade"]},
            ],
        }
    )

    status: ConversationStatus | None = None
    snoozed_until: TimestampInput = Field(None, description="When a snoozed one reopens")
    user_id: Annotated[int, Field(ge=1, le=2**31 - 1, strict=True)] | None = Field(
        None, description="Transfer to this user (admins only)"
    )
    labels: (
        Annotated[list[Label], Field(max_length=MAX_LABELS), AfterValidator(_distinct_labels)]
        | None
    ) = None


class ConversationUpdated(CamelModel):
    """A conversation's owner, status or labels changed: the `conversation_updated` event."""

    conversation_id: int = Field(examples=[12])
    user_id: int = Field(description="The owner now", examples=[7])
    previous_user_id: int = Field(description="The owner before (the same unless transferred)")
    status: ConversationStatus
    snoozed_until: UtcTime | None
    labels: list[str] = Field(examples=[["vip"]])

    @classmethod
    def of(cls, conversation, previous_user_id: int) -> "ConversationUpdated":
        return cls(
            conversation_id=conversation.id,
            user_id=conversation.user_id,
            previous_user_id=previous_user_id,
            status=conversation.status,
            snoozed_until=conversation.snoozed_until,
            labels=conversation.labels,
        )


class Note(CamelInput):
    """An internal note for colleagues: stored in the thread, never sent to the customer."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"content": "Müşteri iade istiyor, faturayı kontrol et."}]}
    )

    content: Text(MAX_REPLY_CHARS, strip=True)


class SearchQuery(CamelInput):
    q: Text(200, strip=True, description="Words to find (prefixes match), any case or accent")
    limit: QueryInt(1, 100, "How many to return at most") = 20


class SearchResult(CamelModel):
    message: Message
    conversation: Conversation
    highlight: str = Field(
        description="A snippet of the message, HTML-escaped, the matched words in <mark>",
        examples=["…kargonuz <mark>İstanbul</mark> şubesinde…"],
    )


class SearchResults(CamelModel):
    results: list[SearchResult]


class CannedResponseIn(CamelInput):
    """A saved answer; `shared` ones (admins only) are offered to everyone."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"shortcut": "kargo", "content": "Kargonuz yola çıktı.", "shared": True}]
        }
    )

    shortcut: Annotated[
        str,
        Field(
            min_length=1,
            max_length=32,
            pattern=SHORTCUT_PATTERN,
            description="What follows / in the composer: no spaces, no slash",
            examples=["kargo"],
        ),
        AfterValidator(comparable_text),
    ]
    content: Text(MAX_REPLY_CHARS, strip=True)
    shared: bool = Field(False, strict=True, description="Offered to everyone (admins only)")


class CannedResponse(CamelModel):
    id: int
    shortcut: str
    content: str
    shared: bool
    owner_id: int | None = Field(description="Whose personal answer it is (null when shared)")
    created_at: UtcTime

    @classmethod
    def of(cls, row) -> "CannedResponse":
        return cls(
            id=row.id,
            shortcut=row.shortcut,
            content=row.content,
            shared=row.owner_id is None,
            owner_id=row.owner_id,
            created_at=row.created_at,
        )


class CannedResponsePath(BaseModel):
    canned_id: int = Field(ge=0, description="The canned response (an unknown one: 404)")


class NewConversation(CamelInput):
    """A first message to a customer who has not written yet: a new conversation of the caller."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customerPhone": "+905551112233",
                    "customerName": "Mehmet Demir",
                    "content": "Merhaba, siparişiniz hakkında yazıyoruz.",
                }
            ]
        }
    )

    customer_phone: Annotated[
        str,
        Field(
            pattern=r"^\+?[0-9]{6,20}$",
            description="The customer's WhatsApp number, digits with an optional +",
            examples=["+905551112233"],
        ),
    ]
    customer_name: Text(255, strip=True) | None = None
    content: Text(MAX_REPLY_CHARS, strip=True)
    client_message_id: Text(64) | None = Field(
        None, description="Idempotency key: the same one again sends nothing twice"
    )
