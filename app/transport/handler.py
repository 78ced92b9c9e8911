"""The request handler's guards: a deadline for request headers, and a reserve of
connections for HTTP.

pywsgi reads request headers without any time limit, and gunicorn's gevent
worker stops accepting once worker_connections are open: stalled requests
(slowloris) or websockets could take every connection and leave none for a
webhook or a login. GuardedHandler, put in front of the worker's own handler
class by serve() (app/transport/__init__.py), adds:

- a deadline for the request line and headers (HEADER_TIMEOUT_SECONDS from the
  first byte awaited), after which the connection is closed;
- a reserve of HTTP_RESERVE_CONNECTIONS: websockets stay under
  worker_connections less the reserve (a new one past it gets 503), and
  connections waiting for their headers under what the websockets leave of
  that (at least half the reserve): past it, the connection that has waited
  longest is closed (a real client sends its headers in milliseconds). The
  reserve itself is left to requests being served.

It overrides pywsgi's documented extension points only (the constructor,
handle_one_request, read_request, get_environ and run_application), so it serves in both
transport modes.
"""

import logging
import socket
from collections import OrderedDict
from dataclasses import dataclass

import gevent

from app.transport.connection import Connection

log = logging.getLogger(__name__)

_BUSY = b"Too many connections, try again later\n"


class HeaderTimeout(socket.timeout, ValueError):
    """The request line or headers did not arrive in time.

    A socket error while pywsgi reads the request line (it then closes quietly), a
    ValueError while it reads headers (it then answers 400 without a traceback).
    """


@dataclass
class Limits:
    """What the guards enforce; set by install() (the app's config) and serve() (gunicorn)."""

    header_timeout: float = 10.0
    worker_connections: int = 1000
    http_reserve: int = 100
    max_message_bytes: int = 64 * 1024
    send_timeout: float = 30.0

    @property
    def held_at_most(self) -> int:
        """Connections that may wait for headers or be websockets, together."""
        return max(1, self.worker_connections - self.http_reserve)


limits = Limits()


class Reserve:
    """Connections waiting for their request headers, and the open websockets."""

    def __init__(self):
        self.waiting: OrderedDict = OrderedDict()  # handler -> None, oldest first
        self.websockets = 0

    def wait(self, handler) -> None:
        """A connection starts waiting for a request; the oldest waiter goes if too many wait.

        Waiters may use what websockets leave of the connections outside the
        reserve, and always half the reserve.
        """
        self.waiting[handler] = None
        room = max(limits.http_reserve // 2, limits.held_at_most - self.websockets)
        if len(self.waiting) > room:
            oldest = next(iter(self.waiting))
            if oldest is not handler:
                del self.waiting[oldest]
                log.debug("closing a connection waiting for its request: too many wait")
                oldest.socket.shutdown()

    def done(self, handler) -> None:
        self.waiting.pop(handler, None)

    def websocket_allowed(self) -> bool:
        return self.websockets < limits.held_at_most


reserve = Reserve()


class GuardedHandler:
    """Mixed in front of a pywsgi handler class (see the module doc)."""

    # With gevent-websocket's handler, an upgraded connection's frames are
    # checked and unmasked by Connection (set by serve()).
    filters_frames = False

    def __init__(self, sock, address, server, rfile=None):
        super().__init__(Connection(sock, limits.send_timeout), address, server, rfile)

    def handle_one_request(self):
        timer = gevent.Timeout.start_new(
            limits.header_timeout, HeaderTimeout("request headers not received in time")
        )
        self._header_timer = timer
        reserve.wait(self)
        try:
            return super().handle_one_request()
        finally:
            timer.cancel()
            reserve.done(self)

    def read_request(self, raw_requestline):
        try:
            parsed = super().read_request(raw_requestline)
        finally:
            self._header_timer.cancel()
            reserve.done(self)
        if self.filters_frames and _upgrades_to_websocket(self.headers):
            if _early_data(self.rfile, self.socket):
                # RFC 6455 4.1: a client waits for the 101 before sending frames.
                raise ValueError("websocket frames sent before the handshake's answer")
            self.socket.start_frames(limits.max_message_bytes)
        return parsed

    def get_environ(self):
        environ = super().get_environ()
        environ["transport.connection"] = self.socket  # for app/transport/sessions.py
        return environ

    def run_application(self):
        if not _upgrades_to_websocket(self.headers):
            return super().run_application()
        if not reserve.websocket_allowed():
            log.info("refusing a websocket: connections reserved for HTTP")
            self.close_connection = True
            self.result = _busy(self.environ, self.start_response)
            return self.process_result()
        reserve.websockets += 1
        try:
            return super().run_application()
        finally:
            reserve.websockets -= 1


def _upgrades_to_websocket(headers) -> bool:
    return headers.get("Upgrade", "").lower() == "websocket"


def _early_data(rfile, connection) -> bool:
    """Whether the client sent anything past its request (what the file buffered or
    the kernel holds), without waiting."""
    timeout = connection.gettimeout()
    connection.settimeout(0.0)
    try:
        return bool(rfile.peek(1))
    except OSError:
        return False
    finally:
        connection.settimeout(timeout)


def _busy(environ, start_response):
    start_response(
        "503 Service Unavailable",
        [("Content-Type", "text/plain"), ("Content-Length", str(len(_BUSY)))],
    )
    return [_BUSY]
