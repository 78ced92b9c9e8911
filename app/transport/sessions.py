"""Engine.IO sessions, guarded from the outside (WSGI middleware and Engine.IO's public API):
one websocket per session, frames Engine.IO cannot decode, oversized polling
bodies, and clients that do not read.

- A websocket upgrade for a session that already has one (two upgrades racing
  for one polling sid) is closed at once, before Engine.IO sees it: Engine.IO
  would run both, and the loser would undo the winner's state.
- A frame Engine.IO cannot decode (empty, not a packet type, JSON nested too
  deep) closes the connection (1002). Engine.IO would raise outside its own
  error handling and leave the socket half-open until its ping timeout.
- A polling POST over the size limit gets 413 and ends its session at once
  (Engine.IO's own refusal waits for the session's queue to drain, which hangs
  that request for good unless the client is polling).
- drop() cuts one client, wherever its transport is; cut_slow_consumers(), run
  by the housekeeping loop, drops polling clients (and, on the public path,
  websockets) whose queue of unsent packets passed the backlog limit.
"""

import json
import logging
import types
from urllib.parse import parse_qs

from engineio import packet

from app.extensions import socketio

log = logging.getLogger(__name__)

CLOSE_PROTOCOL_ERROR = 1002
CLOSE_POLICY = 1008
_BACKLOG_CHECK_FROM = 16  # packets; below this a queue is not worth measuring

# Engine.IO sid -> the Connection carrying its websocket.
_websockets: dict = {}
# Set by the fast path, whose sockets check their own backlog.
sockets_check_their_backlog = False


def guard_sessions(wsgi_app, engineio_path: str = "/socket.io/"):
    """WSGI middleware for Engine.IO's requests (see the module doc).

    A function rather than a class: a websocket's greenlet waits inside this
    call for the socket's life, and a call through a class instance would add a
    C-level frame to every idle socket's saved stack.
    """

    call = plain_call(wsgi_app)

    def guarded(environ, start_response):
        websocket = environ.get("wsgi.websocket")
        if websocket is not None:
            return _serve_websocket(call, environ, start_response, websocket)
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO", "").startswith(
            engineio_path
        ):
            refused = _refuse_oversized_poll(environ, start_response)
            if refused is not None:
                return refused
        return call(environ, start_response)

    return guarded


def plain_call(wsgi_app):
    """`wsgi_app`, callable without a C-level frame.

    Calling an object (a Flask app, a middleware instance) goes through its type's
    call slot, a nested C call; calling a Python function or bound method does not
    (Python 3.11 runs it in the same C frame). A websocket's greenlet sits inside
    the WSGI call chain for the socket's whole life, and greenlet keeps a copy of
    its C stack: each nested C call costs every idle socket about 0.75 KB.
    """
    if isinstance(wsgi_app, types.FunctionType | types.MethodType):
        return wsgi_app
    method = getattr(wsgi_app, "__call__", None)  # noqa: B004 (the bound method is the point)
    return method if isinstance(method, types.MethodType) else wsgi_app


def _serve_websocket(wsgi_app, environ, start_response, websocket):
    connection = environ.get("transport.connection")
    sid = _query_sid(environ)
    if sid:
        if sid in _websockets:
            log.info("closing a second websocket for session %s", sid)
            websocket.close(CLOSE_POLICY, "Session already has a websocket")
            return []
        _websockets[sid] = connection
    checked = CheckedWebSocket(websocket, connection, sid)
    environ["wsgi.websocket"] = checked
    try:
        return wsgi_app(environ, start_response)
    finally:
        # Only its own entry: never one a later websocket of the same session made.
        if checked.sid and connection is not None and _websockets.get(checked.sid) is connection:
            del _websockets[checked.sid]


def _query_sid(environ) -> str | None:
    query = environ.get("QUERY_STRING", "")
    return parse_qs(query).get("sid", [None])[0] if "sid=" in query else None


class CheckedWebSocket:
    """gevent-websocket's WebSocket as Engine.IO uses it, closing on undecodable frames."""

    __slots__ = ("websocket", "connection", "sid")

    def __init__(self, websocket, connection, sid):
        self.websocket = websocket
        self.connection = connection
        self.sid = sid

    version = property(lambda self: self.websocket.version)
    path = property(lambda self: self.websocket.path)
    origin = property(lambda self: self.websocket.origin)
    protocol = property(lambda self: self.websocket.protocol)

    @property
    def closed(self) -> bool:
        return self.websocket.closed

    def receive(self):
        """The next message, or None once closed (also when it is no Engine.IO packet)."""
        message = self.websocket.receive()
        if message is not None and not _decodable(message):
            log.info("closing websocket %s: not an Engine.IO packet", self.sid)
            if self.connection is not None:
                self.connection.close_with(CLOSE_PROTOCOL_ERROR, b"Not an Engine.IO packet")
            else:
                self.websocket.close(CLOSE_PROTOCOL_ERROR, "Not an Engine.IO packet")
            return None
        return message

    def send(self, message, binary=None):
        if self.sid is None and isinstance(message, str) and message.startswith("0{"):
            self._learn_sid(message)
        return self.websocket.send(message, binary)

    def close(self, *args):
        return self.websocket.close(*args)

    def _learn_sid(self, open_packet: str) -> None:
        """A fresh websocket's session id, from Engine.IO's OPEN packet, for drop()."""
        self.adopt_sid(json.loads(open_packet[1:]).get("sid"))

    def adopt_sid(self, sid) -> None:
        """This websocket carries session `sid`: drop() can now end its connection."""
        self.sid = sid
        if sid and self.connection is not None:
            _websockets.setdefault(sid, self.connection)


def _decodable(message) -> bool:
    try:
        packet.Packet(encoded_packet=message)
    except Exception:  # ValueError, binascii.Error, RecursionError...
        return False
    return True


def _refuse_oversized_poll(environ, start_response):
    eio = socketio.server.eio
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= eio.max_http_buffer_size:
        return None
    sid = _query_sid(environ)
    if sid in eio.sockets:
        log.info("closing polling session %s: body over the limit", sid)
        drop(eio, sid, eio.sockets[sid])
    start_response("413 Request Entity Too Large", [("Content-Type", "text/plain")])
    return [b"Payload too large"]


def queued_bytes(eio_socket) -> int:
    """Bytes of the packets waiting in an Engine.IO socket's queue."""
    return sum(
        len(pkt.data) if pkt is not None and isinstance(pkt.data, str | bytes) else 64
        for pkt in list(eio_socket.queue.queue)
    )


def backlog_bytes(eio_socket) -> int:
    """queued_bytes(), or 0 for a socket without a queue or with a short one."""
    queue = getattr(eio_socket, "queue", None)
    if queue is None or queue.qsize() < _BACKLOG_CHECK_FROM:
        return 0
    return queued_bytes(eio_socket)


def cut_slow_consumers(max_bytes: int) -> int:
    """Disconnect every socket with more than max_bytes queued for it; returns how many.

    Does nothing when the sockets check their own backlog (the fast path's
    EngineSocket, on every send): no scan of every socket four times a second.
    """
    if sockets_check_their_backlog:
        return 0
    eio = socketio.server.eio
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
    queue = getattr(eio_socket, "queue", None)
    empty = eio.get_queue_empty_exception()
    while queue is not None:
        try:
            queue.get_nowait()
            queue.task_done()
        except empty:
            break
    eio_socket.close(wait=False, abort=True)
    connection = _websockets.get(eio_sid)
    if connection is not None:
        connection.shutdown()
