"""The fast path: code that overrides or swaps private parts of python-engineio,
gevent's pywsgi and gevent-websocket. Installed by app.transport only when the
installed versions are those in app/transport/versions.py and FAST_TRANSPORT is
not 0; what each part buys is in app/transport/__init__.py.
"""

from app.transport import sessions
from app.transport.fast import engine_socket

PARTS = frozenset({"engine_socket", "compact_sockets", "plain_headers"})


def install(app, eio, parts) -> tuple[str, ...]:
    """The app-side parts among `parts` (Engine.IO's sockets become EngineSockets)."""
    if "engine_socket" not in parts:
        return ()
    engine_socket.adopt(
        eio, app.config["SOCKET_MAX_BACKLOG_BYTES"], app.config["SOCKET_SEND_TIMEOUT_SECONDS"]
    )
    sessions.sockets_check_their_backlog = True
    return ("engine_socket",)


def handler_mixins(base, parts) -> tuple[tuple, tuple[str, ...]]:
    """(mixins, names): the handler-side parts among `parts` for the handler class `base`."""
    from geventwebsocket.handler import WebSocketHandler

    from app.transport.fast.compact import CompactWebSocketHandler, PlainHeadersHandler

    if not issubclass(base, WebSocketHandler):
        return (), ()
    chosen = [
        (mixin, name)
        for mixin, name in (
            (CompactWebSocketHandler, "compact_sockets"),
            (PlainHeadersHandler, "plain_headers"),
        )
        if name in parts
    ]
    return tuple(m for m, _ in chosen), tuple(n for _, n in chosen)
