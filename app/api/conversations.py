"""Conversations and their messages."""

from flask import request
from flask_jwt_extended import current_user, jwt_required

from app.api import bp
from app.errors import ValidationError
from app.media import uploads
from app.media.ingest import read_chunks
from app.schemas import validation
from app.schemas.http import BEARER, operation
from app.schemas.media import ReplyFileFields, ReplyUpload
from app.schemas.messages import Message, SentMessage
from app.schemas.rest import (
    Conversation,
    ConversationPath,
    ConversationsQuery,
    MessagesPageQuery,
    Reply,
)
from app.schemas.workflow import ConversationPatch, NewConversation, Note
from app.services import conversations, new_conversations, notes, replies, reply_window, workflow
from app.services.conversations import unread_counts_of


@bp.get("/conversations")
@jwt_required()
@operation(
    query=ConversationsQuery,
    responses={200: list[Conversation]},
    errors=(400, 401),
    security=BEARER,
)
def list_conversations(query: ConversationsQuery):
    """Conversations the caller may see, newest first (admins may filter by ?userId=).

    Without `limit` the whole list; with it one page, and `before=<the last id of
    that page>` gives the next one.
    """
    found = conversations.list_for(current_user, query.user_id, query.limit, query.before)
    return [
        Conversation.of(conversation, unread, reply_window.expires_at(last_inbound))
        for conversation, unread, last_inbound in found
    ]


@bp.get("/conversations/<int:conversation_id>/messages")
@jwt_required()
@operation(
    path=ConversationPath,
    query=MessagesPageQuery,
    responses={200: list[Message]},
    errors=(400, 401, 403, 404),
    security=BEARER,
)
def conversation_messages(conversation_id: int, query: MessagesPageQuery):
    """A page of a conversation's messages, oldest first."""
    conversation = conversations.get_visible(conversation_id, current_user)
    page = conversations.messages_page(conversation, query.limit, query.before)
    return [Message.of(message) for message in page]


@bp.post("/conversations/<int:conversation_id>/messages")
@jwt_required()
@operation(
    path=ConversationPath,
    body=Reply,
    multipart=ReplyUpload,
    responses={201: SentMessage, 200: SentMessage},
    errors=(400, 401, 403, 404, 409),
    security=BEARER,
)
def send_reply(conversation_id: int, body: Reply | None):
    """Reply to the customer: stored `pending`, then sent; idempotent on clientMessageId.

    The reply is emitted as `new_message` (direction OUTBOUND). The same
    `clientMessageId` again answers 200 with the stored reply and sends nothing twice.
    Free-form `content` more than 24 hours after the customer's last message
    (`windowExpiresAt`) is 409 `window_closed`; a `template` is allowed at any time.
    """
    if body is not None:
        body.check_one_kind()
    conversation = conversations.get_visible(conversation_id, current_user)
    if body is None:
        reply, created = _reply_with_file(conversation)
    else:
        reply, created = replies.create(
            conversation,
            current_user,
            body.content,
            body.client_message_id,
            template=body.template,
        )
    return reply, 201 if created else 200


def _reply_with_file(conversation):
    """The multipart reply: `file`, `content?` (the caption), `clientMessageId?`."""
    part = request.files.get("file")
    if part is None:
        raise ValidationError("file is required in a multipart request", field="file")
    fields = validation.validate(ReplyFileFields, request.form.to_dict())
    return uploads.send_file(
        conversation,
        current_user,
        read_chunks(part.stream),
        part.mimetype,
        part.filename or None,
        fields.content,
        fields.client_message_id,
    )


@bp.patch("/conversations/<int:conversation_id>")
@jwt_required()
@operation(
    path=ConversationPath,
    body=ConversationPatch,
    responses={200: Conversation},
    errors=(400, 401, 403, 404, 409),
    security=BEARER,
)
def update_conversation(conversation_id: int, body: ConversationPatch):
    """Change a conversation's status, snooze time, labels or owner (owner or admin).

    A transfer (`userId`) is for admins; it moves the messages too, and later
    webhook messages naming the previous owner reach this conversation. Each
    change emits `conversation_updated` to the owner, the previous owner and admins.
    """
    conversation = workflow.update_conversation(conversation_id, current_user, body)
    return Conversation.of(
        conversation, unread_counts_of({conversation.id}).get(conversation.id, 0)
    )


@bp.post("/conversations/<int:conversation_id>/notes")
@jwt_required()
@operation(
    path=ConversationPath,
    body=Note,
    responses={201: SentMessage},
    errors=(400, 401, 403, 404),
    security=BEARER,
)
def add_note(conversation_id: int, body: Note):
    """Add an internal note (messageType "note"): emitted as `new_message`, never sent."""
    conversation = conversations.get_visible(conversation_id, current_user)
    return notes.create(conversation, current_user, body.content), 201


@bp.post("/conversations")
@jwt_required()
@operation(
    body=NewConversation,
    responses={201: SentMessage, 200: SentMessage},
    errors=(400, 401, 409),
    security=BEARER,
)
def start_conversation(body: NewConversation):
    """Write first to a number: a reply in the caller's conversation with it (created if none).

    The body is a reply's plus `customerPhone` and `customerName?`, under the
    same rules: a number that never wrote has no 24-hour window, so free-form
    `content` is 409 `window_closed` and a `template` is how to write first
    (an existing conversation's open window allows `content`). The message is
    stored `pending`, sent and emitted as `new_message`; the same
    `clientMessageId` again answers 200 and sends nothing twice.
    """
    body.check_one_kind()
    message, created = new_conversations.start(current_user, body)
    return message, 201 if created else 200
