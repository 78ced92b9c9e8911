"""Flask's cookie sessions, without a new signing serializer for every request.

The app keeps no state in Flask's session (auth is a JWT), but Flask opens one per
request all the same, and builds its itsdangerous serializer to do so: about 2 %
of a webhook's CPU under load.
"""

from flask.sessions import SecureCookieSessionInterface


class SessionCookies(SecureCookieSessionInterface):
    """SecureCookieSessionInterface with its serializer made once per secret key."""

    def __init__(self):
        self._serializer = None
        self._made_for = None

    def get_signing_serializer(self, app):
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if self._made_for != keys:
            self._serializer = super().get_signing_serializer(app)
            self._made_for = keys
        return self._serializer
