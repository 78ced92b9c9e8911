"""flask-jwt-extended callbacks: who a token belongs to, revocation, JSON 401s."""

from app.errors import error_response
from app.extensions import jwt
from app.services.auth import active_user, is_revoked


@jwt.user_lookup_loader
def _load_user(_header, claims):
    # None for a deleted or deactivated user: every token of theirs is refused.
    return active_user(claims.get("sub"))


@jwt.token_in_blocklist_loader
def _token_revoked(_header, claims) -> bool:
    return is_revoked(claims)


def _unauthorized(message: str):
    return error_response(401, "unauthorized", message)


@jwt.unauthorized_loader
def _missing_token(reason: str):
    return _unauthorized(f"Missing or malformed token: {reason}")


@jwt.invalid_token_loader
def _invalid_token(reason: str):
    return _unauthorized(f"Invalid token: {reason}")


@jwt.expired_token_loader
def _expired_token(_header, _claims):
    return _unauthorized("Token has expired")


@jwt.revoked_token_loader
def _revoked_token(_header, _claims):
    return _unauthorized("Token has been revoked")


@jwt.user_lookup_error_loader
def _unknown_user(_header, _claims):
    return _unauthorized("User not found or inactive")


@jwt.needs_fresh_token_loader
def _needs_fresh(_header, _claims):
    return _unauthorized("Fresh token required")


@jwt.token_verification_failed_loader
def _verification_failed(_header, _claims):
    return _unauthorized("Token verification failed")
