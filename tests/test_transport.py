"""app/transport on its own: the mode chosen at start-up, the frame filter, the
attachment count, the error-log limit. The live tests are tests/integration/
test_hostile_*.py and test_transport_modes.py.

Runs gevent's loop in the test process (only gevent's own sockets are used).
"""

import logging
import struct
from io import BytesIO
from types import SimpleNamespace

import gevent.socket
import pytest
from geventwebsocket.handler import WebSocketHandler

from app import transport
from app.transport import versions
from app.transport.attachments import MAX_ATTACHMENTS, declared_attachments
from app.transport.connection import BadFrame, Connection, MessageTooBig
from app.transport.error_log import RateLimitedErrors
from tests.integration.hostile import masked_frame

PLAIN_REQUEST_HEADERS = b"Host: a\r\nContent-Type: application/json\r\n\r\n"


@pytest.fixture
def restore_mode():
    saved = vars(transport.mode).copy()
    yield transport.mode
    for key in ("fast", "reason", "patches", "parts"):
        if key in saved:
            setattr(transport.mode, key, saved[key])
        else:
            transport.mode.__dict__.pop(key, None)


def served_handler(caplog, fast: bool, reason: str):
    """The handler class serve() gives gevent-websocket's worker in this mode."""
    transport.mode.fast, transport.mode.reason = fast, reason
    transport.mode.parts = transport._chosen_parts("1") if fast else frozenset()
    transport.mode.patches = ("engine_socket",) if fast else ()
    worker = SimpleNamespace(worker_connections=100, wsgi_handler=WebSocketHandler)
    with caplog.at_level(logging.INFO, logger="app.transport"):
        transport.serve(worker)
    return worker.wsgi_handler


def headers_parsed_by(handler_class):
    handler = handler_class.__new__(handler_class)
    return handler.MessageClass(BytesIO(PLAIN_REQUEST_HEADERS), 0)


def test_a_version_other_than_the_verified_one_falls_back_and_says_why(
    monkeypatch, caplog, restore_mode
):
    monkeypatch.setitem(versions.VERIFIED, "gevent-websocket", "0.10.2")
    allowed, reason = transport._fast_path_allowed(
        {"FAST_TRANSPORT": "1"}, SimpleNamespace(async_mode="gevent")
    )
    assert not allowed
    assert reason == "gevent-websocket 0.10.1 is installed, verified with 0.10.2"
    handler = served_handler(caplog, allowed, reason)
    assert "transport: public paths only: gevent-websocket 0.10.1 is installed" in caplog.text
    assert not getattr(headers_parsed_by(handler), "plain", False)  # pywsgi's own parser


def test_the_verified_versions_are_the_installed_ones():
    assert versions.mismatches() == []
    allowed, _ = transport._fast_path_allowed(
        {"FAST_TRANSPORT": "1"}, SimpleNamespace(async_mode="gevent")
    )
    assert allowed


def test_fast_transport_0_forces_the_public_paths():
    allowed, reason = transport._fast_path_allowed(
        {"FAST_TRANSPORT": "0"}, SimpleNamespace(async_mode="gevent")
    )
    assert (allowed, reason) == (False, "FAST_TRANSPORT=0")


def test_the_fast_handler_parses_plain_headers_itself(caplog, restore_mode):
    handler = served_handler(caplog, True, "verified library versions")
    assert headers_parsed_by(handler).plain
    assert "fast path on (verified library versions): engine_socket, compact_sockets" in (
        caplog.text
    )


def test_unknown_fast_parts_are_refused():
    with pytest.raises(ValueError, match="unknown parts"):
        transport._chosen_parts("engine_socket,turbo")


# -- the frame filter -------------------------------------------------------------------


@pytest.fixture
def frames():
    """(connection filtering frames, the client's end of its socket)."""
    server_end, client_end = gevent.socket.socketpair()
    connection = Connection(server_end, send_timeout=1)
    connection.start_frames(max_message_bytes=1000)
    yield connection, client_end
    server_end.close()
    client_end.close()


def test_masked_frames_come_out_unmasked_with_the_mask_bit_cleared(frames):
    connection, client = frames
    client.sendall(masked_frame(b"hello", key=b"\x01\x02\x03\x04"))
    assert connection.read(7) == b"\x81\x05hello"


def test_a_message_announced_past_the_limit_is_refused_before_its_payload(frames):
    connection, client = frames
    client.sendall(masked_frame(b"x" * 600, fin=False))  # under the limit of 1,000
    client.sendall(masked_frame(b"x" * 500, opcode=0)[:8])  # the next header only
    assert len(connection.read(4 + 600)) == 604
    with pytest.raises(MessageTooBig):
        connection.read(1)
    close = client.recv(100)
    assert close[0] == 0x88 and struct.unpack("!H", close[2:4])[0] == 1009


def test_control_frames_between_fragments_do_not_count(frames):
    connection, client = frames
    client.sendall(masked_frame(b"a" * 600, fin=False))
    client.sendall(masked_frame(b"p" * 125, opcode=0x9) * 20)  # 2,500 bytes of pings
    client.sendall(masked_frame(b"b" * 300, opcode=0))
    expected = 4 + 600 + 20 * (2 + 125) + 4 + 300
    assert len(connection.read(expected)) == expected


def test_a_control_frame_over_125_bytes_is_refused(frames):
    connection, client = frames
    client.sendall(masked_frame(b"p" * 126, opcode=0x9)[:8])
    with pytest.raises(BadFrame):
        connection.read(1)


# -- attachments, error logs ------------------------------------------------------------------


@pytest.mark.parametrize(
    "packet, count",
    [
        ('51-["upload_chunk",{"_placeholder":true,"num":0}]', 1),
        ('61-/admin,5[{"_placeholder":true,"num":0}]', 1),
        ('5["no attachments"]', 0),
        ('52["x-y"]', 0),
        ("5²-[]", 0),
        ("51000000000-[]", MAX_ATTACHMENTS + 1),
    ],
)
def test_declared_attachments(packet, count):
    assert declared_attachments(packet) == count


def test_error_records_pass_five_a_minute_then_say_how_many_were_dropped():
    now = [0.0]
    limit = RateLimitedErrors(clock=lambda: now[0])
    records = [logging.LogRecord("engineio.server", logging.ERROR, "", 0, "boom", (), None)]
    passed = [limit.filter(records[0]) for _ in range(8)]
    assert passed == [True] * 5 + [False] * 3
    info = logging.LogRecord("engineio.server", logging.INFO, "", 0, "fine", (), None)
    assert limit.filter(info)
    now[0] = 61
    later = logging.LogRecord("engineio.server", logging.ERROR, "", 0, "boom", (), None)
    assert limit.filter(later)
    assert later.getMessage() == "boom (3 similar errors not logged)"
