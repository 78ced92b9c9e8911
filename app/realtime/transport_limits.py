"""Bounds on what one client's transport can cost the server: message size, blocked writes,
and packets waiting for a client that does not read.

Engine.IO (with gevent-websocket) leaves four gaps that a hostile client can use:
- it compares a websocket message with max_http_buffer_size only after
  gevent-websocket has read the whole message into memory, however long;
- refusing an oversized polling POST, it waits for the session's queue to
  drain, which hangs that request for good unless the client is polling;
- its websocket writer blocks in sendall() for as long as the client does not read;
- meanwhile every emit to that client waits in an unbounded per-socket queue.

GuardedWebSocket, installed as Engine.IO's websocket adapter, refuses a message
as soon as a frame header announces more than max_http_buffer_size in total
(before reading the payload). Under it, EngineSocket (engine_socket.py) writes
without blocking and cuts a client whose unsent bytes pass
SOCKET_MAX_BACKLOG_BYTES or whose writes stay blocked for
SOCKET_SEND_TIMEOUT_SECONDS, and does the same for a polling client that does
not poll. polling_body_limit() ends an oversized polling session without waiting.
Where EngineSocket is not in use (no gevent-websocket), cut_slow_consumers(),
run by the housekeeping loop, disconnects any socket with more than
SOCKET_MAX_BACKLOG_BYTES queued.
"""

import logging
import socket
import struct
from urllib.parse import parse_qs

from engineio import packet

from app.extensions import socketio
from app.realtime import engine_socket
from app.serving import plain_call

log = logging.getLogger(__name__)

CLOSE_PROTOCOL_ERROR = 1002
CLOSE_MESSAGE_TOO_BIG = 1009
_BACKLOG_CHECK_FROM = 16  # packets; below this a queue is not worth measuring

# Engine.IO sid -> the guarded websocket carrying it, to abort a stuck transport.
_open_websockets: dict = {}


class MessageTooBig(OSError):
    """A websocket message announced past the size limit; the connection is closed."""


def guard_transport(app) -> None:
    """Install the polling body check, and GuardedWebSocket under gevent-websocket."""
    app.wsgi_app = polling_body_limit(app.wsgi_app)
    eio = socketio.server.eio
    if eio.async_mode != "gevent":
        return
    from engineio.async_drivers import gevent as driver

    if driver.SimpleWebSocketWSGI is not None:  # gevent without gevent-websocket
        return
    adapter = type("GuardedWebSocket", (_GuardedWebSocket, driver.WebSocketWSGI), {})

    def open_websocket(handler, server):
        # Engine.IO calls what this returns for the socket's whole life: a bound
        # method, so no C-level frame is added to the stack (see polling_body_limit).
        return adapter(handler, server).run

    # Engine.IO looks its websocket adapter up in this per-server table.
    eio._async = {**eio._async, "websocket": open_websocket}
    engine_socket.adopt(
        eio, app.config["SOCKET_MAX_BACKLOG_BYTES"], app.config["SOCKET_SEND_TIMEOUT_SECONDS"]
    )


def polling_body_limit(wsgi_app, path: str = "/socket.io/"):
    """WSGI middleware: an Engine.IO polling POST over the size limit ends its session.

    Engine.IO refuses such a POST too, but then closes the session waiting for
    its queue to drain, which never happens unless the client is polling at
    that moment: the request would hang for good, one greenlet per attempt.
    A function rather than a class, and calling the next app as a plain call: a
    websocket's greenlet waits inside this call for the socket's life (see
    app/serving.py plain_call).
    """

    call = plain_call(wsgi_app)

    def guarded(environ, start_response):
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO", "").startswith(
            path
        ):
            eio = socketio.server.eio
            if _content_length(environ) > eio.max_http_buffer_size:
                sid = parse_qs(environ.get("QUERY_STRING", "")).get("sid", [""])[0]
                if sid in eio.sockets:
                    log.info("closing polling session %s: body over the limit", sid)
                    drop(eio, sid, eio.sockets[sid])
                start_response("413 Request Entity Too Large", [("Content-Type", "text/plain")])
                return [b"Payload too large"]
        return call(environ, start_response)

    return guarded


