"""The durable event log over REST: the polling fallback."""

from flask_jwt_extended import current_user, jwt_required

from app.api import bp
from app.schemas.http import BEARER, operation
from app.schemas.rest import EventPage, EventsQuery, LoggedEvent
from app.services import events


@bp.get("/events")
@jwt_required()
@operation(query=EventsQuery, responses={200: EventPage}, errors=(400, 401), security=BEARER)
def list_events(query: EventsQuery):
    """Events after ?after=<eventId> that the caller may see, oldest first.

    The same log as the socket's replay: `data` is the event's payload with its eventId.
    """
    found = events.visible_after(current_user, query.after, query.limit)
    return EventPage(
        events=[LoggedEvent.of(event) for event in found],
        last_event_id=found[-1].id if found else query.after,
    )
