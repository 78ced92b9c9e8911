"""PublishOrder: how late an event reaches a process after a larger eventId."""

import logging

import pytest

from app.realtime import publish_order
from app.realtime.publish_order import PublishOrder


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(publish_order, "time", fake)
    return fake


def test_an_event_after_a_larger_one_is_measured_from_when_that_one_came(clock, caplog):
    order = PublishOrder(margin_seconds=2)
    caplog.set_level(logging.INFO, logger=publish_order.__name__)
    order.delivered(5)
    clock.now += 0.3
    order.delivered(7)
    clock.now += 0.2
    order.delivered(6)  # 7 came 0.2 s ago
    assert order.worst == pytest.approx(0.2)
    assert [r.levelname for r in caplog.records] == ["INFO"]

    clock.now += 1.0
    order.delivered(4)  # 5 came 1.5 s ago: past half the margin
    assert order.worst == pytest.approx(1.5)
    assert caplog.records[-1].levelname == "WARNING"
    assert "event 4" in caplog.records[-1].getMessage()

    order.delivered(3)  # not worse than 1.5 s: nothing logged
    assert len(caplog.records) == 2


def test_in_order_events_measure_nothing_and_old_rises_are_forgotten(clock):
    order = PublishOrder(margin_seconds=2)
    for event_id in range(1, 100):
        order.delivered(event_id)
        clock.now += 3
    assert order.worst == 0
    assert len(order._rises) <= 2 * PublishOrder.WINDOW_SECONDS / 3 + 1
