"""A bound on Socket.IO binary attachments, through Engine.IO's public handler API.

A Socket.IO packet may declare binary attachments (`51-["event",{"_placeholder":
true,"num":0}]` then one Engine.IO message per attachment); python-socketio
buffers them until the declared count has arrived, with no bound of its own.
The rule here: a packet may declare at most MAX_ATTACHMENTS, and its text part
plus its attachments must fit the message limit (MAX_CONTENT_LENGTH, 64 KiB),
the same as one plain message. A packet that declares more, or whose
attachments pass the limit, is refused and its client cut, before python-socketio
buffers it.

For uploads in chunks (one binary attachment per event), UPLOAD_CHUNK_BYTES is
a chunk size that fits with 16 KiB left for the event's text part.
"""

import logging

from app.transport.sessions import drop

log = logging.getLogger(__name__)

MAX_ATTACHMENTS = 4
UPLOAD_CHUNK_BYTES = 48 * 1024
_BINARY_PACKET_TYPES = ("5", "6")  # BINARY_EVENT, BINARY_ACK


def limit_attachments(eio, max_message_bytes: int) -> None:
    """Check every message of `eio` against the rule before python-socketio sees it."""
    receive = eio.handlers["message"]
    forget = eio.handlers.get("disconnect")
    pending: dict = {}  # eio sid -> [attachments still due, bytes still allowed]

    def on_message(eio_sid, data):
        due = pending.get(eio_sid)
        if due is not None:
            due[0] -= 1
            due[1] -= len(data)
            if due[1] < 0:
                return _cut(eio, eio_sid, pending, "attachments over %d bytes", max_message_bytes)
            if due[0] == 0:
                del pending[eio_sid]
        elif isinstance(data, str) and data[:1] in _BINARY_PACKET_TYPES:
            count = declared_attachments(data)
            size = len(data.encode())
            if count > MAX_ATTACHMENTS or size >= max_message_bytes:
                return _cut(eio, eio_sid, pending, "a packet declaring %d attachments", count)
            if count:
                pending[eio_sid] = [count, max_message_bytes - size]
        return receive(eio_sid, data)

    def on_disconnect(eio_sid, *args):
        pending.pop(eio_sid, None)
        return forget(eio_sid, *args) if forget else None

    eio.on("message", on_message)
    eio.on("disconnect", on_disconnect)


def declared_attachments(encoded: str) -> int:
    """The attachment count a Socket.IO packet declares (`5<count>-...`), 0 if none.

    Counts of more digits than python-socketio accepts read as too many.
    """
    dash = encoded.find("-", 1)
    digits = encoded[1:dash] if dash > 1 else ""
    if not (digits.isascii() and digits.isdigit()):
        return 0
    return int(digits) if len(digits) <= 9 else MAX_ATTACHMENTS + 1


def _cut(eio, eio_sid, pending, why, *args) -> None:
    pending.pop(eio_sid, None)
    log.warning("disconnecting %s: " + why, eio_sid, *args)
    eio_socket = eio.sockets.get(eio_sid)
    if eio_socket is not None:
        drop(eio, eio_sid, eio_socket)
