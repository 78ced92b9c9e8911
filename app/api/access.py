"""Role checks shared by the REST views."""

import functools

from flask_jwt_extended import current_user, jwt_required

from app.errors import Forbidden


def admin_required(view):
    """A valid access token of an ADMIN."""

    @functools.wraps(view)
    @jwt_required()
    def wrapper(*args, **kwargs):
        if not current_user.is_admin:
            raise Forbidden("Admin role required")
        return view(*args, **kwargs)

    return wrapper
