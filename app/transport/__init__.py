"""How the app's sockets and HTTP connections are served: guards that always
apply, and a fast path that reaches into library internals, behind a version
check and a switch.

One entry point each side: install(app), called by create_app, and serve(worker),
called by gunicorn.conf.py's post_worker_init (the worker then builds its server
with the handler class serve() makes).

The guards (both modes; public APIs, documented extension points, or wrappers of
our own around a socket or a WSGI call):
- connection.Connection, the socket every request handler is given: once a
  request upgrades to a gevent-websocket websocket, each frame header is checked
  before its payload (a message over MAX_CONTENT_LENGTH, 64 KiB, is refused with
  close 1009; control frames do not count toward it), masked payloads are
  unmasked in C (wsaccel) so gevent-websocket's Python loop never runs, the
  reading greenlet yields before every frame (a ping flood cannot hold the
  worker), and a write the client does not take within
  SOCKET_SEND_TIMEOUT_SECONDS cuts it.
- handler.GuardedHandler: a deadline for request headers (HEADER_TIMEOUT_SECONDS)
  and a reserve of connections for HTTP (HTTP_RESERVE_CONNECTIONS) that
  websockets and stalled requests cannot take.
- sessions: one websocket per Engine.IO session (racing upgrades), frames Engine.IO
  cannot decode close the socket, oversized polling bodies end their session,
  drop() and the slow-consumer scan.
- attachments: a Socket.IO packet may declare at most 4 binary attachments,
  within the 64 KiB message limit with its text part.
- error_log: at most 5 Engine.IO / Socket.IO error tracebacks a minute.

The fast path (FAST_TRANSPORT unset or 1, and the exact versions of
versions.VERIFIED installed; otherwise a log line says why not, and the
libraries run as shipped). Each part is kept because it buys at least 10 % on
its figure, fast against public measured on one machine (docs/performance.md,
"Transport modes side by side"; the memory figures: worker RSS growth over 600
idle Engine.IO websockets, as tests/integration/test_transport_modes.py measures):
- engine_socket (fast/engine_socket.py): Engine.IO sockets swapped, once
  created, for EngineSocket: websocket sends are direct non-blocking writes
  instead of a queue and a writer greenlet per socket, pings are event-loop
  timers instead of a sleeping greenlet, and a client that does not read is cut
  when its unsent bytes pass SOCKET_MAX_BACKLOG_BYTES. Fan-out server CPU per
  1,000 deliveries 0.047 -> 0.012 s and 0.034 -> 0.013 s (-74 %, -62 %, two
  bench runs); memory per idle socket
  49.7 -> 31.2 KB alone (-37 %).
- compact_sockets (fast/compact.py CompactWebSocketHandler): a 512-byte read
  buffer per connection instead of 8 KiB, an upgraded websocket read from its
  Connection without the buffered file, its request headers dropped, the WSGI
  app called without a nested C frame. Memory per idle socket 49.7 -> 43.1 KB
  alone (-13 %); with engine_socket 31.2 -> 23.7 KB (-24 %).
- plain_headers (fast/compact.py PlainHeadersHandler): request headers parsed
  without the email package, the environ built from them directly, no access-log
  line formatted only to be dropped. Server CPU per webhook -12 to -14 % (1.55
  against 1.77 ms, 1.39 against 1.62 ms, sequential webhooks on a busy machine).
"""

import logging

from app.extensions import socketio
from app.transport import sessions, versions
from app.transport.attachments import limit_attachments
from app.transport.error_log import rate_limit_error_logs
from app.transport.handler import GuardedHandler, limits

log = logging.getLogger(__name__)


class Mode:
    """What this process serves with: the fast path or the public paths, and why."""

    fast = False
    reason = "not installed yet"
    patches: tuple[str, ...] = ()  # the fast-path parts in place
    parts: frozenset[str] = frozenset()  # the parts FAST_TRANSPORT asks for


mode = Mode()


def install(app) -> None:
    """Put the guards in place, and the fast path where it may run (create_app calls this)."""
    config = app.config
    limits.header_timeout = config["HEADER_TIMEOUT_SECONDS"]
    limits.http_reserve = config["HTTP_RESERVE_CONNECTIONS"]
    limits.max_message_bytes = config["MAX_CONTENT_LENGTH"]
    limits.send_timeout = config["SOCKET_SEND_TIMEOUT_SECONDS"]
    app.wsgi_app = sessions.guard_sessions(app.wsgi_app)
    eio = socketio.server.eio
    limit_attachments(eio, config["MAX_CONTENT_LENGTH"])
    rate_limit_error_logs()
    sessions.sockets_check_their_backlog = False
    mode.fast, mode.reason = _fast_path_allowed(config, eio)
    mode.patches = ()
    if mode.fast:
        from app.transport import fast

        mode.parts = _chosen_parts(config["FAST_TRANSPORT"])
        mode.patches = fast.install(app, eio, mode.parts)


def _chosen_parts(setting: str) -> frozenset[str]:
    """FAST_TRANSPORT's parts: "1" every one, else the names listed (for measuring each)."""
    from app.transport.fast import PARTS

    if setting.strip() == "1":
        return PARTS
    chosen = frozenset(name.strip() for name in setting.split(",") if name.strip())
    unknown = chosen - PARTS
    if unknown:
        raise ValueError(f"FAST_TRANSPORT: unknown parts {sorted(unknown)}; known: {sorted(PARTS)}")
    return chosen


def _fast_path_allowed(config, eio) -> tuple[bool, str]:
    if config["FAST_TRANSPORT"].strip() == "0":
        return False, "FAST_TRANSPORT=0"
    if eio.async_mode != "gevent":
        return False, f"Engine.IO runs in {eio.async_mode} mode, not gevent"
    wrong = versions.mismatches()
    if wrong:
        return False, "; ".join(wrong)
    return True, "verified library versions"


def serve(worker) -> None:
    """gunicorn's post_worker_init: the worker's handler class, with the guards in front."""
    limits.worker_connections = worker.worker_connections
    base = worker.wsgi_handler
    if base is None:
        # gunicorn's plain gevent worker (-k gevent) parses requests itself, not with
        # pywsgi: nothing to put the handler's guards on (python-engineio then runs
        # its simple-websocket driver, measured by bench/ but not served by default).
        log.warning("transport: worker %s has no pywsgi handler to guard", type(worker).__name__)
        return
    mixins, names = (), ()
    if mode.fast:
        from app.transport import fast

        mixins, names = fast.handler_mixins(base, mode.parts)
        mode.patches += names
    attributes = {"filters_frames": _is_gevent_websocket(base)}
    worker.wsgi_handler = type("TransportHandler", (GuardedHandler, *mixins, base), attributes)
    if mode.fast:
        log.info("transport: fast path on (%s): %s", mode.reason, ", ".join(mode.patches))
    else:
        log.warning("transport: public paths only: %s", mode.reason)


def _is_gevent_websocket(handler_class) -> bool:
    try:
        from geventwebsocket.handler import WebSocketHandler
    except ImportError:
        return False
    return issubclass(handler_class, WebSocketHandler)
