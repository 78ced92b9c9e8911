"""Raw clients for the hostile-client tests: websockets and polling spoken by hand.

Unlike python-socketio, these can send what no well-behaved client sends
(oversized or fragmented frames, foreign origins) and can stop reading.
"""

import json
import socket
import struct
import time
from pathlib import Path

import requests
import websocket

WS_PATH = "/socket.io/?EIO=4&transport=websocket"
POLL_PATH = "/socket.io/?EIO=4&transport=polling"


def ws_url(server) -> str:
    return server.url.replace("http://", "ws://") + WS_PATH


def open_websocket(server, origin: str | None = None, receive_buffer: int | None = None):
    """A websocket to Engine.IO (no Socket.IO connect yet); a small receive buffer on request."""
    options = {}
    if receive_buffer:
        options["sockopt"] = ((socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer),)
    if origin:
        options["origin"] = origin
    else:
        options["suppress_origin"] = True
    return websocket.create_connection(ws_url(server), timeout=10, **options)


def socketio_connect(ws, token: str) -> str:
    """Engine.IO open, then Socket.IO CONNECT with the token; returns the socket's sid."""
    opened = ws.recv()
    assert opened.startswith("0{"), opened
    ws.send("40" + json.dumps({"token": token}))
    reply = ws.recv()
    assert reply.startswith("40{"), reply
    return json.loads(reply[2:])["sid"]


def connected_websocket(server, token: str, **options):
    ws = open_websocket(server, **options)
    socketio_connect(ws, token)
    return ws


def closed_by_server(ws, timeout: float = 5) -> tuple[bool, int | None]:
    """Read until the server closes: (closed, close code or None when the TCP just ended)."""
    ws.settimeout(timeout)
    try:
        while True:
            opcode, data = ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
                return True, code
    except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
        return True, None
    except websocket.WebSocketTimeoutException:
        return False, None


def frame_header(length: int, opcode: int = websocket.ABNF.OPCODE_TEXT, fin: bool = True) -> bytes:
    """A masked client frame header announcing `length` payload bytes (mask key zero)."""
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        head = struct.pack("!BB", first, 0x80 | length)
    elif length < 2**16:
        head = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, length)
    return head + b"\0\0\0\0"  # with a zero mask the payload goes as is


def polling_session(server, origin: str | None = None) -> requests.Response:
    headers = {"Origin": origin} if origin else {}
    return requests.get(server.url + POLL_PATH, headers=headers, timeout=10)


def polling_sid(response: requests.Response) -> str:
    assert response.status_code == 200, response.text
    return json.loads(response.text[1:])["sid"]


def worker_rss_kib(server) -> int:
    """Resident memory of the gunicorn worker (the master's child) serving the sockets."""
    master = server.process.pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    status = Path(f"/proc/{children[0]}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))


def masked_frame(payload: bytes, opcode: int = 0x1, key: bytes = b"\x0f\xa5\x5a\xf0", fin=True):
    """A client frame as a browser sends it: `payload` masked with `key`."""
    length = len(payload)
    header = frame_header(length, opcode, fin)[:-4] + key
    repeated = (key * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
        length, "big"
    )
    return header + masked


def closed_by_server_raw(sock: socket.socket, timeout: float = 5) -> bool:
    """Read and discard until the server ends the TCP connection (True) or timeout (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if not sock.recv(65536):
                return True
        except TimeoutError:
            return False
        except OSError:
            return True
    return False
