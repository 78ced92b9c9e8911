"""Database models (their client-facing shapes are in app/schemas/)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.blocking import off_loop
from app.extensions import db
from app.timeutil import utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
BigId = BigInteger().with_variant(Integer(), "sqlite")

ROLES = ("ADMIN", "USER")
DIRECTIONS = ("INBOUND", "OUTBOUND")


class User(db.Model):
    """An agent (USER) or an administrator (ADMIN) of the inbox."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(16), default="USER")
    is_active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_admin(self) -> bool:
        return self.role == "ADMIN"

    def set_password(self, password: str) -> None:
        self.password_hash = off_loop(generate_password_hash, password)

    def check_password(self, password: str) -> bool:
        return off_loop(check_password_hash, self.password_hash, password)


class Conversation(db.Model):
    """The thread between one agent and one customer phone number."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("user_id", "customer_phone", name="uq_conversation_owner_phone"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    customer_phone: Mapped[str] = mapped_column(String(64))
    customer_name: Mapped[str] = mapped_column(String(255), default="")
    last_message: Mapped[str | None] = mapped_column(Text, default=None)
    last_message_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Team workflow (app/services/workflow.py): where the conversation stands.
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    snoozed_until: Mapped[datetime | None] = mapped_column(default=None)
    labels_json: Mapped[str] = mapped_column("labels", Text, default="[]", server_default="[]")
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def labels(self) -> list[str]:
        return json.loads(self.labels_json or "[]")


# The conversation list's order (app/services/conversations.py), one page read off an
# index: an owner's list, and everyone's. SQLite sorts NULL last when descending and
# its indexes end with the rowid (the id), so (user_id, last_message_at), and
# ix_conversations_last_message_at for everyone's, give that order walked backwards.
Index("ix_conversations_owner_activity", Conversation.user_id, Conversation.last_message_at).ddl_if(
    dialect="sqlite"
)
Index(
    "ix_conversations_owner_activity_pg",
    Conversation.user_id,
    Conversation.last_message_at.desc().nulls_last(),
    Conversation.id.desc(),
).ddl_if(dialect="postgresql")
Index(
    "ix_conversations_activity_pg",
    Conversation.last_message_at.desc().nulls_last(),
    Conversation.id.desc(),
).ddl_if(dialect="postgresql")


class ConversationAlias(db.Model):
    """A former owner's (user_id, customer_phone) after a transfer: n8n keeps naming
    the old owner, so its webhook messages are routed to the transferred conversation."""

    __tablename__ = "conversation_aliases"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_phone: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", name="fk_conversation_aliases_conversation")
    )


def new_message_id() -> str:
    return "msg_" + uuid.uuid4().hex


class Message(db.Model):
    """One WhatsApp message, inbound from a customer or outbound from the business."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_seq", "conversation_id", "seq"),
        Index("ix_messages_user_seq", "user_id", "seq"),
        # Unread counts (app/services/conversations.py): only unread inbound messages,
        # a few among millions; the queries repeat this predicate word for word.
        Index(
            "ix_messages_unread",
            "conversation_id",
            sqlite_where=text("direction = 'INBOUND' AND is_read IS 0"),
            postgresql_where=text("direction = 'INBOUND' AND is_read IS false"),
        ),
        # A client retrying a reply after a timeout reuses its clientMessageId.
        UniqueConstraint(
            "conversation_id", "client_message_id", name="uq_messages_conversation_client_id"
        ),
        # Full-text search on PostgreSQL; SQLite has its FTS5 table (app/services/search_index.py).
        Index(
            "ix_messages_search",
            func.to_tsvector(literal_column("'simple'"), func.coalesce(text("search_text"), "")),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )

    # seq orders messages by insertion (the `since`/`before` cursors); id is public.
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True, default=new_message_id)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    direction: Mapped[str] = mapped_column(String(8))
    message_type: Mapped[str] = mapped_column(String(32), default="text")
    content: Mapped[str] = mapped_column(Text)
    timestamp: Mapped[datetime] = mapped_column(default=utcnow)
    whatsapp_id: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)
    is_read: Mapped[bool] = mapped_column(default=False)
    read_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Replies only: who wrote it, the client's idempotency key, delivery status.
    sent_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", name="fk_messages_sent_by_users"), default=None
    )
    client_message_id: Mapped[str | None] = mapped_column(String(64), default=None)
    status: Mapped[str | None] = mapped_column(String(16), default=None)
    status_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # WhatsApp's code for a failed reply (e.g. 131047), from a Cloud API status.
    error_code: Mapped[int | None] = mapped_column(Integer, default=None)
    # A template reply: {"name", "language", "components"?} as JSON (WhatsApp's template object).
    template: Mapped[str | None] = mapped_column(Text, default=None)
    # The content folded for search (app/services/search_text.py), written with it.
    search_text: Mapped[str | None] = mapped_column(Text, default=None)

    # Rich messages: a location as JSON, the quoted message's id, the customer's reaction.
    location: Mapped[str | None] = mapped_column(Text, default=None)
    reply_to: Mapped[str | None] = mapped_column(String(40), default=None)
    reactions: Mapped[str | None] = mapped_column(Text, default=None)

    conversation: Mapped[Conversation] = relationship(lazy="joined")
    # media.message_id holds our public message id (no foreign key: the file is
    # stored before its message, in the message's transaction).
    media: Mapped[Media | None] = relationship(
        primaryjoin="foreign(Media.message_id) == Message.id",
        lazy="selectin",
        viewonly=True,
        uselist=False,
    )

    @property
    def location_dict(self) -> dict | None:
        return json.loads(self.location) if self.location else None

    @property
    def reaction_counts(self) -> dict:
        return json.loads(self.reactions) if self.reactions else {}


