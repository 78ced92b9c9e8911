"""Redis clients that fail fast, and a log that reports an outage once, not once per call.

redis-py's defaults retry a failed command ten times with backoff and wait for a
reply without a time limit, so a Redis that is down or unreachable would hold a
webhook for seconds. Every client here gives up quickly instead; the callers
degrade (local state, held-back publishes) and recover when Redis answers again.
"""

import logging
import threading
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.metrics import DEPENDENCY_DOWN, DEPENDENCY_OUTAGES

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 1.0  # seconds to open a connection
COMMAND_TIMEOUT = 2.0  # seconds to wait for a reply
ERRORS = (redis.exceptions.RedisError, OSError)


def _tls_options(url: str, verify_tls: bool) -> dict:
    """rediss:// without certificate checks when asked (Heroku Redis signs its own)."""
    return {"ssl_cert_reqs": None} if url.startswith("rediss://") and not verify_tls else {}


def command_client(url: str, verify_tls: bool = True) -> redis.Redis:
    """A client for commands: one immediate retry after a dropped connection
    (replacing a pooled connection that a Redis restart closed), none after a
    timeout (a hung Redis would cost twice)."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=COMMAND_TIMEOUT,
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.exceptions.ConnectionError,)),
        **_tls_options(url, verify_tls),
    )


def subscriber_client(url: str, verify_tls: bool = True) -> redis.Redis:
    """A client for a pub/sub listener: no retry at all.

    With retries, redis-py reconnects and re-subscribes silently, and whatever
    was published in between is lost without anyone knowing; the listener must
    see every break to make up for it.
    """
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=COMMAND_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
        **_tls_options(url, verify_tls),
    )


def logical_db(url: str) -> int:
    """The logical database number a Redis URL selects (0 when none)."""
    return int(redis.connection.parse_url(url).get("db") or 0)


class Outage:
    """One dependency's outage as its callers see it.

    Logs the first failure and the recovery, nothing in between, and for
    `pause` seconds after a failure tells callers to skip the dependency rather
    than wait on it again: a Redis that hangs would otherwise cost every
    request a full timeout.
    """

    def __init__(self, what: str, dependency: str = "redis", pause: float = 1.0):
        self.what = what
        self.dependency = dependency
        self.pause = pause
        self._lock = threading.Lock()
        self._retry_at = 0.0
        self.down = False
        labels = {"dependency": dependency.removeprefix("the "), "user": what.removeprefix("the ")}
        self._outages = DEPENDENCY_OUTAGES.labels(**labels)
        self._down_gauge = DEPENDENCY_DOWN.labels(**labels)  # listed at 0 from the start

    def paused(self) -> bool:
        """True shortly after a failure: use the fallback without trying."""
        return time.monotonic() < self._retry_at

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            first, self.down = not self.down, True
            self._retry_at = time.monotonic() + self.pause
        if first:
            self._outages.inc()
            self._down_gauge.set(1)
            log.warning("%s unavailable for %s: %s", self.dependency, self.what, exc)

    def succeeded(self) -> None:
        with self._lock:
            recovered, self.down, self._retry_at = self.down, False, 0.0
        if recovered:
            self._down_gauge.set(0)
            log.warning("%s available again for %s", self.dependency, self.what)