def _content_length(environ) -> int:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class _GuardedWebSocket:
    """Mixed into engineio's gevent WebSocketWSGI: bounded reads."""

    def __init__(self, handler, server):
        super().__init__(handler, server)
        self.max_message_bytes = server.max_http_buffer_size
        self.message_bytes = 0
        self.eio_sid = getattr(getattr(handler, "__self__", None), "sid", None)

    def run(self, environ, start_response):
        websocket = environ["wsgi.websocket"]
        websocket.raw_read = self._bounded(websocket, websocket.raw_read)
        _open_websockets[self.eio_sid] = websocket
        try:
            return super().__call__(environ, start_response)
        finally:
            _open_websockets.pop(self.eio_sid, None)

    def wait(self):
        """The next message (None once closed); its size budget starts afresh.

        A message Engine.IO cannot decode (empty, not a packet, JSON nested too
        deep) would raise outside Engine.IO's error handling and leave the
        socket half-open until its ping timeout: it closes the connection here.
        """
        self.message_bytes = 0
        message = super().wait()
        if message is not None and not _decodable(message):
            log.info("closing websocket %s: not an Engine.IO packet", self.eio_sid)
            close_with(self._sock, CLOSE_PROTOCOL_ERROR, b"Not an Engine.IO packet")
            return None
        return message

    def _bounded(self, websocket, read):
        def read_payload(length: int) -> bytes:
            # Called with a frame's announced length, before any of it is read.
            self.message_bytes += length
            if self.message_bytes > self.max_message_bytes:
                log.info(
                    "closing websocket %s: message over %d bytes",
                    self.eio_sid,
                    self.max_message_bytes,
                )
                close_with(websocket, CLOSE_MESSAGE_TOO_BIG, b"Message too big")
                raise MessageTooBig(self.message_bytes)
            return read(length)

        return read_payload


def _decodable(message) -> bool:
    try:
        packet.Packet(encoded_packet=message)
    except Exception:  # ValueError, binascii.Error, RecursionError...
        return False
    return True


def close_with(websocket, code: int, reason: bytes) -> None:
    """Send a close frame with this status and mark the websocket closed.

    gevent-websocket's own close() leaves the status code out of the frame.
    """
    payload = struct.pack("!H", code) + reason
    try:
        websocket.send_frame(payload, websocket.OPCODE_CLOSE)
    except OSError:
        pass  # the connection is going anyway
    websocket.closed = True


def abort(websocket) -> None:
    """Shut the TCP connection down, waking the greenlets blocked on it."""
    try:
        websocket.handler.socket.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already gone


def backlog_bytes(eio_socket) -> int:
    """Bytes of the packets queued for one Engine.IO socket and not yet written."""
    if eio_socket.queue.qsize() < _BACKLOG_CHECK_FROM:
        return 0
    return engine_socket.queued_bytes(eio_socket)


def cut_slow_consumers(max_bytes: int) -> int:
    """Disconnect every socket with more than max_bytes waiting for it; returns how many."""
    eio = socketio.server.eio
    if engine_socket.adopted_by(eio):
        return 0  # its sockets check their own backlog on every send
    slow = [(sid, s) for sid, s in list(eio.sockets.items()) if backlog_bytes(s) > max_bytes]
    for eio_sid, eio_socket in slow:
        log.warning(
            "disconnecting %s: %d bytes queued, client not reading",
            eio_sid,
            backlog_bytes(eio_socket),
        )
        drop(eio, eio_sid, eio_socket)
    return len(slow)


def drop(eio, eio_sid: str, eio_socket) -> None:
    """Disconnect the Socket.IO client, free its queue, and end its transport now."""
    sid = socketio.server.manager.sid_from_eio_sid(eio_sid, "/")
    if sid is not None:
        socketio.server.disconnect(sid, namespace="/")
    empty = eio.get_queue_empty_exception()
    while eio_socket.queue is not None:
        try:
            eio_socket.queue.get_nowait()
            eio_socket.queue.task_done()
        except empty:
            break
    eio_socket.close(wait=False, abort=True)
    websocket = _open_websockets.get(eio_sid)
    if websocket is not None:
        abort(websocket)
