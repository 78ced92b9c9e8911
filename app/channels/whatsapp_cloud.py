"""Meta's Cloud API webhook turned into the inbox's service calls.

Each message goes through messages.write, the one write path the n8n webhook
uses too, idempotent on its wamid; each status through delivery_status, as
POST /api/webhooks/n8n/status does. Messages are written in the order of
Meta's timestamps, and the conversation's preview keeps the newest by that
time whatever the order of arrival (messages._on_conflict_set).
"""

import logging
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from app.channels import whatsapp_content
from app.errors import NotFound
from app.schemas.whatsapp import ChangeValue, Envelope, InboundMessage, Status
from app.services import delivery_status, messages, outbox, reactions, whatsapp_numbers

log = logging.getLogger(__name__)

# Meta's statuses the inbox tracks; others (e.g. `deleted`, `played`) are acknowledged only.
TRACKED_STATUSES = ("sent", "delivered", "read", "failed")


@dataclass
class Tally:
    """What one envelope did, for the webhook's answer and the log."""

    stored: int = 0
    duplicates: int = 0
    statuses: int = 0
    ignored: int = 0


def receive(envelope: Envelope) -> Tally:
    """Store every message and apply every status of an envelope, change by change."""
    tally = Tally()
    owners = whatsapp_numbers.owners()
    for entry in envelope.entry:
        for change in entry.changes:
            value = change.value
            number = value.metadata.phone_number_id if value.metadata else ""
            owner = owners.get(number)
            if change.field != "messages":
                log.info("whatsapp webhook: %r change for number %r ignored", change.field, number)
                tally.ignored += 1
                continue
            if owner is None:
                log.warning(
                    "whatsapp webhook: change for number %r not stored: no user owns it "
                    "(`flask numbers add %s --user EMAIL`)",
                    number,
                    number or "PHONE_NUMBER_ID",
                )
                tally.ignored += 1
                continue
            for error in value.errors:
                log.error("whatsapp webhook: Meta reports for number %s: %s", number, error.text)
            _receive_messages(value, owner, tally)
            _receive_statuses(value, tally)
    return tally


def _receive_messages(value: ChangeValue, owner: int, tally: Tally) -> None:
    names = {contact.wa_id: contact.profile.name for contact in value.contacts}
    for message in sorted(value.messages, key=_meta_time):
        if message.type == "reaction":
            _react(message, tally)
            continue
        if _store(_draft(message, owner, names.get(message.from_, ""))):
            tally.stored += 1
        else:
            tally.duplicates += 1


def _meta_time(message: InboundMessage):
    return (message.timestamp is None, message.timestamp or 0)


def _react(message: InboundMessage, tally: Tally) -> None:
    """A reaction changes the reacted message (reactions.react); it is no message of its own."""
    part = message.part("reaction") or {}
    try:
        reactions.react(str(part.get("message_id", "")), str(part.get("emoji") or ""))
    except NotFound:
        log.info("whatsapp webhook: reaction %s to a message we never saw", message.id)
        tally.ignored += 1
        return
    tally.stored += 1


def _quoted(message: InboundMessage) -> str | None:
    """Our id of the message this one quotes (`context.id`), when we have it."""
    quoted_wamid = (message.context or {}).get("id")
    quoted = messages.find_by_whatsapp_id(str(quoted_wamid)) if quoted_wamid else None
    return quoted.id if quoted is not None else None


def _draft(message: InboundMessage, owner: int, name: str) -> messages.Draft:
    kind, text = whatsapp_content.type_and_text(message)
    return messages.Draft(
        user_id=owner,
        customer_phone=message.from_,
        customer_name=name.strip()[:255],
        content=text,
        message_type=kind,
        timestamp=message.timestamp,
        whatsapp_id=message.id,
        location=whatsapp_content.location(message),
        reply_to=_quoted(message),
        media_fetch=whatsapp_content.media_fetch(message),
    )


def _store(draft: messages.Draft) -> bool:
    """Write one message; False when its wamid was stored before (nothing written again).

    A file is fetched afterwards from its queue row, written with the message:
    the message is emitted at once, and `message_media` follows with the file.
    """
    try:
        messages.write(draft)
    except IntegrityError:
        if messages.find_by_whatsapp_id(draft.whatsapp_id) is None:
            raise
        return False
    if draft.media_fetch is not None:
        outbox.notify()  # the sender loop fetches files too
    return True


def _receive_statuses(value: ChangeValue, tally: Tally) -> None:
    for status in sorted(value.statuses, key=_meta_time):
        if _apply(status):
            tally.statuses += 1
        else:
            tally.ignored += 1


def _apply(status: Status) -> bool:
    """Apply one status to the reply it names; False when it changed nothing."""
    reply = messages.find_by_whatsapp_id(status.id)
    if status.status not in TRACKED_STATUSES or reply is None or reply.direction != "OUTBOUND":
        log.info("whatsapp webhook: status %s of %s not applied", status.status, status.id)
        return False
    error = code = None
    if status.status == "failed":
        first = status.errors[0] if status.errors else None
        error = first.text if first else "WhatsApp reported the message as failed"
        code = first.code if first else None
    event = delivery_status.report(reply, status.status, status.timestamp, error, code)
    return event is not None
