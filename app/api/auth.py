"""Login, refresh, me, logout."""

from flask import jsonify
from flask_jwt_extended import current_user, get_jwt, jwt_required

from app.api import bp
from app.api.params import json_object, required_string
from app.errors import ValidationError
from app.services import auth


@bp.post("/auth/login")
def login():
    """Exchange email and password for an access and a refresh token."""
    body = json_object()
    email = required_string(body, "email")
    password = body.get("password")
    if not isinstance(password, str) or not password:
        raise ValidationError("password is required and must be a string", field="password")
    return jsonify(auth.login(email, password))


@bp.post("/auth/refresh")
@jwt_required(refresh=True)
def refresh():
    """A new access token for a valid refresh token."""
    return jsonify({"accessToken": auth.refreshed_access_token(current_user)})


@bp.get("/auth/me")
@jwt_required()
def me():
    return jsonify(current_user.to_dict())


@bp.post("/auth/logout")
@jwt_required(verify_type=False)
def logout():
    """Revoke the token sent with this request."""
    auth.revoke(get_jwt())
    return jsonify({"success": True})
