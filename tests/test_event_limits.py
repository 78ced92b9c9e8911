"""Per-socket event limits (app/realtime/event_limits.py): windows made at a socket's first
event and dropped at its disconnect, and events that declare limits of their own (a count
apart from the default 10 a second, a byte budget), as upload_chunk will.

The default limit's contract (the eleventh event in a second) is in tests/test_socket.py.
"""

from typing import ClassVar

import pytest

from app.realtime import event_limits
from app.realtime.event_limits import EventLimit
from app.realtime.handlers import client_event
from app.schemas.common import CamelInput
from app.schemas.socket import ClientPayload
from tests.conftest import received

PROBE_COUNT = 20
PROBE_BYTES = 100


def payload_bytes(data) -> int:
    chunk = data.get("data") if isinstance(data, dict) else None
    return len(chunk) if isinstance(chunk, bytes) else 0


class ProbePayload(ClientPayload, CamelInput):
    """The probe's payload: an optional binary chunk, like upload_chunk's `data`."""

    invalid: ClassVar[str] = "Invalid data"

    data: bytes | None = None


def limits_probe(connection, data) -> None:
    """A test-only event with limits of its own, shaped like upload_chunk's."""


@pytest.fixture(autouse=True)
def probe_event(app):
    """The probe, on this test's Socket.IO server only: no other test (nor the AsyncAPI
    check of every handled event) ever sees it."""
    client_event(
        "limits_probe",
        ProbePayload,
        limits=(
            EventLimit("limits_probe", f"{PROBE_COUNT}/second"),
            EventLimit("limits_probe_bytes", f"{PROBE_BYTES}/second", cost=payload_bytes),
        ),
    )(limits_probe)


class FakeClock:
    def __init__(self):
        self.now = 7000.0

    def monotonic(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(event_limits, "time", fake)
    return fake


@pytest.fixture
def windows(app):
    """The event-limit storage of this app's process."""
    return app.extensions["inbox_state"].connections.event_limits.storage


def ack(socket, event, *args):
    return socket.emit(event, *args, callback=True)


def test_a_socket_holds_windows_only_between_its_first_event_and_its_disconnect(
    socket_for, make_user, windows
):
    first, second = socket_for(make_user()), socket_for(make_user())
    assert windows.key_count() == 0  # connected, idle: nothing
    ack(first, "join_conversation", "bad")
    ack(first, "limits_probe", {"data": b"x"})
    assert windows.key_count() == 3  # the default window and the probe's two
    ack(second, "join_conversation", "bad")
    assert windows.key_count() == 4
    first.disconnect()
    assert windows.key_count() == 1
    second.disconnect()
    assert windows.key_count() == 0


def test_an_event_with_its_own_count_is_not_held_to_the_default(socket_for, make_user, clock):
    socket = socket_for(make_user())
    for n in range(PROBE_COUNT):
        clock.now = 7000 + n * 0.04
        assert ack(socket, "limits_probe", {}) == {"ok": True}
    assert ack(socket, "limits_probe", {}) == {"error": "Rate limit exceeded"}
    assert received(socket)["error"] == [{"message": "Rate limit exceeded"}]
    # The default budget of ten is untouched by the probe's twenty.
    for _ in range(10):
        assert ack(socket, "join_conversation", "bad") == {"error": "Invalid conversationId"}
    assert ack(socket, "join_conversation", "bad") == {"error": "Rate limit exceeded"}
    clock.now = 7001.0  # the probe's oldest event is a second old
    assert ack(socket, "limits_probe", {}) == {"ok": True}


def test_a_byte_budget_counts_what_each_event_carries(socket_for, make_user, clock):
    socket, neighbour = socket_for(make_user()), socket_for(make_user())
    chunk = {"data": b"\x00" * 40}
    assert [ack(socket, "limits_probe", chunk) for _ in range(2)] == [{"ok": True}] * 2
    assert ack(socket, "limits_probe", chunk) == {"error": "Rate limit exceeded"}  # 120 > 100
    assert ack(neighbour, "limits_probe", chunk) == {"ok": True}  # every socket its own budget
    clock.now += 1.0  # a new window
    assert ack(socket, "limits_probe", {"data": b"\x00" * PROBE_BYTES}) == {"ok": True}
    assert ack(socket, "limits_probe", {"data": b"\x00"}) == {"error": "Rate limit exceeded"}
