"""The REST API's payloads: request bodies, query and path parameters, responses."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.errors import ValidationError
from app.schemas.common import BIGINT_MAX, CamelInput, CamelModel, Text, UtcTime
from app.schemas.templates import TemplateReply

MAX_REPLY_CHARS = 4096  # WhatsApp's limit for the body of a text message


def QueryInt(minimum: int, maximum: int, description: str):  # noqa: N802 (a type factory)
    """An integer query parameter within bounds (sent empty, it counts as absent)."""
    return Annotated[int, Field(ge=minimum, le=maximum, description=description)]


LIMIT = "How many to return at most"

# Requests


class Login(BaseModel):
    """Credentials for POST /api/auth/login."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "agent@example.com", "password": "s3cret-pass"}]}
    )

    email: Text(255, strip=True, examples=["agent@example.com"])
    password: str = Field(min_length=1, examples=["correct horse battery staple"])
    refresh_cookie: bool = Field(
        False,
        alias="refreshCookie",
        strict=True,
        description="true: the refresh token comes as an HttpOnly cookie for "
        "POST /api/auth/refresh instead of in the body (the panel)",
    )


def reply_json_schema(schema: dict) -> None:
    """Exactly one of content and template; neither has a default (neither is nullable)."""
    schema["properties"]["content"].pop("default", None)
    schema["properties"]["template"].pop("default", None)
    schema["oneOf"] = [{"required": ["content"]}, {"required": ["template"]}]
    schema["examples"] = [
        {"content": "Kargonuz bugün yola çıktı.", "clientMessageId": "c2f1d0e4-1"},
        {"template": {"name": "hello_world", "language": "en_US"}},
    ]


class Reply(CamelInput):
    """A reply to the customer: free-form `content` (within the 24-hour window), or a
    `template` (at any time); `clientMessageId` makes a retry send nothing twice."""

    model_config = ConfigDict(json_schema_extra=reply_json_schema)

    # Not nullable: absent, or text / a template (the view checks that exactly one of the
    # two is given); `null` would satisfy the schema's oneOf yet name neither.
    content: Text(MAX_REPLY_CHARS, strip=True, examples=["Your order has left."]) = None
    template: TemplateReply = Field(
        None, description="An approved template, allowed after the window closed too"
    )
    client_message_id: Text(64) | None = Field(
        None, description="Idempotency key: the same one again sends nothing twice"
    )

    def check_one_kind(self) -> None:
        """Exactly one of content and template (the schema's oneOf)."""
        if (self.content is None) == (self.template is None):
            raise ValidationError(
                "content is required, or a template instead (not both)", field="content"
            )


class ConversationsQuery(CamelInput):
    user_id: QueryInt(1, BIGINT_MAX, "Admins: one owner's conversations only") | None = None
    # Absent: the whole list, as before paging existed (one page of everything).
    limit: QueryInt(1, 1000, LIMIT + " (absent: all)") | None = None
    before: (
        QueryInt(
            1, BIGINT_MAX, "A conversation id: only those after it in the list (the next page)"
        )
        | None
    ) = None


class MessagesPageQuery(CamelInput):
    limit: QueryInt(1, 500, LIMIT) = 50
    before: str | None = Field(None, description="A message id: only messages older than it")


class MessagesSinceQuery(CamelInput):
    since: str | None = Field(None, description="A message id (one the caller cannot see: 400)")
    limit: QueryInt(1, 1000, LIMIT) = 1000


class EventsQuery(CamelInput):
    after: QueryInt(0, BIGINT_MAX, "An eventId: only events after it") = 0
    limit: QueryInt(1, 1000, LIMIT) = 100


class ConversationPath(BaseModel):
    conversation_id: int = Field(ge=0, description="The conversation (an unknown one: 404)")


class MessagePath(BaseModel):
    message_id: Annotated[str, Field(description="Our message id", examples=["msg_3f2a"])]


class AssetPath(BaseModel):
    name: str = Field(description="A file name", examples=["swagger-ui.css"])


