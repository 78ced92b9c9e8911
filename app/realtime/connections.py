"""The sockets connected to this process, with what each one may do."""

import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass(slots=True)
class Connection:
    """One authenticated socket: who holds it, and its recent event times.

    Held for every socket of the process, so kept small: slots, and the event
    times' deque (over 600 bytes) made at the socket's first event.
    """

    sid: str
    user_id: int
    is_admin: bool
    token_jti: str
    token_expires_at: float
    recent_events: deque | None = None

    def allow_event(self, per_second: int) -> bool:
        """Sliding-window limit on client events; a refused event is not counted."""
        now = time.monotonic()
        if self.recent_events is None:
            self.recent_events = deque()
        while self.recent_events and now - self.recent_events[0] >= 1.0:
            self.recent_events.popleft()
        if len(self.recent_events) >= per_second:
            return False
        self.recent_events.append(now)
        return True


class ConnectionRegistry:
    """sid -> Connection for the sockets of this process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_sid: dict[str, Connection] = {}

    def add(self, connection: Connection) -> None:
        with self._lock:
            self._by_sid[connection.sid] = connection

    def remove(self, sid: str) -> Connection | None:
        with self._lock:
            return self._by_sid.pop(sid, None)

    def get(self, sid: str) -> Connection | None:
        return self._by_sid.get(sid)

    def all(self) -> list[Connection]:
        with self._lock:
            return list(self._by_sid.values())
