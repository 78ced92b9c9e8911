"""Telling the server's own connect and disconnect from a client's event of that name.

python-socketio dispatches a client's event packet by its name alone, so
`42["disconnect"]` reaches the handler registered for "disconnect" while the
socket stays connected and in its rooms. Had that handler run, it would have
dropped the socket from the token sweep, the socket cap and presence. The
contract reserves these names (and every server -> client one): a client
sending one is treated like one sending an unknown event, and nothing changes.

Events named like a server -> client event have no handler here, so
python-socketio already drops them; the lifecycle handlers check for
themselves (sent_by_client), and no client event may be declared under a
lifecycle name (client_event refuses to register one).
"""

from flask import request

from app.extensions import socketio

LIFECYCLE_EVENTS = frozenset({"connect", "disconnect", "connect_error"})


def sent_by_client() -> bool:
    """Whether the running connect/disconnect handler was called by a client's event packet.

    The server's own connect runs while the socket is still pending (not yet
    connected) and its own disconnect once the socket is marked as leaving;
    only an event packet finds the socket fully connected (events of a socket
    that is not connected are never dispatched).
    """
    return socketio.server.manager.is_connected(request.sid, request.namespace or "/")


def ignored():
    """The value that makes python-socketio treat the event as unhandled: no ack is sent."""
    return socketio.server.not_handled
