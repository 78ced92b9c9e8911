"""WhatsApp Cloud API numbers (Meta's phone_number_id) and the users who own them."""

import re

from sqlalchemy import select

from app.errors import Conflict, NotFound, ValidationError
from app.extensions import db
from app.models import WhatsappNumber
from app.services import users

# Meta's ids are decimal strings (e.g. "106540352242922").
_PHONE_NUMBER_ID = re.compile(r"[0-9]{1,64}")


def add(phone_number_id: str, email: str) -> WhatsappNumber:
    """Tie a number to the user who owns its conversations (one owner per number)."""
    phone_number_id = phone_number_id.strip()
    if not _PHONE_NUMBER_ID.fullmatch(phone_number_id):
        raise ValidationError("phone_number_id must be Meta's numeric id", field="phone_number_id")
    user = users.find_by_email(email)
    if user is None:
        raise NotFound(f"no user with email {email}")
    if find(phone_number_id) is not None:
        raise Conflict(f"{phone_number_id} is already tied to a user", field="phone_number_id")
    number = WhatsappNumber(phone_number_id=phone_number_id, user_id=user.id)
    db.session.add(number)
    db.session.commit()
    return number


def remove(phone_number_id: str) -> None:
    """Untie a number: its later webhooks are answered 200 and logged, not stored."""
    number = find(phone_number_id.strip())
    if number is None:
        raise NotFound(f"no WhatsApp number {phone_number_id}")
    db.session.delete(number)
    db.session.commit()


def all_numbers() -> list[WhatsappNumber]:
    return list(db.session.scalars(select(WhatsappNumber).order_by(WhatsappNumber.id)))


def find(phone_number_id: str) -> WhatsappNumber | None:
    return db.session.scalar(
        select(WhatsappNumber).where(WhatsappNumber.phone_number_id == phone_number_id)
    )


def owners() -> dict[str, int]:
    """phone_number_id -> owning user id, for routing one webhook's changes."""
    rows = db.session.execute(select(WhatsappNumber.phone_number_id, WhatsappNumber.user_id))
    return dict(rows.all())


def sending_number(user_id: int) -> str | None:
    """The number a user's replies go out from: the first one tied to them."""
    return db.session.scalar(
        select(WhatsappNumber.phone_number_id)
        .where(WhatsappNumber.user_id == user_id)
        .order_by(WhatsappNumber.id)
        .limit(1)
    )
