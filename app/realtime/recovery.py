"""Making up for a Redis outage: each process re-sends, to its own sockets, the
durable events that its message-queue subscription missed.

Redis pub/sub forgets what is published while a subscriber is away, and
python-socketio drops an emit it cannot publish. The event log has every
durable event, so when a process's subscription comes back it reads the log
from a point safely before the break and emits, to its own sockets only, each
event it has not delivered yet. The DeliveryLedger remembers which event ids
this process delivered, so no socket gets an event twice from the server
(clients still drop repeated eventIds, as the contract asks, for replays).
"""

import logging
import threading
import time

from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import Event

log = logging.getLogger(__name__)


class DeliveryLedger:
    """The durable event ids this process delivered recently, with when.

    `claim` is the only way an event reaches this process's sockets as a
    broadcast, so the same id arriving twice (live and from the log, or
    re-published) goes out once.
    """

    RETENTION_SECONDS = 300.0
    # Past this many ids the oldest go even during an outage: memory stays
    # bounded, at worst a client drops a repeated eventId.
    MAX_ENTRIES = 200_000

    def __init__(self):
        self._lock = threading.Lock()
        self._delivered: dict[int, float] = {}  # event id -> monotonic time, in delivery order
        self._forgotten_up_to = 0  # largest id pruned from _delivered
        self._holds = 0  # recoveries under way: keep everything until they finish

    def claim(self, event_id: int) -> bool:
        """True the first time this event id is delivered here."""
        now = time.monotonic()
        with self._lock:
            if event_id in self._delivered:
                return False
            self._delivered[event_id] = now
            self._prune(now)
            return True

    def _prune(self, now: float) -> None:
        cutoff = float("-inf") if self._holds else now - self.RETENTION_SECONDS
        while self._delivered:
            event_id, at = next(iter(self._delivered.items()))
            if at > cutoff and len(self._delivered) <= self.MAX_ENTRIES:
                return
            del self._delivered[event_id]
            self._forgotten_up_to = max(self._forgotten_up_to, event_id)

    def floor(self, before: float, baseline: int) -> int:
        """The largest id delivered before monotonic time `before` (at least `baseline`).

        Events up to it were published long enough before the break to have
        arrived already, so a recovery reads the log after it.
        """
        with self._lock:
            delivered = [i for i, at in self._delivered.items() if at <= before]
            return max([baseline, self._forgotten_up_to, *delivered])

    def hold(self) -> None:
        with self._lock:
            self._holds += 1

    def release(self) -> None:
        with self._lock:
            self._holds -= 1


def latest_event_id(app: Flask) -> int:
    """The largest id in the event log (0 when empty)."""
    with app.app_context():
        return db.session.scalar(select(func.max(Event.id))) or 0


def missed_events(app: Flask, floor: int, ledger: DeliveryLedger, limit: int) -> list[Event]:
    """Logged events after `floor` not yet delivered here, oldest first (at most limit + 1)."""
    missed: list[Event] = []
    with app.app_context():
        query = select(Event).where(Event.id > floor).order_by(Event.id)
        for event in db.session.scalars(query.execution_options(yield_per=500)):
            if not ledger.claim(event.id):
                continue
            missed.append(event)
            if len(missed) > limit:
                break
    return missed
