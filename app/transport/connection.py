"""One client connection, as the request handler sees it: the socket, guarded.

Connection wraps the gevent socket a request handler is given. For HTTP it is
the socket. Once a request upgrades to a websocket served by gevent-websocket,
start_frames() turns its reads into a frame filter that sits between the
kernel and gevent-websocket's parser:

- each frame header is read and checked before its payload: a message whose
  frames announce more than the message limit in total is refused (close 1009)
  before any of its payload is read; control frames (ping, pong, close, at most
  125 bytes each) do not count toward it;
- masked payloads are unmasked here, in C (wsaccel), and handed on as unmasked
  frames, so gevent-websocket's byte-by-byte Python loop never runs;
- the reading greenlet yields to the others before every frame, so a client
  that keeps the socket full (a ping flood) cannot hold the worker.

Writes are the socket's, with a bound: a write the kernel does not take within
the send timeout shuts the connection down, so a client that stops reading
holds at most its kernel buffers and one greenlet, for a bounded time.

None of this touches a library's internals: gevent-websocket reads and writes
the handler's socket and file, which are this object.
"""

import io
import logging
import socket
import struct

import gevent
from wsaccel.xormask import XorMaskerSimple

log = logging.getLogger(__name__)

CLOSE_PROTOCOL_ERROR = 1002
CLOSE_MESSAGE_TOO_BIG = 1009
OPCODE_CLOSE = 0x8
OPCODE_CONTROL = 0x8  # opcodes from 8 up are control frames
CONTROL_MAX_PAYLOAD = 125
MASK_BIT = 0x80
CHUNK_BYTES = 64 * 1024  # most payload bytes read from the kernel at once


class MessageTooBig(OSError):
    """A websocket message announced past the size limit; the connection is closed."""


class BadFrame(OSError):
    """A frame header no websocket peer may send; the connection is closed."""


class SendTimeout(TimeoutError):
    """A write the client did not take in time; the connection is shut down."""


