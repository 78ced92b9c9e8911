"""Engine.IO sockets that write straight to their websocket, and ping from a timer.

Under gevent, python-engineio gives every websocket client three greenlets: the
request's own (reading), a writer that takes packets off a per-socket queue, and
one sleeping until the next ping. Each greenlet keeps its own saved C stack and
frame stack, and each packet sent costs a queue put, a greenlet switch and a
timer. That is most of a socket's memory and most of a fan-out's CPU
(docs/performance.md).

EngineSocket keeps the reading greenlet only. Once its websocket is open:
- send() writes the frame to the OS socket at once, without blocking. A packet
  that goes to many sockets (one emit to a room) is framed once; the frame is
  cached on the packet.
- A write the kernel takes only in part leaves the rest in a per-socket buffer,
  and only then a flusher greenlet starts; it waits until the socket is writable,
  at most SOCKET_SEND_TIMEOUT_SECONDS each time, and ends when the buffer is empty.
  Frames sent meanwhile go to the end of the buffer, so order is kept, and a
  buffer over SOCKET_MAX_BACKLOG_BYTES disconnects the client.
- The next ping is a timer on the event loop rather than a sleeping greenlet.

Polling clients, and websockets until their upgrade completes, keep
python-engineio's queue. Engine.IO builds its sockets itself, so adopt() has the
Engine.IO server turn each new one into an EngineSocket before first use.
"""

import logging
import struct
import time

import gevent
from engineio import exceptions, packet
from engineio.socket import Socket

from app.transport.sessions import drop, queued_bytes

log = logging.getLogger(__name__)

OPCODE_TEXT = 0x1
OPCODE_BINARY = 0x2
FIN = 0x80
# A polling client's queue is measured each time it grows by this many packets.
QUEUE_CHECK_EVERY = 16


def adopt(eio, max_backlog_bytes: int, send_timeout: float) -> None:
    """Make every socket this Engine.IO server opens from now on an EngineSocket.

    Engine.IO runs its 'connect' handler right after making a socket and before
    the socket sends anything but the OPEN packet or schedules its first ping.
    """
    connect = eio.handlers.get("connect")

    def promote_then_connect(sid, environ, *args):
        engine_socket = eio.sockets.get(sid)
        if engine_socket is not None and type(engine_socket) is Socket:
            engine_socket.__class__ = EngineSocket
            engine_socket.adopted(max_backlog_bytes, send_timeout)
        return connect(sid, environ, *args) if connect else None

    eio.handlers["connect"] = promote_then_connect


def frame(pkt: packet.Packet) -> bytes:
    """The websocket frame carrying this packet, made once per packet object."""
    cached = getattr(pkt, "ws_frame", None)
    if cached is None:
        cached = pkt.ws_frame = websocket_frame(pkt.encode())
    return cached


def websocket_frame(payload, opcode: int | None = None) -> bytes:
    """One unmasked, final websocket frame (a server never masks, RFC 6455 5.1)."""
    if isinstance(payload, str):
        payload = payload.encode()
        opcode = opcode or OPCODE_TEXT
    opcode = opcode or OPCODE_BINARY
    length = len(payload)
    if length < 126:
        header = bytes((FIN | opcode, length))
    elif length < 65536:
        header = struct.pack("!BBH", FIN | opcode, 126, length)
    else:
        header = struct.pack("!BBQ", FIN | opcode, 127, length)
    return header + payload


