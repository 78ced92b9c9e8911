"""Login, token refresh, revocation, and the token check of the socket handshake."""

import functools
import secrets
from datetime import UTC, datetime

from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from sqlalchemy import delete

from app.errors import Forbidden, Unauthorized
from app.extensions import db
from app.models import RevokedToken, User
from app.schemas.rest import User as UserOut
from app.services.users import find_by_email, normalize_email
from app.timeutil import utcnow


@functools.cache
def _dummy_user() -> User:
    """Checked against when the email is unknown, so both cases take as long."""
    user = User()
    user.set_password(secrets.token_hex(16))
    return user


class AuthenticationFailed(Unauthorized):
    """The socket handshake's refusal for a bad token."""

    def __init__(self, message: str = "Authentication failed"):
        super().__init__(message)


def issue_tokens(user: User) -> dict:
    """A fresh access and refresh token pair for a user."""
    return {
        "accessToken": create_access_token(
            identity=str(user.id), additional_claims={"role": user.role}
        ),
        "refreshToken": create_refresh_token(identity=str(user.id)),
        "user": UserOut.of(user).model_dump(),
    }


def login(email: str, password: str) -> dict:
    """Check credentials and issue tokens (failed logins are limited in app/rate_limits.py)."""
    user = find_by_email(normalize_email(email))
    if not (user or _dummy_user()).check_password(password) or user is None:
        raise Unauthorized("Invalid email or password")
    if not user.is_active:
        raise Forbidden("User is inactive")
    return issue_tokens(user)


def refreshed_access_token(user: User) -> str:
    return create_access_token(identity=str(user.id), additional_claims={"role": user.role})


def revoke(token_payload: dict) -> None:
    """Revoke one token for good (kept until it would have expired anyway)."""
    expires_at = datetime.fromtimestamp(token_payload["exp"], UTC).replace(tzinfo=None)
    if db.session.get(RevokedToken, token_payload["jti"]) is None:
        db.session.add(RevokedToken(jti=token_payload["jti"], expires_at=expires_at))
    db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
    db.session.commit()


def is_revoked(jti: str) -> bool:
    return db.session.get(RevokedToken, jti) is not None


def active_user(user_id) -> User | None:
    """The user behind a token's subject, only while they exist and are active."""
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.is_active else None


def user_from_access_token(token) -> tuple[User, dict]:
    """Everything @jwt_required checks, for the socket handshake: (user, claims).

    decode_token() verifies signature and expiry only; revocation and the
    user's existence and active flag are checked here.
    """
    if not isinstance(token, str) or not token:
        raise AuthenticationFailed()
    try:
        claims = decode_token(token)
    except Exception as exc:
        raise AuthenticationFailed() from exc
    if claims.get("type") != "access" or is_revoked(claims["jti"]):
        raise AuthenticationFailed()
    user = active_user(claims.get("sub"))
    if user is None:
        raise AuthenticationFailed("User not found")
    return user, claims
