"""Cheap asyncio clients for the load generator: raw Socket.IO v5 over websocket, and HTTP posts.

Each connection is one asyncio Protocol object (no task, no library stack), so one
process on one core can hold 10,000 sockets and still read tens of thousands of
frames a second. Only what the benchmark needs is implemented: the websocket
handshake and framing (RFC 6455, client side), the Engine.IO v4 open / ping / pong /
message packets and the Socket.IO v5 CONNECT, CONNECT_ERROR and EVENT packets.
"""

import asyncio
import base64
import json
import os
import struct
import time
from collections import deque

MARKER = b"BENCHMSG-"
_ZERO_MASK = b"\x00\x00\x00\x00"  # a zero mask leaves the payload as it is: no XOR pass


def ws_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """A final, masked client frame (the mask key is zero, which servers accept)."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    return head + _ZERO_MASK + payload


def parse_marker(payload: bytes) -> tuple[int, float] | None:
    """The (sequence number, post time) embedded in a bench message, if any."""
    start = payload.find(MARKER)
    if start < 0:
        return None
    end = payload.find(b"|", start)
    seq, posted = payload[start + len(MARKER) : end].split(b"-")
    return int(seq), float(posted)


def marker(seq: int, posted: float) -> str:
    """The text put in message_content: sequence number and post time (perf_counter)."""
    return f"{MARKER.decode()}{seq}-{posted:.6f}|"


class SocketIOClient(asyncio.Protocol):
    """One Socket.IO client over a raw websocket; calls on_message(payload, t) per bench message."""

    def __init__(self, host: str, port: int, token: str, on_message=None):
        self.host, self.port, self.token = host, port, token
        self.on_message = on_message
        self.connected = asyncio.get_running_loop().create_future()
        self.transport = None
        self.upgraded = False
        self.closed = False
        self.buf = bytearray()
        self.fragments = bytearray()

    def connection_made(self, transport):
        """Send the websocket upgrade request for the Engine.IO websocket transport."""
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: {self.host}:{self.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def data_received(self, data):
        now = time.perf_counter()
        self.buf += data
        if not self.upgraded and not self._read_upgrade():
            return
        self._read_frames(now)

    def _read_upgrade(self) -> bool:
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        status = bytes(self.buf[: self.buf.find(b"\r\n")])
        if b" 101 " not in status + b" ":
            self._fail(f"upgrade refused: {status.decode(errors='replace')}")
            return False
        del self.buf[: end + 4]
        self.upgraded = True
        return True

    def _read_frames(self, now: float):
        buf = self.buf
        pos = 0
        while len(buf) - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            size, head = b1 & 0x7F, 2
            if size == 126:
                if len(buf) - pos < 4:
                    break
                size, head = struct.unpack_from("!H", buf, pos + 2)[0], 4
            elif size == 127:
                if len(buf) - pos < 10:
                    break
                size, head = struct.unpack_from("!Q", buf, pos + 2)[0], 10
            mask = None
            if b1 & 0x80:
                mask, head = bytes(buf[pos + head : pos + head + 4]), head + 4
            if len(buf) - pos < head + size:
                break
            payload = bytes(buf[pos + head : pos + head + size])
            if mask:
                payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
            pos += head + size
            self._on_frame(b0 & 0x80, b0 & 0x0F, payload, now)
        del buf[:pos]

    def _on_frame(self, fin: int, opcode: int, payload: bytes, now: float):
        if opcode in (0x0, 0x1, 0x2):
            self.fragments += payload
            if fin:
                message, self.fragments = bytes(self.fragments), bytearray()
                self._on_packet(message, now)
        elif opcode == 0x9:
            self.send_raw(payload, opcode=0xA)
        elif opcode == 0x8:
            self.close()

    def _on_packet(self, packet: bytes, now: float):
        """Engine.IO packet types: 0 open, 1 close, 2 ping, 4 message (4x: Socket.IO)."""
        kind = packet[:1]
        if kind == b"4":
            self._on_socketio(packet[1:], now)
        elif kind == b"2":
            self.send_raw(b"3")
        elif kind == b"0":
            self.send_raw(b"40" + json.dumps({"token": self.token}).encode())
        elif kind == b"1":
            self.close()

    def _on_socketio(self, packet: bytes, now: float):
        """Socket.IO packet types: 0 CONNECT, 1 DISCONNECT, 2 EVENT, 4 CONNECT_ERROR."""
        kind = packet[:1]
        if kind == b"2":
            if self.on_message is not None and packet.startswith(b'2["new_message"'):
                self.on_message(packet, now)
        elif kind == b"0":
            if not self.connected.done():
                self.connected.set_result(now)
        elif kind == b"4":
            self._fail(f"connect_error: {packet[1:].decode(errors='replace')}")
        elif kind == b"1":
            self.close()

    def send_raw(self, payload: bytes, opcode: int = 0x1):
        if self.transport is not None and not self.closed:
            self.transport.write(ws_frame(payload, opcode))

    def _fail(self, reason: str):
        if not self.connected.done():
            self.connected.set_exception(ConnectionError(reason))
        self.close()

    def close(self):
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.close()

    def connection_lost(self, exc):
        self.closed = True
        if not self.connected.done():
            self.connected.set_exception(ConnectionError(f"connection lost: {exc}"))


async def open_socket(host, port, token, on_message=None, timeout=10.0):
    """Connect one Socket.IO client; returns (client, seconds from TCP connect to CONNECT ack)."""
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    client = SocketIOClient(host, port, token, on_message)
    try:
        await asyncio.wait_for(loop.create_connection(lambda: client, host, port), timeout)
        acked = await asyncio.wait_for(asyncio.shield(client.connected), timeout)
    except BaseException:
        client.close()
        if client.connected.done() and not client.connected.cancelled():
            client.connected.exception()  # retrieved, so asyncio does not log it
        raise
    return client, acked - started


class _HttpConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection of a Poster, answering one request at a time."""

    def __init__(self, poster: "Poster"):
        self.poster = poster
        self.transport = None
        self.job = None
        self.buf = bytearray()
        self.reused = False
        self.closed = False

    def connection_made(self, transport):
        self.transport = transport
        self.poster._on_ready(self)

    def send(self, job):
        self.job, self.buf = job, bytearray()
        self.transport.write(job.request)

    def data_received(self, data):
        self.buf += data
        parsed = _parse_response(self.buf)
        if parsed is None or self.job is None:
            return
        status, body, keep_alive = parsed
        job, self.job = self.job, None
        job.done(status, body, time.perf_counter(), None)
        self.reused = True
        if keep_alive:
            self.poster._on_ready(self)
        else:
            self.closed = True
            self.transport.close()
            self.poster._on_gone(self)

    def connection_lost(self, exc):
        job, self.job = self.job, None
        was_listed = not self.closed
        self.closed = True
        if was_listed:
            self.poster._on_gone(self)
        if job is not None:
            # A reused keep-alive connection the server had just closed: send once more
            # on a fresh one (webhooks carry message_id, so a repeat is harmless).
            if self.reused and not self.buf and not job.retried:
                job.retried = True
                self.poster._submit(job)
            else:
                job.done(None, b"", time.perf_counter(), f"connection lost: {exc}")


