"""The panel's refresh token, in an HttpOnly cookie instead of the login's JSON body.

A login with `refreshCookie: true` gets its refresh token as the cookie
`refresh_token_cookie` (HttpOnly, SameSite=Strict, Path=/api/auth/refresh, so
page scripts never see it and no other request carries it) plus
`csrf_refresh_token`, a value the page reads and sends back in X-CSRF-TOKEN when
it refreshes (flask-jwt-extended's double submit check). A logout deletes both.
The settings are in config.py (JWT_REFRESH_COOKIE_PATH, JWT_COOKIE_*).
"""

from flask import after_this_request, current_app
from flask_jwt_extended import set_refresh_cookies, unset_refresh_cookies


def hand_over_in_cookie(tokens: dict) -> dict:
    """Move the refresh token of a login answer into the cookies of its response."""
    refresh_token = tokens["refreshToken"]
    max_age = int(current_app.config["JWT_REFRESH_TOKEN_EXPIRES"].total_seconds())

    @after_this_request
    def set_cookies(response):
        set_refresh_cookies(response, refresh_token, max_age=max_age)
        return response

    return {**tokens, "refreshToken": None}


def forget_cookie() -> None:
    """Delete the refresh cookies (if any) with this response."""

    @after_this_request
    def unset_cookies(response):
        unset_refresh_cookies(response)
        return response
