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
    user.is_active = active
    db.session.commit()
    return user
