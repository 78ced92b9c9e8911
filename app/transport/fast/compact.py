"""Fast-path request handling (library internals: pywsgi's handler and gevent-websocket's).

Mixins put in front of the worker's handler class by app.transport.serve() when
the fast path is on; see app/transport/__init__.py for what each buys.
"""

import logging
import re
from http.client import _MAXHEADERS, _MAXLINE
from io import BytesIO

from gevent import pywsgi

from app.transport.sessions import plain_call

# gevent gives each connection an 8 KiB read buffer (io.DEFAULT_BUFFER_SIZE) for as long
# as it lives. A websocket reads its Connection directly once upgraded
# (CompactWebSocketHandler.run_websocket), so the buffer only serves HTTP requests: a
# webhook's line, headers and body take one or two reads of this size.
READ_BUFFER_BYTES = 512

# A header name as the email package's parser accepts it: printable ASCII, no colon.
_HEADER_NAME = re.compile(r"[!-9;-~]+\Z")
_PLAIN_VERSIONS = frozenset(("HTTP/1.1", "HTTP/1.0"))


class CompactWebSocketHandler:
    """Mixed in front of gevent-websocket's handler: a small read buffer per
    connection, and a websocket read from its Connection without the buffered file."""

    def __init__(self, sock, address, server, rfile=None):
        if rfile is None:
            rfile = sock.makefile("rb", READ_BUFFER_BYTES)
        super().__init__(sock, address, server, rfile)

    @property
    def application(self):
        return self._application

    @application.setter
    def application(self, wsgi_app):
        # pywsgi sets this per request; a websocket stays inside the call for its life.
        self._application = plain_call(wsgi_app)

    def run_websocket(self):
        # Upgraded, and nothing was buffered past the request (GuardedHandler
        # refuses that): read the Connection directly, without the file.
        self.websocket.stream.read = self.websocket.raw_read = self.socket.read
        # The request's parsed headers (the environ has them too) would otherwise
        # stay as long: about 1 KB per socket (docs/performance.md).
        self.headers = type(self).headers
        super().run_websocket()


class PlainHeadersHandler:
    """Mixed in front of gevent-websocket's handler: plain request headers parsed
    without the email package, the environ's HTTP_* pairs built from them directly,
    and an access-log line formatted only when it is logged."""

    def MessageClass(self, rfile, *args):  # noqa: N802 (pywsgi's name)
        return read_headers(rfile)

    def _headers(self):
        """The environ's HTTP_* pairs, as pywsgi derives them, without the detour.

        pywsgi formats each header back into a line and splits it again; pairs
        read_headers stored itself are used as they are (the same rules: names
        with "_" dropped, values stripped, Content-Type/-Length left to it).
        """
        if not getattr(self.headers, "plain", False):
            yield from super()._headers()
            return
        for name, value in self.headers._headers:
            if "_" in name:
                continue
            key = name.replace("-", "_").upper()
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                yield "HTTP_" + key, value.strip()

    def _check_http_version(self):
        return self.request_version in _PLAIN_VERSIONS or super()._check_http_version()

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
    message = PlainHeaders()
    for line in lines[:-1]:
        text = line.decode("iso-8859-1")
        name, colon, value = text.removesuffix("\n").removesuffix("\r").partition(":")
        if not colon or "\r" in value or not _HEADER_NAME.match(name):
            return pywsgi.headers_factory(BytesIO(b"".join(lines)))
        message._headers.append((name, value.lstrip(" \t")))
    return message


class PlainHeaders(pywsgi.OldMessage):
    """Headers read_headers stored itself: plain `Name: value` pairs, decoded as latin-1.

    get() skips the email policy's per-field step, which returns such a value
    unchanged anyway (it only rewraps values with undecodable bytes).
    """

    plain = True  # for PlainHeadersHandler._headers

    def get(self, name, failobj=None):
        name = name.lower()
        for key, value in self._headers:
            if key.lower() == name:
                return value
        return failobj


class _Replay:
    """Lines already read, then the rest of the stream: for pywsgi's parser."""

    def __init__(self, lines, rfile):
        self.lines, self.rfile = lines, rfile

    def readline(self, limit=-1):
        return self.lines.pop(0) if self.lines else self.rfile.readline(limit)
