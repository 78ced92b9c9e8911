"""The durable event log over REST: the polling fallback."""

from flask import jsonify
from flask_jwt_extended import current_user, jwt_required

from app.api import bp
from app.api.params import int_arg
from app.services import events


@bp.get("/events")
@jwt_required()
def list_events():
    """Events after ?after=<eventId> that the caller may see, oldest first."""
    after = int_arg("after", 0, minimum=0)
    limit = int_arg("limit", 100, minimum=1, maximum=1000)
    found = events.visible_after(current_user, after, limit)
    return jsonify(
        {
            "events": [event.to_dict() for event in found],
            "lastEventId": found[-1].id if found else after,
        }
    )