class EngineSocket(Socket):
    """An Engine.IO socket whose websocket sends are direct writes (see the module doc)."""

    def adopted(self, max_backlog_bytes: int, send_timeout: float) -> None:
        self.max_backlog_bytes = max_backlog_bytes
        self.send_timeout = send_timeout
        self.websocket = None  # gevent-websocket's WebSocket, once attached
        self.gevent_socket = None  # its TCP connection
        self.os_socket = None  # the non-blocking socket under that
        self.unsent = None  # bytearray: what the kernel has not taken yet
        self.flusher = None
        self.write_failed = False
        self.ping_timer = None

    # -- sending -------------------------------------------------------------------

    def send(self, pkt):
        if self.os_socket is None:
            super().send(pkt)
            waiting = self.queue.qsize()
            if waiting and waiting % QUEUE_CHECK_EVERY == 0 and not self.write_failed:
                if queued_bytes(self) > self.max_backlog_bytes:
                    self._give_up("%d packets queued, client not polling", waiting)
        elif self.check_ping_timeout():
            self.write(frame(pkt))

    def write(self, data) -> None:
        """Write without blocking; what the kernel does not take waits, in order."""
        if self.write_failed:
            return
        if self.unsent:
            self.unsent += data
            if len(self.unsent) > self.max_backlog_bytes:
                self._give_up("%d bytes queued, client not reading", len(self.unsent))
            return
        try:
            sent = self.os_socket.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._give_up(None)
            return
        if sent < len(data):
            self.unsent = bytearray(memoryview(data)[sent:])
            self.flusher = gevent.spawn(self._flush)

    def _flush(self) -> None:
        # Waits through gevent's own socket, whose close wakes this greenlet.
        try:
            while self.unsent and not self.write_failed:
                with gevent.Timeout(self.send_timeout, TimeoutError):
                    sent = self.gevent_socket.send(self.unsent)
                if self.unsent is not None:
                    del self.unsent[:sent]
        except TimeoutError:
            self._give_up("a write blocked %ss", self.send_timeout)
        except OSError:
            self._give_up(None)
        finally:
            self.flusher = None

    def _give_up(self, why, *args) -> None:
        """Stop writing to a client that does not read, or is gone; cut its connection.

        May run on the event loop itself (a ping timer), so the disconnect, which
        runs the app's handlers, happens in a greenlet of its own.
        """
        self.write_failed = True
        self.unsent = None
        if why is not None or self.os_socket is None:
            log.warning("disconnecting %s: " + why, self.sid, *args)
            gevent.spawn(drop, self.server, self.sid, self)
        else:
            self._shutdown()

    def _shutdown(self) -> None:
        """End the TCP connection; the reading greenlet then closes the socket."""
        try:
            self.os_socket.shutdown(2)  # SHUT_RDWR
        except OSError:
            pass  # gone already

    # -- pings -----------------------------------------------------------------------

    def schedule_ping(self):
        if self.last_ping:
            self.last_ping = None
            timer = self.ping_timer = gevent.get_hub().loop.timer(self.server.ping_interval)
            timer.start(self._ping)

    def _ping(self) -> None:
        # Runs on the event loop: nothing here may block. send() cannot close the
        # socket here, as last_ping is fresh.
        self.ping_timer = None
        if self.closing or self.closed:
            return
        self.last_ping = time.time()
        try:
            self.send(packet.Packet(packet.PING))
        except Exception:
            log.exception("ping to %s failed", self.sid)

    def _stop_ping(self) -> None:
        if self.ping_timer is not None:
            self.ping_timer.stop()
            self.ping_timer = None

    # -- the websocket's life --------------------------------------------------------------

    def close(self, wait=True, abort=False, reason=None):
        self._stop_ping()
        if self.websocket is None:
            return super().close(wait=wait, abort=abort, reason=reason)
        if self.closed or self.closing:
            return
        self.closing = True
        self.server._trigger_event(
            "disconnect", self.sid, reason or self.server.reason.SERVER_DISCONNECT, run_async=False
        )
        if not abort:
            self.send(packet.Packet(packet.CLOSE))
        self.closed = True
        websocket, self.websocket = self.websocket, None
        if not websocket.closed:
            websocket.close()  # its close frame goes through write(), after the rest
        if wait and self.flusher is not None:
            self.flusher.join(self.send_timeout)

    def _websocket_handler(self, ws):
        """Run one websocket: finish an upgrade, attach, then read until it ends."""
        if self.connected:
            if not self._upgrade(ws):
                return []
        else:
            self.connected = True
            self.upgraded = True
        self._attach(ws._sock)
        self.server.logger.info("%s: Upgrade to websocket successful", self.sid)
        while True:
            try:
                message = ws.wait()
            except Exception as exc:
                if not self.closed:
                    self.server.logger.info("%s: websocket read failed: %s", self.sid, exc)
                break
            if message is None:  # closed by the client
                break
            try:
                self.receive(packet.Packet(encoded_packet=message))
            except exceptions.UnknownPacketError:
                pass
            except exceptions.SocketIsClosedError:
                break
            except Exception:
                self.server.logger.exception("Unknown receive error")
                break
        self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
        return []

    def _upgrade(self, ws) -> bool:
        """The polling -> websocket handshake: ping "probe", pong, then UPGRADE."""
        self.upgrading = True  # sends wait in the queue meanwhile
        try:
            probe = packet.Packet(encoded_packet=ws.wait())
            if probe.packet_type != packet.PING or probe.data != "probe":
                self.server.logger.info("%s: Failed websocket upgrade, no PING packet", self.sid)
                return False
            ws.send(packet.Packet(packet.PONG, data="probe").encode())
            self.queue.put(packet.Packet(packet.NOOP))  # ends the pending poll
            upgrade = packet.Packet(encoded_packet=ws.wait())
            if upgrade.packet_type != packet.UPGRADE:
                self.upgraded = False
                self.server.logger.info("%s: Failed websocket upgrade", self.sid)
                return False
            self.upgraded = True
            return True
        finally:
            self.upgrading = False

    def _attach(self, checked) -> None:
        """From now on sends are direct writes; first those that waited in the queue.

        `checked` is the CheckedWebSocket (app/transport/sessions.py) around
        gevent-websocket's WebSocket, on the guarded Connection.
        """
        waiting = []
        while not self.queue.empty():
            waiting.append(self.queue.get_nowait())
        self.queue = None  # polling's queue; nothing uses it after the upgrade
        checked.adopt_sid(self.sid)
        websocket = self.websocket = checked.websocket
        self.gevent_socket = checked.connection.socket
        self.os_socket = checked.connection._sock
        # Control frames gevent-websocket answers itself (pong, close) keep the order too.
        websocket.raw_write = self.write
        for pkt in waiting:
            if pkt is None:  # closed while upgrading
                self._shutdown()
                break
            self.write(frame(pkt))
