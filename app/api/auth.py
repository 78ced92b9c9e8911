"""Login, refresh, me, logout."""

from flask_jwt_extended import current_user, get_jwt, jwt_required

from app.api import bp
from app.api.refresh_cookie import forget_cookie, hand_over_in_cookie
from app.schemas.http import BEARER, BEARER_OR_REFRESH, REFRESH_OR_COOKIE, operation
from app.schemas.rest import AccessToken, Login, Success, Tokens, User
from app.services import auth


@bp.post("/auth/login")
@operation(body=Login, responses={200: Tokens}, errors=(400, 401, 403, 429))
def login(body: Login):
    """Exchange email and password for an access and a refresh token.

    10 failed logins for one account, or 50 from one address, within a minute:
    429 until the minute has passed. Successful logins do not count.
    With `refreshCookie: true` (the panel) the refresh token comes as an HttpOnly
    cookie for POST /api/auth/refresh only, and `refreshToken` is null.
    """
    tokens = auth.login(body.email, body.password)
    if body.refresh_cookie:
        tokens = hand_over_in_cookie(tokens)
    return Tokens.model_validate(tokens)


@bp.post("/auth/refresh")
@jwt_required(refresh=True, locations=["headers", "cookies"])
@operation(responses={200: AccessToken}, errors=(401,), security=REFRESH_OR_COOKIE)
def refresh():
    """A new access token for a valid refresh token: as a Bearer, or the login's cookie
    with its CSRF value in X-CSRF-TOKEN."""
    return AccessToken(access_token=auth.refreshed_access_token(current_user, get_jwt()))


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
    """Revoke the token sent with this request (access or refresh) and its login session:
    the refresh token, every access token it made, their live sockets (cut within seconds),
    and the panel's refresh cookie."""
    auth.revoke(get_jwt())
    forget_cookie()
    return Success()
