"""How gunicorn's gevent-websocket worker serves the app (hooked in by gunicorn.conf.py)."""

import logging

from geventwebsocket.handler import WebSocketHandler

# gevent gives each connection an 8 KiB read buffer (io.DEFAULT_BUFFER_SIZE) for as long
# as it lives; an idle socket reads a ping reply of a few bytes every 25 s, and a
# request's line and headers rarely pass 1 KiB (a longer one takes one more read).
READ_BUFFER_BYTES = 1024


class CompactWebSocketHandler(WebSocketHandler):
    """gevent-websocket's handler: a small per-connection read buffer, a lazy access log."""

    def __init__(self, sock, address, server, rfile=None):
        if rfile is None:
            rfile = sock.makefile("rb", READ_BUFFER_BYTES)
        super().__init__(sock, address, server, rfile)

    def log_request(self):
        # gevent-websocket formats the access-log line before asking whether its
        # logger (ACCESS_LOG_LEVEL, WARNING by default) wants it.
        if self.logger.isEnabledFor(logging.INFO):
            super().log_request()


def tune_worker(worker) -> None:
    """gunicorn's post_worker_init: the worker builds its server with this handler."""
    worker.wsgi_handler = CompactWebSocketHandler
