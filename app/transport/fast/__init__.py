"""The fast path: code that overrides or swaps private parts of python-engineio,
gevent's pywsgi and gevent-websocket. Installed by app.transport only when the
installed versions are those in app/transport/versions.py and FAST_TRANSPORT is
not 0; what each part buys is in app/transport/__init__.py.
"""

from app.transport import sessions
from app.transport.fast import engine_socket


def install(app, eio) -> tuple[str, ...]:
    """Engine.IO's sockets become EngineSockets; returns the names of the app-side patches."""
    engine_socket.adopt(
        eio, app.config["SOCKET_MAX_BACKLOG_BYTES"], app.config["SOCKET_SEND_TIMEOUT_SECONDS"]
    )
    sessions.sockets_check_their_backlog = True
    return ("engine_socket",)


def handler_mixins(base) -> tuple:
    """The fast-path mixins for the worker's handler class `base`, and their names."""
    from geventwebsocket.handler import WebSocketHandler

    from app.transport.fast.compact import CompactWebSocketHandler, PlainHeadersHandler

    if not issubclass(base, WebSocketHandler):
        return (), ()
    return (CompactWebSocketHandler, PlainHeadersHandler), ("compact_sockets", "plain_headers")
