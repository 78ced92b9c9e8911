"""How late a durable event reaches this process after a larger eventId: what the
replay margin has to cover, measured where it happens.

Events commit in eventId order, but every process publishes its own events after
committing them, so an event can reach the sockets after one with a larger id
(docs/deploy.md, "The replay margin"). A client dropped in between resumes past
it, and the replay re-sends what committed EVENT_REPLAY_MARGIN_SECONDS before
its lastEventId. This tracker logs each new worst inversion (INFO), and warns when
one passes half the margin: a sign to raise it, unless Redis was just away (events
held back during an outage come late by design, and its recovery covers them).
"""

import bisect
import logging
import math
import threading
import time

log = logging.getLogger(__name__)


class PublishOrder:
    """The eventIds delivered here as they rose, to measure how late a smaller one comes."""

    WINDOW_SECONDS = 60.0  # rises older than this are forgotten

    def __init__(self, margin_seconds: float):
        self.margin = margin_seconds
        self.worst = 0.0
        self._lock = threading.Lock()
        self._rises: list[tuple[int, float]] = []  # (a new largest eventId, when it came)

    def delivered(self, event_id: int) -> None:
        """Note an event delivered here for the first time."""
        now = time.monotonic()
        with self._lock:
            if not self._rises or event_id > self._rises[-1][0]:
                self._rises.append((event_id, now))
                if now - self._rises[0][1] > 2 * self.WINDOW_SECONDS:
                    self._forget(now)
                return
            overtaken = bisect.bisect_right(self._rises, (event_id, math.inf))
            late = now - self._rises[overtaken][1]
            if late <= self.worst:
                return
            self.worst = late
        log.log(
            logging.WARNING if late > self.margin / 2 else logging.INFO,
            "publish order: event %d reached this process %.3f s after a larger eventId"
            " (the worst so far; the replay margin is %s s)",
            event_id,
            late,
            self.margin,
        )

    def _forget(self, now: float) -> None:
        keep = bisect.bisect_left(self._rises, now - self.WINDOW_SECONDS, key=lambda r: r[1])
        del self._rises[:keep]
