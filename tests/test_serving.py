"""The worker's request-header parser and the websocket frames EngineSocket writes."""

from io import BytesIO

import pytest
from gevent import pywsgi

from app.transport.fast.compact import PlainHeadersHandler, read_headers
from app.transport.fast.engine_socket import websocket_frame

PLAIN = (
    b"Host: localhost:5000\r\n"
    b"Content-Type: application/json\r\n"
    b"X-Webhook-Secret:   spaced value  \r\n"
    b"Content-Length: 42\r\n"
    b"\r\n"
)
UNUSUAL = {
    "folded line": b"X-Long: first\r\n  second\r\nHost: a\r\n\r\n",
    "bare CR inside a value": b"X-A: one\rX-B: two\r\nHost: a\r\n\r\n",
    "line without a colon": b"Host: a\r\nnot a header\r\nX-After: b\r\n\r\n",
    "space before the colon": b"Content-Length : 5\r\nHost: a\r\n\r\n",
    "empty name": b": value\r\nHost: a\r\n\r\n",
    "unix From line": b"From nobody\r\nHost: a\r\n\r\n",
    "LF endings": b"Host: a\nX-B: b\n\n",
    "latin-1 value": "X-Name: Çağrı\r\n\r\n".encode("latin-1", "replace"),
    "ends without a blank line": b"Host: a\r\nX-B: b\r\n",
    "101 headers": b"".join(b"X-%d: v\r\n" % n for n in range(101)) + b"\r\n",
    "a line over 64 KiB": b"X-Big: " + b"a" * 70_000 + b"\r\n\r\n",
}


def parsed(parser, block: bytes):
    try:
        message = parser(BytesIO(block + b"BODY"))
    except Exception as exc:  # the same refusal counts as the same answer
        return type(exc), str(exc)
    return message.items(), message.status, message.get("content-length")


@pytest.mark.parametrize("block", [PLAIN, *UNUSUAL.values()], ids=["plain", *UNUSUAL])
def test_headers_are_what_pywsgi_itself_would_parse(block):
    assert parsed(read_headers, block) == parsed(pywsgi.headers_factory, block)


def test_plain_headers_keep_trailing_spaces_and_leave_the_body_unread():
    stream = BytesIO(PLAIN + b"BODY")
    message = read_headers(stream)
    assert message["X-Webhook-Secret"] == "spaced value  "
    assert stream.read() == b"BODY"


@pytest.mark.parametrize(
    ("length", "header"),
    [
        (0, b"\x81\x00"),
        (125, b"\x81\x7d"),
        (126, b"\x81\x7e\x00\x7e"),
        (65535, b"\x81\x7e\xff\xff"),
        (65536, b"\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00"),
    ],
)
def test_text_frames_carry_their_length_in_the_smallest_form(length, header):
    frame = websocket_frame("x" * length)
    assert frame == header + b"x" * length


def test_bytes_go_in_a_binary_frame():
    assert websocket_frame(b"\x00\x01") == b"\x82\x02\x00\x01"


Handler = type("Handler", (PlainHeadersHandler, pywsgi.WSGIHandler), {})


class _Handler:
    """Just what WSGIHandler._headers reads."""

    def __init__(self, headers):
        self.headers = headers


def test_environ_pairs_of_plain_headers_are_pywsgis():
    block = PLAIN + b"X_Under: dropped\r\nAccept: a\r\nAccept: b\r\nX-Trail:  v \t\r\n\r\n"
    block = block.replace(b"\r\n\r\nX_Under", b"\r\nX_Under")
    message = read_headers(BytesIO(block))
    assert message.plain
    ours = list(Handler._headers(_Handler(message)))
    assert ours == list(pywsgi.WSGIHandler._headers(_Handler(message)))
    assert ("HTTP_X_TRAIL", "v") in ours
    assert not any(key.startswith("HTTP_X_UNDER") for key, _ in ours)


def test_plain_http_versions_are_accepted_and_others_still_checked():
    handler = Handler.__new__(Handler)
    for version, accepted in [("HTTP/1.1", True), ("HTTP/1.0", True), ("HTTP/2.0", False)]:
        handler.request_version = version
        assert handler._check_http_version() is accepted