class UserPath(BaseModel):
    user_id: int = Field(ge=0, description="The user (an unknown one: 404)")


# Responses


class User(CamelModel):
    id: int = Field(examples=[7])
    email: str = Field(examples=["agent@example.com"])
    name: str = Field(examples=["Ayşe Yılmaz"])
    role: Literal["ADMIN", "USER"]

    @classmethod
    def of(cls, user) -> "User":
        return cls(id=user.id, email=user.email, name=user.name, role=user.role)


class Tokens(CamelModel):
    access_token: str
    refresh_token: str | None = Field(
        description="null when the login asked for it as a cookie (refreshCookie: true)"
    )
    user: User


class AccessToken(CamelModel):
    access_token: str


class Success(BaseModel):
    success: Literal[True] = True


class Conversation(CamelModel):
    """One row of the conversation list."""

    id: int
    user_id: int = Field(description="The owning agent")
    customer_phone: str = Field(examples=["+905551112233"])
    customer_name: str = Field(examples=["Mehmet Demir"])
    last_message: str | None = Field(description="The newest message by WhatsApp time (200 chars)")
    last_message_at: UtcTime | None
    unread_count: int = Field(ge=0, description="Unread inbound messages")
    window_expires_at: UtcTime | None = Field(
        None,
        description="24 h after the customer's last message (null if none): after it,"
        " only a template reply is allowed",
    )
    status: Literal["open", "pending", "resolved", "snoozed"] = Field(examples=["open"])
    snoozed_until: UtcTime | None = Field(description="When a snoozed conversation reopens")
    labels: list[str] = Field(examples=[["vip"]])

    @classmethod
    def of(cls, conversation, unread_count: int = 0, window_expires_at=...) -> "Conversation":
        """The row of a conversation; lists pass its window, computed with theirs."""
        if window_expires_at is ...:
            from app.services.reply_window import window_of

            window_expires_at = window_of(conversation)
        return cls(
            id=conversation.id,
            user_id=conversation.user_id,
            customer_phone=conversation.customer_phone,
            customer_name=conversation.customer_name,
            last_message=conversation.last_message,
            last_message_at=conversation.last_message_at,
            unread_count=unread_count,
            window_expires_at=window_expires_at,
            status=conversation.status,
            snoozed_until=conversation.snoozed_until,
            labels=conversation.labels,
        )


class ReadReceipt(CamelModel):
    """Who read a message and when (PATCH /api/messages/<id>/read)."""

    message_id: str
    read_by: int | None
    read_at: UtcTime | None

    @classmethod
    def of(cls, message) -> "ReadReceipt":
        return cls(message_id=message.id, read_by=message.read_by, read_at=message.read_at)


class Stats(CamelModel):
    total: int = Field(ge=0)
    unread: int = Field(ge=0)
    inbound: int = Field(ge=0)
    outbound: int = Field(ge=0)
    today: int = Field(ge=0, description="Messages with today's (UTC) WhatsApp time")


class LoggedEvent(CamelModel):
    """One durable event as the log keeps it."""

    event_id: int
    event: str = Field(examples=["new_message"], description="The Socket.IO event name")
    data: dict[str, Any] = Field(description="The event's payload, eventId included")

    @classmethod
    def of(cls, event) -> "LoggedEvent":
        return cls(event_id=event.id, event=event.name, data=event.data)


class EventPage(CamelModel):
    events: list[LoggedEvent]
    last_event_id: int = Field(ge=0, description="The last one returned, or `after` when none")


class RealtimeStatus(CamelModel):
    connected_users: int = Field(ge=0, description="Distinct users with a live socket")
    online_user_ids: list[int]


class UserOnline(CamelModel):
    user_id: int
    online: bool


class HealthError(BaseModel):
    code: Literal["service_unavailable"]
    message: str = Field(examples=["unreachable: messageQueue"])


class Health(CamelModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unavailable"]
    message_queue: Literal["local", "redis", "unavailable"]
    error: HealthError | None = Field(None, exclude_if=lambda v: v is None)
