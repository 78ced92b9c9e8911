"""The durable event log over REST: the polling fallback."""

from collections.abc import Iterable, Iterator
from itertools import chain

from flask import Response, stream_with_context
from flask_jwt_extended import current_user, jwt_required
from pydantic import TypeAdapter

from app.api import bp
from app.schemas.http import BEARER, operation
from app.schemas.rest import EventPage, EventsQuery, LoggedEvent
from app.services import events

_PAGE_OF_EVENTS = TypeAdapter(list[LoggedEvent])


@bp.get("/events")
@jwt_required()
@operation(query=EventsQuery, responses={200: EventPage}, errors=(400, 401), security=BEARER)
def list_events(query: EventsQuery):
    """Events after ?after=<eventId> that the caller may see, oldest first.

    The same log as the socket's replay: `data` is the event's payload with its eventId.
    Up to 1000 events are read and written out in pages of 100, the server serving
    others in between.
    """
    found = events.visible_after(current_user, query.after, query.limit)
    # The first page is read before the answer starts, so a database outage is a 503.
    first = next(found, [])
    body = _event_page(chain([first], found), query.after)
    return Response(stream_with_context(body), mimetype="application/json")


def _event_page(pages: Iterable[list], after: int) -> Iterator[bytes]:
    """EventPage's JSON, written a page of events at a time (lastEventId comes last)."""
    yield b'{"events":['
    last, separator = after, b""
    for page in pages:
        if page:
            models = [LoggedEvent.of(event) for event in page]
            items = _PAGE_OF_EVENTS.dump_json(models, by_alias=True)
            yield separator + items[1:-1]
            separator, last = b",", page[-1].id
    yield b'],"lastEventId":%d}' % last
