"""The sockets connected to this process, with what each one may do."""

import threading
from dataclasses import dataclass

from app.realtime.event_limits import EventLimit, EventLimiter


@dataclass(slots=True)
class Connection:
    """One authenticated socket: who holds it and until when its token is good.

    Held for every socket of the process, so kept small (slots); its event
    limits' windows live in the registry's EventLimiter, made at its first event.
    """

    sid: str
    user_id: int
    is_admin: bool
    token_jti: str
    token_expires_at: float
    session_jti: str | None = None  # the refresh token the access token came from


class ConnectionRegistry:
    """sid -> Connection for the sockets of this process, and their event limits."""

    def __init__(self, events_per_second: int):
        self._lock = threading.Lock()
        self._by_sid: dict[str, Connection] = {}
        self.event_limits = EventLimiter(events_per_second)

    def add(self, connection: Connection) -> None:
        with self._lock:
            self._by_sid[connection.sid] = connection

    def remove(self, sid: str) -> Connection | None:
        self.event_limits.forget(sid)
        with self._lock:
            return self._by_sid.pop(sid, None)

    def get(self, sid: str) -> Connection | None:
        return self._by_sid.get(sid)

    def all(self) -> list[Connection]:
        with self._lock:
            return list(self._by_sid.values())

    def allow_event(self, sid: str, limits: tuple[EventLimit, ...] | None, data) -> bool:
        """Count a client event against its socket's limits (see app/realtime/event_limits.py)."""
        return self.event_limits.allow(sid, limits, data)
