"""A customer's reaction to a message: no new message, the reacted one changes."""

import json

from sqlalchemy import update

from app.errors import NotFound
from app.extensions import db
from app.models import Message
from app.realtime import broadcast
from app.schemas.messages import MessageReaction
from app.services import events
from app.services.messages import find_by_whatsapp_id


def react(whatsapp_id: str, emoji: str) -> Message:
    """Set the customer's reaction (`""` removes it) and emit `message_reaction`.

    A customer has one reaction per message in WhatsApp, so the new one
    replaces the old. Returns the reacted message; 404 when it is unknown.
    """
    message = find_by_whatsapp_id(whatsapp_id)
    if message is None:
        raise NotFound("reaction.message_id names no known message", field="reaction.message_id")
    reactions = {emoji: 1} if emoji else {}
    events.lock_event_log()
    db.session.execute(
        update(Message)
        .where(Message.seq == message.seq)
        .values(reactions=json.dumps(reactions, ensure_ascii=False) if reactions else None)
    )
    payload = MessageReaction(
        message_id=message.id, conversation_id=message.conversation_id, reactions=reactions
    )
    event = events.record("message_reaction", message.user_id, message.conversation_id, payload)
    db.session.commit()
    broadcast.publish(event)
    return message
