"""At most a few error tracebacks a minute from Engine.IO and Socket.IO.

Both libraries log a full traceback at ERROR for every packet they cannot
handle ("message handler error", "Unknown receive error"), and a client can
send such packets before it has authenticated, as fast as it likes: one line of
garbage costs the server a traceback on disk. The filter lets BURST of them
through per WINDOW_SECONDS, drops the rest, and says how many it dropped on the
next one it lets through. A logging filter: no library code is changed.
"""

import logging
import time

LOGGERS = ("engineio.server", "socketio.server")
BURST = 5
WINDOW_SECONDS = 60.0


class RateLimitedErrors(logging.Filter):
    """Lets BURST error records through per window; counts the ones it drops."""

    def __init__(self, burst: int = BURST, window: float = WINDOW_SECONDS, clock=time.monotonic):
        super().__init__()
        self.burst, self.window, self.clock = burst, window, clock
        self.window_start = None
        self.passed = 0
        self.dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            return True
        now = self.clock()
        if self.window_start is None or now - self.window_start >= self.window:
            self.window_start, self.passed = now, 0
        if self.passed >= self.burst:
            self.dropped += 1
            return False
        self.passed += 1
        if self.dropped:
            record.msg = f"{record.msg} ({self.dropped} similar errors not logged)"
            self.dropped = 0
        return True


def rate_limit_error_logs() -> None:
    """Put one RateLimitedErrors on each library logger, once."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RateLimitedErrors) for f in logger.filters):
            logger.addFilter(RateLimitedErrors())
