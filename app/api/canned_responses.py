"""Canned responses: personal and shared saved answers."""

from flask_jwt_extended import current_user, jwt_required

from app.api import bp
from app.schemas.http import BEARER, operation
from app.schemas.rest import Success
from app.schemas.workflow import CannedResponse, CannedResponseIn, CannedResponsePath
from app.services import canned_responses


@bp.get("/canned-responses")
@jwt_required()
@operation(responses={200: list[CannedResponse]}, errors=(401,), security=BEARER)
def list_canned_responses():
    """The caller's own canned responses and the shared ones, by shortcut."""
    return [CannedResponse.of(row) for row in canned_responses.visible_to(current_user)]


@bp.post("/canned-responses")
@jwt_required()
@operation(
    body=CannedResponseIn,
    responses={201: CannedResponse},
    errors=(400, 401, 403, 409),
    security=BEARER,
)
def create_canned_response(body: CannedResponseIn):
    """Save a canned response; `shared: true` (admins only) offers it to everyone."""
    row = canned_responses.create(current_user, body.shortcut, body.content, body.shared)
    return CannedResponse.of(row), 201


@bp.delete("/canned-responses/<int:canned_id>")
@jwt_required()
@operation(
    path=CannedResponsePath, responses={200: Success}, errors=(401, 403, 404), security=BEARER
)
def delete_canned_response(canned_id: int):
    """Delete one of one's own canned responses (a shared one: admins)."""
    canned_responses.delete(current_user, canned_id)
    return Success()
