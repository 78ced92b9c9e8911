"""Creating, finding and deactivating users."""

import re

from sqlalchemy import select

from app.errors import Conflict, NotFound, ValidationError
from app.extensions import db
from app.models import ROLES, User
from app.services.ids import is_int_id

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_user(email: str, password: str, role: str = "USER", name: str = "") -> User:
    """Add a user; the email is unique, case-insensitively."""
    email = normalize_email(email)
    role = role.upper()
    if not _EMAIL.match(email):
        raise ValidationError("email is not a valid address", field="email")
    if role not in ROLES:
        raise ValidationError("role must be ADMIN or USER", field="role")
    if len(password) < 8:
        raise ValidationError("password must have at least 8 characters", field="password")
    if find_by_email(email) is not None:
        raise Conflict(f"a user with email {email} already exists", field="email")
    user = User(email=email, name=name or email.split("@")[0], role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def get_user(user_id: int) -> User:
    """The user with this id, active or not; NotFound otherwise."""
    user = db.session.get(User, user_id) if is_int_id(user_id) else None
    if user is None:
        raise NotFound("User not found")
    return user


def set_active(email: str, active: bool) -> User:
    """Activate or deactivate a user; a deactivated user's tokens stop working at once."""
    user = find_by_email(email)
    if user is None:
        raise NotFound(f"no user with email {normalize_email(email)}")
    return set_user_active(user, active)


def set_user_active(user: User, active: bool) -> User:
    """Activate or deactivate a user (the CLI and PATCH /api/users/<id>).

    Deactivated: every request with their tokens gets 401 at once, and each
    process's token sweep (app/realtime/token_sweep.py) cuts their live sockets
    within TOKEN_SWEEP_SECONDS, since it reads is_active from the database.
    """
    user.is_active = active
    db.session.commit()
    return user


def list_users() -> list[User]:
    """Every user, active or not, by name."""
    return list(db.session.scalars(select(User).order_by(User.name, User.id)))


def list_admins() -> list[User]:
    """The active admins, by name: the colleagues every agent may see."""
    query = select(User).where(User.role == "ADMIN", User.is_active.is_(True))
    return list(db.session.scalars(query.order_by(User.name, User.id)))


def update_user(
    acting: User, user_id: int, name: str | None, is_active: bool | None, role: str | None
) -> User:
    """Rename, change the role of, deactivate or reactivate a user (admins).

    An admin cannot deactivate or demote themself: the inbox would be left
    without anyone able to undo it.
    """
    user = get_user(user_id)
    if user.id == acting.id and (is_active is False or role == "USER"):
        raise Conflict("admins cannot deactivate or demote themselves", field="isActive")
    if name is not None:
        user.name = name
    if role is not None:
        user.role = role
    if is_active is not None and is_active != user.is_active:
        return set_user_active(user, is_active)
    db.session.commit()
    return user