def new_media_id() -> str:
    return "med_" + uuid.uuid4().hex


class Media(db.Model):
    """A stored file of a message: its bytes live in the media storage under `storage_key`."""

    __tablename__ = "media"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_media_id)
    user_id: Mapped[int] = mapped_column(Integer, index=True)  # the conversation's owner
    conversation_id: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[str | None] = mapped_column(String(40), unique=True, default=None)
    storage_key: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(127))  # sniffed from the bytes
    size: Mapped[int] = mapped_column(BigInteger)
    filename: Mapped[str | None] = mapped_column(String(255), default=None)
    caption: Mapped[str | None] = mapped_column(Text, default=None)
    voice: Mapped[bool] = mapped_column(default=False)
    sha256: Mapped[str] = mapped_column(String(64))
    thumbnail_key: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class MediaUpload(db.Model):
    """An agent's file arriving in chunks over the socket, until upload_finish."""

    __tablename__ = "media_uploads"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)  # the uploader
    conversation_id: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(127))  # as declared
    size: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class OutboundDelivery(db.Model):
    """The durable queue of replies to hand to n8n: one row per reply.

    `queued` rows are due at `next_attempt_at`; a sender claims one by moving
    that time past a lease, so a crashed sender's claim simply expires.
    """

    __tablename__ = "outbound_deliveries"
    __table_args__ = (Index("ix_outbound_deliveries_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_seq: Mapped[int] = mapped_column(
        ForeignKey("messages.seq", name="fk_outbound_deliveries_message"), unique=True
    )
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    message: Mapped[Message] = relationship(lazy="joined")


class Event(db.Model):
    """The durable event log: one row per server-to-client event, for replay."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_user_id_id", "user_id", "id"),
        Index("ix_events_also_user_id_id", "also_user_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(32))
    # The conversation owner; admins see every event, a USER only their own.
    user_id: Mapped[int] = mapped_column(Integer)
    conversation_id: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A second user who sees the event: the previous owner of a transferred conversation.
    also_user_id: Mapped[int | None] = mapped_column(Integer, default=None)

    @property
    def data(self) -> dict:
        """The payload as clients receive it, eventId included."""
        return {**json.loads(self.payload), "eventId": self.id}


class WhatsappNumber(db.Model):
    """A business number of the WhatsApp Cloud API and the user who owns its conversations."""

    __tablename__ = "whatsapp_numbers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Meta's id of the number (metadata.phone_number_id), not the number itself.
    phone_number_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", name="fk_whatsapp_numbers_user"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class WhatsappMediaFetch(db.Model):
    """The durable queue of files to fetch from the Graph API: one row per inbound file.

    Written with its message (which is emitted at once, without its file);
    a fetcher claims a due row by pushing `next_attempt_at` past a lease, as
    the reply queue does, so a crashed fetcher only delays it.
    """

    __tablename__ = "whatsapp_media_fetches"
    __table_args__ = (Index("ix_whatsapp_media_fetches_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(40), unique=True)  # our id of the message
    media_id: Mapped[str] = mapped_column(String(255))  # the Graph API's id (lives ~7 days)
    # What Meta said about the file: kept for ingest once the bytes are here.
    mime_type: Mapped[str | None] = mapped_column(String(127), default=None)
    filename: Mapped[str | None] = mapped_column(String(255), default=None)
    caption: Mapped[str | None] = mapped_column(Text, default=None)
    sha256: Mapped[str | None] = mapped_column(String(128), default=None)
    voice: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RevokedToken(db.Model):
    """A JWT revoked by logout; kept until it would have expired anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class CannedResponse(db.Model):
    """A saved answer an agent inserts with /shortcut: their own, or shared by an admin."""

    __tablename__ = "canned_responses"
    __table_args__ = (Index("ix_canned_responses_owner", "owner_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", name="fk_canned_responses_owner"), default=None
    )  # None: shared with everyone
    shortcut: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(
        ForeignKey("users.id", name="fk_canned_responses_author")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
