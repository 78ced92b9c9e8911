"""Conversation status, snooze, labels and transfer: the one path that changes them.

Every change is recorded as a `conversation_updated` event in the transaction
that makes it (the event log), then emitted to the owner, the previous owner
of a transfer and the admins. A new inbound message reopens a resolved or
snoozed conversation (reopen_on_inbound, called by the message write path);
a snoozed one whose time has come is reopened by wake_due_snoozes, which every
serving process runs from its housekeeping loop: one UPDATE claims the due
rows, so each is reopened, and announced, once.
"""

import dataclasses
import json
import logging

from sqlalchemy import delete, insert, select, update

from app.errors import Conflict, Forbidden, ValidationError
from app.extensions import db
from app.models import Conversation, ConversationAlias, Message, User
from app.realtime import broadcast
from app.schemas.workflow import ConversationPatch, ConversationUpdated
from app.services import events
from app.services.conversations import get_visible
from app.services.users import get_user
from app.timeutil import utcnow

log = logging.getLogger(__name__)

REOPENABLE = ("resolved", "snoozed")


def update_conversation(conversation_id: int, user: User, patch: ConversationPatch) -> Conversation:
    """Apply a PATCH (owner or admin; a transfer is for admins) and emit the change."""
    conversation = get_visible(conversation_id, user)
    _check(patch, user, conversation)
    events.lock_event_log()
    db.session.refresh(conversation)  # as it is now that writers are serialized
    previous_user_id = conversation.user_id
    changed = _apply_status(conversation, patch)
    changed |= _apply_labels(conversation, patch)
    transferred = patch.user_id is not None and patch.user_id != previous_user_id
    if transferred:
        _transfer(conversation, patch.user_id)
        changed = True
    if not changed:
        db.session.rollback()
        return conversation
    payload = ConversationUpdated.of(conversation, previous_user_id)
    event = events.record(
        "conversation_updated",
        conversation.user_id,
        conversation.id,
        payload,
        also_user_id=previous_user_id,
    )
    db.session.commit()
    if transferred:  # before the event, which tells those who may to join again
        broadcast.empty_conversation_room(conversation.id)
    broadcast.publish(event)
    return conversation


def _check(patch: ConversationPatch, user: User, conversation: Conversation) -> None:
    """Refuse an empty or inconsistent change, and a transfer by a non-admin."""
    if not patch.model_fields_set:
        raise ValidationError("nothing to change: give status, snoozedUntil, userId or labels")
    if patch.snoozed_until is not None:
        if patch.status not in (None, "snoozed"):
            raise ValidationError(
                "snoozedUntil goes with status snoozed only", field="snoozedUntil"
            )
        if patch.snoozed_until <= utcnow():
            raise ValidationError("snoozedUntil must be in the future", field="snoozedUntil")
    elif patch.status == "snoozed":
        raise ValidationError("status snoozed needs snoozedUntil", field="snoozedUntil")
    if patch.user_id is not None and patch.user_id != conversation.user_id:
        if not user.is_admin:
            raise Forbidden("Only admins may transfer a conversation")
        target = get_user(patch.user_id)
        if not target.is_active:
            raise ValidationError("userId names a deactivated user", field="userId")


def _apply_status(conversation: Conversation, patch: ConversationPatch) -> bool:
    """Set status and snooze time; True when something changed."""
    status = "snoozed" if patch.snoozed_until is not None else patch.status
    if status is None:
        return False
    snoozed_until = patch.snoozed_until if status == "snoozed" else None
    if (status, snoozed_until) == (conversation.status, conversation.snoozed_until):
        return False
    if status == "resolved" and conversation.status != "resolved":
        conversation.resolved_at = utcnow()
    conversation.status = status
    conversation.snoozed_until = snoozed_until
    return True


def _apply_labels(conversation: Conversation, patch: ConversationPatch) -> bool:
    if patch.labels is None or patch.labels == conversation.labels:
        return False
    conversation.labels_json = json.dumps(patch.labels, ensure_ascii=False)
    return True


def _transfer(conversation: Conversation, new_owner_id: int) -> None:
    """Move the conversation and its messages to another owner.

    The previous owner's (user_id, phone) becomes an alias of this conversation,
    so n8n, which keeps naming the previous owner, reaches it still.
    """
    taken = db.session.scalar(
        select(Conversation.id).where(
            Conversation.user_id == new_owner_id,
            Conversation.customer_phone == conversation.customer_phone,
        )
    )
    if taken is not None:
        raise Conflict(
            f"user {new_owner_id} already has conversation {taken} with this customer",
            field="userId",
        )
    previous_owner_id = conversation.user_id
    phone = conversation.customer_phone
    conversation.user_id = new_owner_id
    db.session.flush()
    db.session.execute(
        update(Message)
        .where(Message.conversation_id == conversation.id)
        .values(user_id=new_owner_id)
    )
    db.session.execute(
        delete(ConversationAlias).where(
            ConversationAlias.customer_phone == phone,
            ConversationAlias.user_id.in_((new_owner_id, previous_owner_id)),
        )
    )
    db.session.execute(
        insert(ConversationAlias).values(
            user_id=previous_owner_id, customer_phone=phone, conversation_id=conversation.id
        )
    )


def routed(connection, draft):
    """The draft addressed to its conversation's owner now, when n8n names a previous one.

    Only a webhook's message needs it (an agent's reply already names the owner).
    """
    if draft.sent_by is not None:
        return draft
    alias = ConversationAlias.__table__
    conversations = Conversation.__table__
    owner = connection.execute(
        select(conversations.c.user_id)
        .join(alias, alias.c.conversation_id == conversations.c.id)
        .where(alias.c.user_id == draft.user_id, alias.c.customer_phone == draft.customer_phone)
    ).scalar()
    return draft if owner is None else dataclasses.replace(draft, user_id=owner)


def _reopened_event(connection, row) -> events.RecordedEvent:
    conversation = Conversation(
        id=row.id,
        user_id=row.user_id,
        status=row.status,
        snoozed_until=row.snoozed_until,
        labels_json=row.labels,
    )
    payload = ConversationUpdated.of(conversation, row.user_id)
    return events.record("conversation_updated", row.user_id, row.id, payload, connection)


def _reopen(connection, *conditions) -> list[events.RecordedEvent]:
    """Reopen the conversations matching `conditions`, each recorded as an event."""
    table = Conversation.__table__
    rows = connection.execute(
        update(table)
        .where(*conditions)
        .values(status="open", snoozed_until=None)
        .returning(
            table.c.id, table.c.user_id, table.c.status, table.c.snoozed_until, table.c.labels
        )
    ).all()
    return [_reopened_event(connection, row) for row in rows]


def reopen_on_inbound(connection, conversation_id: int) -> list[events.RecordedEvent]:
    """In a new inbound message's transaction: reopen its conversation if resolved or snoozed."""
    table = Conversation.__table__
    return _reopen(connection, table.c.id == conversation_id, table.c.status.in_(REOPENABLE))


def wake_due_snoozes() -> int:
    """Reopen every snoozed conversation whose time has come; returns how many.

    Safe on any number of processes at once: the UPDATE itself is the claim, so
    a conversation is reopened and announced by exactly one of them.
    """
    table = Conversation.__table__
    due = (table.c.status == "snoozed", table.c.snoozed_until <= utcnow())
    with db.engine.begin() as connection:
        if connection.execute(select(table.c.id).where(*due).limit(1)).first() is None:
            return 0  # the usual case: no lock on the event log taken
        events.lock_event_log(connection)
        woken = _reopen(connection, *due)
    for event in woken:
        broadcast.publish(event)
    return len(woken)