def _parse_response(buf: bytearray):
    """(status, body, keep_alive) once a whole response is in buf, else None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buf[:end]).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    rest = bytes(buf[end + 4 :])
    if headers.get("transfer-encoding") == "chunked":
        body = _dechunk(rest)
        if body is None:
            return None
    else:
        length = int(headers.get("content-length", "0"))
        if len(rest) < length:
            return None
        body = rest[:length]
    keep_alive = headers.get("connection") != "close" and head[0].startswith("HTTP/1.1")
    return status, body, keep_alive


def _dechunk(data: bytes) -> bytes | None:
    body, pos = bytearray(), 0
    while True:
        line_end = data.find(b"\r\n", pos)
        if line_end < 0:
            return None
        size = int(data[pos:line_end].split(b";")[0], 16)
        if size == 0:  # the last chunk; no trailers expected, so one blank line follows
            return bytes(body) if len(data) >= line_end + 4 else None
        if len(data) < line_end + 2 + size + 2:
            return None
        body += data[line_end + 2 : line_end + 2 + size]
        pos = line_end + 2 + size + 2


class _Job:
    __slots__ = ("request", "posted", "callback", "retried")

    def __init__(self, request, posted, callback):
        self.request, self.posted, self.callback, self.retried = request, posted, callback, False

    def done(self, status, body, finished, error):
        self.callback(status, body, self.posted, finished, error)


class Poster:
    """Fire-and-forget HTTP POSTs over a bounded pool of keep-alive connections.

    post() never waits: the request goes out on an idle connection, on a new one,
    or, when max_connections are busy, waits in a queue (its response time still
    counts from the moment post() was called, so a slow server is not hidden).
    """

    def __init__(self, host: str, port: int, max_connections: int = 256):
        self.host, self.port, self.max_connections = host, port, max_connections
        self.idle: list[_HttpConnection] = []
        self.queue: deque[_Job] = deque()
        self.open_connections = 0

    def post(self, path: str, body: bytes, headers: dict, callback, posted: float | None = None):
        """Send POST path; callback(status, body, posted, finished, error) gets the outcome."""
        lines = [
            f"POST {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Content-Length: {len(body)}",
        ]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        self._submit(_Job(request, time.perf_counter() if posted is None else posted, callback))

    def _submit(self, job: _Job):
        while self.idle:
            conn = self.idle.pop()  # most recently used first: the others may time out unused
            if not conn.closed:
                conn.send(job)
                return
        self.queue.append(job)
        if self.open_connections < self.max_connections:
            self.open_connections += 1
            asyncio.ensure_future(self._connect())

    async def _connect(self):
        loop = asyncio.get_running_loop()
        try:
            await loop.create_connection(lambda: _HttpConnection(self), self.host, self.port)
        except OSError as exc:
            self.open_connections -= 1
            if self.queue:
                self.queue.popleft().done(None, b"", time.perf_counter(), f"connect failed: {exc}")

    def _on_ready(self, conn: _HttpConnection):
        if self.queue:
            conn.send(self.queue.popleft())
        else:
            self.idle.append(conn)

    def _on_gone(self, conn: _HttpConnection):
        self.open_connections -= 1
        if conn in self.idle:
            self.idle.remove(conn)
        if self.queue and self.open_connections < self.max_connections:
            self.open_connections += 1
            asyncio.ensure_future(self._connect())

    def close(self):
        for conn in self.idle:
            conn.closed = True
            conn.transport.close()
        self.idle.clear()