class Connection:
    """A gevent socket, with websocket frames checked and unmasked once upgraded."""

    __slots__ = (
        "socket",
        "_sock",
        "recv",
        "recv_into",
        "sendall",
        "max_message_bytes",
        "send_timeout",
        "_out",
        "_payload_left",
        "_masker",
        "_message_bytes",
        "_closed",
    )

    def __init__(self, sock, send_timeout: float):
        self.socket = sock
        self._sock = sock._sock  # pywsgi drains and closes the OS socket through this
        # HTTP: the socket's own methods, no extra call per read or write.
        self.recv = sock.recv
        self.recv_into = sock.recv_into
        self.sendall = sock.sendall
        self.send_timeout = send_timeout
        self.max_message_bytes = 0
        self._out = None
        self._closed = False

    def __getattr__(self, name):
        return getattr(self.socket, name)

    # -- as a socket -------------------------------------------------------------------

    def makefile(self, mode="rb", buffering=-1):
        """A buffered reader over this connection (pywsgi reads requests through it)."""
        if buffering is None or buffering < 0:
            buffering = io.DEFAULT_BUFFER_SIZE
        return io.BufferedReader(socket.SocketIO(self, "rb"), buffering)

    def _decref_socketios(self):
        """socket.SocketIO calls this when its file closes; the socket closes on its own."""

    def shutdown(self, how=socket.SHUT_RDWR) -> None:
        """End the TCP connection; greenlets blocked on it wake up."""
        try:
            self._sock.shutdown(how)
        except OSError:
            pass  # gone already

    # -- websocket frames --------------------------------------------------------------

    def start_frames(self, max_message_bytes: int) -> None:
        """From now on the peer speaks websocket: reads are filtered frame by frame."""
        self.max_message_bytes = max_message_bytes
        self._out = bytearray()
        self._payload_left = 0
        self._masker = None
        self._message_bytes = 0
        self.recv = self._recv
        self.recv_into = self._recv_into
        self.sendall = self._sendall

    def read(self, length: int) -> bytes:
        """Exactly `length` filtered bytes, or fewer once the peer has closed."""
        chunks = []
        while length > 0:
            chunk = self._recv(length)
            if not chunk:
                break
            chunks.append(chunk)
            length -= len(chunk)
        return b"".join(chunks)

    def _recv(self, size: int, flags: int = 0) -> bytes:
        if not self._out and not self._fill():
            return b""
        data = bytes(self._out[:size])
        del self._out[:size]
        return data

    def _recv_into(self, buffer, nbytes: int = 0, flags: int = 0) -> int:
        size = nbytes or len(buffer)
        if not self._out and not self._fill():
            return 0
        taken = min(size, len(self._out))
        buffer[:taken] = self._out[:taken]
        del self._out[:taken]
        return taken

    def _fill(self) -> bool:
        """Read the next header or piece of payload into _out; False at the end."""
        if self._payload_left:
            data = self.socket.recv(min(self._payload_left, CHUNK_BYTES))
            if not data:
                return False
            self._payload_left -= len(data)
            self._out += self._masker.process(data) if self._masker else data
            return True
        gevent.sleep(0)  # a frame at a time: let the other greenlets run in between
        return self._read_header()

    def _read_header(self) -> bool:
        start = self._exactly(2)
        if start is None:
            return False
        first, second = start
        opcode, length = first & 0x0F, second & 0x7F
        extended = b""
        if length == 126:
            extended = self._exactly(2)
            length = struct.unpack("!H", extended)[0] if extended else None
        elif length == 127:
            extended = self._exactly(8)
            length = struct.unpack("!Q", extended)[0] if extended else None
        mask = self._exactly(4) if second & MASK_BIT else b""
        if length is None or mask is None:
            return False
        self._check(opcode, length, first)
        self._out += bytes((first, second & 0x7F)) + extended
        self._payload_left = length
        self._masker = XorMaskerSimple(mask) if mask else None
        return True

    def _check(self, opcode: int, length: int, first: int) -> None:
        """Refuse what the message budget or RFC 6455 does not allow, before the payload."""
        if opcode >= OPCODE_CONTROL:
            if length > CONTROL_MAX_PAYLOAD or not first & 0x80:
                self._refuse(CLOSE_PROTOCOL_ERROR, b"Bad control frame", BadFrame)
            return  # control frames are not part of a message
        self._message_bytes = length if opcode else self._message_bytes + length
        if self._message_bytes > self.max_message_bytes:
            log.info("closing websocket: message over %d bytes", self.max_message_bytes)
            self._refuse(CLOSE_MESSAGE_TOO_BIG, b"Message too big", MessageTooBig)

    def _refuse(self, code: int, reason: bytes, error: type) -> None:
        self.close_with(code, reason)
        raise error(reason.decode())

    def _exactly(self, count: int) -> bytes | None:
        data = b""
        while len(data) < count:
            chunk = self.socket.recv(count - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def close_with(self, code: int, reason: bytes) -> None:
        """Send one close frame with this status (unless closed already) and end the TCP."""
        if not self._closed:
            payload = struct.pack("!H", code) + reason
            try:
                self._sendall(bytes((0x80 | OPCODE_CLOSE, len(payload))) + payload)
            except OSError:
                pass  # the connection is going anyway
            self._closed = True  # gevent-websocket's own close frame would be a second one
        self.shutdown()

    def _sendall(self, data) -> None:
        """Write all of it; a client that takes none of it for send_timeout is cut."""
        if self._closed:
            raise BrokenPipeError("websocket closed")
        try:
            sent = self._sock.send(data)  # non-blocking: most writes end here
        except BlockingIOError:
            sent = 0
        if sent == len(data):
            return
        try:
            with gevent.Timeout(self.send_timeout, SendTimeout):
                self.socket.sendall(memoryview(data)[sent:])
        except SendTimeout:
            log.warning("cutting a websocket: a write blocked %ss", self.send_timeout)
            self.shutdown()
            raise
