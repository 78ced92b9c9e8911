"""Login, token refresh, revocation, and the token check of the socket handshake."""

import functools
import secrets
import uuid
from datetime import UTC, datetime

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from sqlalchemy import delete, select

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


# The claim of an access token naming the refresh token it came from (its login
# session): revoking that refresh token revokes every access token it minted, and
# a logout with an access token revokes its refresh token too.
SESSION_CLAIM = "refresh_jti"


def issue_tokens(user: User) -> dict:
    """A fresh access and refresh token pair for a user: one login session."""
    session = str(uuid.uuid4())
    return {
        "accessToken": _access_token(user, session),
        "refreshToken": create_refresh_token(
            identity=str(user.id), additional_claims={"jti": session}
        ),
        "user": UserOut.of(user).model_dump(),
    }


def _access_token(user: User, session: str) -> str:
    claims = {"role": user.role, SESSION_CLAIM: session}
    return create_access_token(identity=str(user.id), additional_claims=claims)


def login(email: str, password: str) -> dict:
    """Check credentials and issue tokens (failed logins are limited in app/rate_limits.py)."""
    user = find_by_email(normalize_email(email))
    if not (user or _dummy_user()).check_password(password) or user is None:
        raise Unauthorized("Invalid email or password")
    if not user.is_active:
        raise Forbidden("User is inactive")
    return issue_tokens(user)


def refreshed_access_token(user: User, refresh_claims: dict) -> str:
    """A new access token of the refresh token's session."""
    return _access_token(user, refresh_claims["jti"])


def revoke(token_payload: dict) -> None:
    """Revoke a token for good, and with an access token its session's refresh token
    (each kept until it would have expired anyway)."""
    expiries = {token_payload["jti"]: datetime.fromtimestamp(token_payload["exp"], UTC)}
    session = token_payload.get(SESSION_CLAIM)
    if session:
        # The refresh token was issued before this access token: it ends by then.
        refresh_lifetime = current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
        expiries.setdefault(session, datetime.now(UTC) + refresh_lifetime)
    for jti, expires_at in expiries.items():
        if db.session.get(RevokedToken, jti) is None:
            db.session.add(RevokedToken(jti=jti, expires_at=expires_at.replace(tzinfo=None)))
    db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
    db.session.commit()


def is_revoked(claims: dict) -> bool:
    """Whether the token, or the login session it belongs to, was revoked."""
    jtis = [jti for jti in (claims.get("jti"), claims.get(SESSION_CLAIM)) if jti]
    found = select(RevokedToken.jti).where(RevokedToken.jti.in_(jtis)).limit(1)
    return db.session.scalar(found) is not None


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
    if claims.get("type") != "access" or is_revoked(claims):
        raise AuthenticationFailed()
    user = active_user(claims.get("sub"))
    if user is None:
        raise AuthenticationFailed("User not found")
    return user, claims
