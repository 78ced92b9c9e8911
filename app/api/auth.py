"""Login, refresh, me, logout."""

from flask_jwt_extended import current_user, get_jwt, jwt_required

from app.api import bp
from app.schemas.http import BEARER, BEARER_OR_REFRESH, REFRESH, operation
from app.schemas.rest import AccessToken, Login, Success, Tokens, User
from app.services import auth


@bp.post("/auth/login")
@operation(body=Login, responses={200: Tokens}, errors=(400, 401, 403, 429))
def login(body: Login):
    """Exchange email and password for an access and a refresh token.

    10 failed logins for one account, or 50 from one address, within a minute:
    429 until the minute has passed. Successful logins do not count.
    """
    return Tokens.model_validate(auth.login(body.email, body.password))


@bp.post("/auth/refresh")
@jwt_required(refresh=True)
@operation(responses={200: AccessToken}, errors=(401,), security=REFRESH)
def refresh():
    """A new access token for a valid refresh token."""
    return AccessToken(access_token=auth.refreshed_access_token(current_user))


@bp.get("/auth/me")
@jwt_required()
@operation(responses={200: User}, errors=(401,), security=BEARER)
def me():
    """The caller."""
    return User.of(current_user)


@bp.post("/auth/logout")
@jwt_required(verify_type=False)
@operation(responses={200: Success}, errors=(401,), security=BEARER_OR_REFRESH)
def logout():
    """Revoke the token sent with this request (access or refresh); its live sockets are cut."""
    auth.revoke(get_jwt())
    return Success()
