"""Canned responses: saved answers, an agent's own or shared by an admin."""

from sqlalchemy import or_, select

from app.errors import Conflict, Forbidden, NotFound
from app.extensions import db
from app.models import CannedResponse, User
from app.services.ids import is_int_id


def visible_to(user: User) -> list[CannedResponse]:
    """The user's own answers and the shared ones, by shortcut."""
    query = select(CannedResponse).where(
        or_(CannedResponse.owner_id.is_(None), CannedResponse.owner_id == user.id)
    )
    return list(db.session.scalars(query.order_by(CannedResponse.shortcut, CannedResponse.id)))


def create(user: User, shortcut: str, content: str, shared: bool) -> CannedResponse:
    """Save an answer; a shared one is for admins to make. A shortcut is unique per
    owner (and among the shared ones)."""
    if shared and not user.is_admin:
        raise Forbidden("Only admins may share canned responses")
    owner_id = None if shared else user.id
    taken = db.session.scalar(
        select(CannedResponse.id).where(
            CannedResponse.shortcut == shortcut,
            CannedResponse.owner_id.is_(None) if shared else CannedResponse.owner_id == owner_id,
        )
    )
    if taken is not None:
        raise Conflict(f"the shortcut /{shortcut} is taken", field="shortcut")
    row = CannedResponse(owner_id=owner_id, shortcut=shortcut, content=content, created_by=user.id)
    db.session.add(row)
    db.session.commit()
    return row


def delete(user: User, canned_id: int) -> None:
    """Delete one's own answer; a shared one only an admin deletes."""
    row = db.session.get(CannedResponse, canned_id) if is_int_id(canned_id) else None
    if row is None or (row.owner_id is not None and row.owner_id != user.id):
        raise NotFound("Canned response not found")
    if row.owner_id is None and not user.is_admin:
        raise Forbidden("Only admins may delete shared canned responses")
    db.session.delete(row)
    db.session.commit()
