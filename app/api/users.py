"""Users: listing (admins see all, agents the admins' names), creating and changing them."""

from flask_jwt_extended import current_user, jwt_required

from app.api import bp
from app.api.access import admin_required
from app.errors import ValidationError
from app.schemas.http import BEARER, operation
from app.schemas.rest import UserPath
from app.schemas.users import Colleague, NewUser, OnlineUsers, UserAccount, UserChange
from app.services import users
from app.state import presence


@bp.get("/users")
@jwt_required()
@operation(responses={200: list[UserAccount] | list[Colleague]}, errors=(401,), security=BEARER)
def list_users():
    """Admins: every user, active or not. Agents: the active admins' `{id, name}` only."""
    if current_user.is_admin:
        return [UserAccount.of(user) for user in users.list_users()]
    return [Colleague.of(user) for user in users.list_admins()]


@bp.get("/users/presence")
@jwt_required()
@operation(responses={200: OnlineUsers}, errors=(401,), security=BEARER)
def users_presence():
    """Who is online among the users the caller may see (agents: the admins and themself)."""
    online = presence().online_user_ids()
    if not current_user.is_admin:
        visible = {user.id for user in users.list_admins()} | {current_user.id}
        online = [user_id for user_id in online if user_id in visible]
    return OnlineUsers(online_user_ids=online)


@bp.post("/users")
@admin_required
@operation(body=NewUser, responses={201: UserAccount}, errors=(400, 401, 403, 409), security=BEARER)
def create_user(body: NewUser):
    """Create a user (admins); 409 when the email is taken."""
    user = users.create_user(body.email, body.password, body.role, body.name)
    return UserAccount.of(user), 201


@bp.patch("/users/<int:user_id>")
@admin_required
@operation(
    path=UserPath,
    body=UserChange,
    responses={200: UserAccount},
    errors=(400, 401, 403, 404, 409),
    security=BEARER,
)
def update_user(user_id: int, body: UserChange):
    """Rename a user, change their role, deactivate or reactivate them (admins).

    Deactivating works as `flask users deactivate`: their tokens stop working at
    once and their live sockets are cut within TOKEN_SWEEP_SECONDS.
    """
    if not body.model_fields_set:
        raise ValidationError("nothing to change: give name, isActive or role")
    user = users.update_user(current_user, user_id, body.name, body.is_active, body.role)
    return UserAccount.of(user)
