"""How gunicorn's gevent-websocket worker serves the app (hooked in by gunicorn.conf.py)."""

import logging
import re
from http.client import _MAXHEADERS, _MAXLINE
from io import BytesIO

from gevent import pywsgi
from geventwebsocket.handler import WebSocketHandler

# gevent gives each connection an 8 KiB read buffer (io.DEFAULT_BUFFER_SIZE) for as long
# as it lives; an idle socket reads a ping reply of a few bytes every 25 s, and a
# request's line and headers rarely pass 1 KiB (a longer one takes one more read).
READ_BUFFER_BYTES = 1024

# A header name as the email package's parser accepts it: printable ASCII, no colon.
_HEADER_NAME = re.compile(r"[!-9;-~]+\Z")


class CompactWebSocketHandler(WebSocketHandler):
    """gevent-websocket's handler: a small read buffer per connection, plain headers
    parsed without the email package, and an access-log line only when it is logged."""

    def __init__(self, sock, address, server, rfile=None):
        if rfile is None:
            rfile = sock.makefile("rb", READ_BUFFER_BYTES)
        super().__init__(sock, address, server, rfile)

    def MessageClass(self, rfile, *args):  # noqa: N802 (pywsgi's name)
        return read_headers(rfile)

    def log_request(self):
        # gevent-websocket formats the line before asking whether its logger
        # (ACCESS_LOG_LEVEL, WARNING by default) wants it.
        if self.logger.isEnabledFor(logging.INFO):
            super().log_request()


def read_headers(rfile):
    """A request's headers, as pywsgi's own parser would give them, mostly faster.

    pywsgi hands the header block to the email package, which costs about 5 % of a
    webhook's CPU. Lines are read with http.client's limits; a block of plain
    `Name: value` lines is stored directly, and anything else (a folded line, a
    bare CR, a line that is no header) goes to pywsgi's parser unchanged.
    """
    lines = []
    while True:
        line = rfile.readline(_MAXLINE + 1)
        if len(line) > _MAXLINE or len(lines) >= _MAXHEADERS:
            return pywsgi.headers_factory(_Replay(lines + [line], rfile))
        lines.append(line)
        if line in (b"\r\n", b"\n", b""):
            break
    message = pywsgi.OldMessage()
    for line in lines[:-1]:
        text = line.decode("iso-8859-1")
        name, colon, value = text.removesuffix("\n").removesuffix("\r").partition(":")
        if not colon or "\r" in value or not _HEADER_NAME.match(name):
            return pywsgi.headers_factory(BytesIO(b"".join(lines)))
        message._headers.append((name, value.lstrip(" \t")))
    return message


class _Replay:
    """Lines already read, then the rest of the stream: for pywsgi's parser."""

    def __init__(self, lines, rfile):
        self.lines, self.rfile = lines, rfile

    def readline(self, limit=-1):
        return self.lines.pop(0) if self.lines else self.rfile.readline(limit)


def tune_worker(worker) -> None:
    """gunicorn's post_worker_init: the worker builds its server with this handler."""
    worker.wsgi_handler = CompactWebSocketHandler
