"""The durable event log behind eventId, replay on reconnect and GET /api/events."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from itertools import chain

from flask import current_app
from pydantic import BaseModel
from sqlalchemy import Select, func, or_, select, text

from app.blocking import let_others_run
from app.extensions import db
from app.models import Event, User
from app.timeutil import utcnow

# Any constant works; it only has to be the same in every process.
_EVENT_LOG_LOCK = 0x1B0C5E7
# Long reads of the log (a 1,000-event replay, GET /api/events?limit=1000) go in
# pages of this many events, the worker free for others between two pages.
PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event just written, as broadcast.publish needs it: what record() returns.

    Lighter than an ORM Event, and it keeps the payload it was given, so publishing
    does not parse back the JSON just stored.
    """

    id: int
    name: str
    user_id: int
    conversation_id: int
    data: dict  # the payload with its eventId
    also_user_id: int | None = None  # a transfer's previous owner


def lock_event_log(connection=None) -> None:
    """Serialize writers of the event log until the current transaction ends.

    On PostgreSQL ids come from a sequence at insert, but transactions commit in
    any order, so a reader of `id > last` could skip an id that commits later.
    Holding one advisory lock from before the first insert to the commit makes
    ids commit in order. SQLite already allows one writer at a time. `connection`:
    the transaction's, when it is not the session's.
    """
    connection = connection or db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_advisory_lock(), {"key": _EVENT_LOG_LOCK})


@cache
def _advisory_lock():
    return text("SELECT pg_advisory_xact_lock(:key)")


@cache
def _event_insert():
    """The event insert, built once (building it costs more than running it)."""
    table = Event.__table__
    return table.insert().returning(table.c.id)


def record(
    name: str,
    user_id: int,
    conversation_id: int,
    payload: BaseModel,
    connection=None,
    also_user_id: int | None = None,
) -> RecordedEvent:
    """Add an event to the current transaction; the caller commits it with its change.

    `payload` is the event's model (app/schemas/), serialized here once for the
    log and once for the emit; the log adds `eventId`.

    Written with a Core statement on the session's connection, after flushing the
    caller's ORM changes so the event follows them; or on `connection`, the
    transaction of a caller that writes with Core statements only. `also_user_id`:
    a second user who sees the event (a transferred conversation's previous owner).
    """
    if connection is None:
        db.session.flush()
        connection = db.session.connection()
    values = {
        "name": name,
        "user_id": user_id,
        "conversation_id": conversation_id,
        "payload": payload.model_dump_json(),
        "created_at": utcnow(),
    }
    if also_user_id is not None and also_user_id != user_id:
        values["also_user_id"] = also_user_id
    else:
        also_user_id = None
    event_id = connection.execute(_event_insert(), values).scalar_one()
    data = {**payload.model_dump(), "eventId": event_id}
    return RecordedEvent(event_id, name, user_id, conversation_id, data, also_user_id)


def _visible_to(user: User):
    query = select(Event).order_by(Event.id)
    if not user.is_admin:
        query = query.where(or_(Event.user_id == user.id, Event.also_user_id == user.id))
    return query


def visible_after(user: User, after: int, limit: int) -> Iterator[list[Event]]:
    """Events this user may see with an id above `after` (at most `limit`), oldest
    first, in pages (see pages())."""
    return pages(_visible_to(user), after, limit)


def pages(query: Select, after: int, limit: int) -> Iterator[list[Event]]:
    """The events of `query` with an id above `after`, at most `limit`, in id order and
    in pages of PAGE_SIZE; before reading the next page the worker serves others.

    Read lazily: events committed while the pages go out are included (in order).
    """
    taken = 0
    while taken < limit:
        size = min(PAGE_SIZE, limit - taken)
        page = list(db.session.scalars(query.where(Event.id > after).limit(size)))
        if page:
            yield page
        if len(page) < size:
            return
        taken, after = taken + len(page), page[-1].id
        let_others_run()


def _more_visible_than(user: User, after: int, count: int) -> bool:
    """Whether this user may see more than `count` events with an id above `after`."""
    capped = _visible_to(user).where(Event.id > after).limit(count + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(capped)) > count


def replay_for(user: User, last_event_id: int, max_events: int) -> Iterator[list[Event]] | None:
    """What a reconnecting client missed, in pages, or None when it must resync through REST.

    Resync when the log no longer reaches back to `last_event_id` (pruned), when
    the client claims ids the log never had (a reset database), or when more
    than `max_events` are missing. What it missed starts with the events just
    before `last_event_id` that a late publish may have kept from it
    (published_late_before); the client drops those it already has.
    """
    # Two statements: SQLite answers a lone min() or max() from the primary key's
    # ends, but both in one SELECT scan the whole log (0.3 s at 2 million events).
    oldest = db.session.scalar(select(db.func.min(Event.id)))
    latest = db.session.scalar(select(db.func.max(Event.id)))
    if last_event_id > (latest or 0) or (oldest is not None and oldest > last_event_id + 1):
        return None
    missed = missed_after(user, last_event_id, max_events)
    if missed is None:
        return None
    return chain(published_late_before(user, last_event_id, max_events), missed)


def missed_after(user: User, after: int, max_events: int) -> Iterator[list[Event]] | None:
    """The events after `after` this user may see, in pages, or None when there are
    more than max_events."""
    if _more_visible_than(user, after, max_events):
        return None
    return visible_after(user, after, max_events)


def published_late_before(user: User, event_id: int, max_events: int) -> Iterator[list[Event]]:
    """The events before `event_id` committed less than the replay margin before it.

    Events commit in id order (lock_event_log), but each is published after its
    commit by the process that made it, and two processes publish independently:
    event 8, committed a millisecond before 9 on another process, can reach a
    client after 9. A client that reconnects in between resumes from 9, and
    `id > 9` would never give it 8. So a replay also re-sends the events
    committed within EVENT_REPLAY_MARGIN_SECONDS before `event_id`, looking
    back at most `max_events` ids (docs/deploy.md says why that margin).
    """
    margin = timedelta(seconds=current_app.config["EVENT_REPLAY_MARGIN_SECONDS"])
    if not margin:
        return iter(())
    anchor = db.session.scalar(
        select(Event.created_at).where(Event.id <= event_id).order_by(Event.id.desc()).limit(1)
    )
    if anchor is None:
        return iter(())
    recent = _visible_to(user).where(
        Event.id < event_id,  # the client has event_id itself
        Event.created_at >= anchor - margin,
    )
    return pages(recent, event_id - max_events, max_events)


def prune_before(cutoff, batch_size: int = 10_000) -> int:
    """Delete the events created before `cutoff`, oldest first, in short transactions.

    The newest event is always kept: on SQLite the id is a plain rowid, and an
    emptied table would hand out ids from 1 again, so eventIds would stop growing
    and clients' lastEventId would point past the log. A client whose lastEventId
    is now older than the log gets `resync_required` (replay_for). Batches keep
    each write transaction short, so live webhooks wait milliseconds, not the
    whole prune.
    """
    newest = db.session.scalar(select(db.func.max(Event.id)))
    if newest is None:
        return 0
    deleted = 0
    while True:
        oldest_batch = (
            select(Event.id)
            .where(Event.created_at < cutoff, Event.id < newest)
            .order_by(Event.id)
            .limit(batch_size)
        )
        result = db.session.execute(db.delete(Event).where(Event.id.in_(oldest_batch)))
        db.session.commit()
        deleted += result.rowcount
        if result.rowcount < batch_size:
            return deleted
