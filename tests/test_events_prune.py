"""`flask events prune`: retention of the event log, and the resync it leads to."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Event
from app.services import events as event_log
from app.timeutil import utcnow
from tests.conftest import Numbered, received

pytestmark = pytest.mark.usefixtures("fast_password_hashes")


def _record(user_id: int, count: int, days_old: float) -> list[int]:
    recorded = [event_log.record("new_message", user_id, 1, Numbered(n=n)) for n in range(count)]
    db.session.commit()
    ids = [event.id for event in recorded]
    db.session.execute(
        db.update(Event)
        .where(Event.id.in_(ids))
        .values(created_at=utcnow() - timedelta(days=days_old))
    )
    db.session.commit()
    return ids


def _kept() -> list[int]:
    return list(db.session.scalars(select(Event.id).order_by(Event.id)))


def test_prune_deletes_only_what_is_older_than_asked(runner, make_user):
    owner = make_user()
    old = _record(owner.id, 5, days_old=40)
    recent = _record(owner.id, 3, days_old=1)
    result = runner.invoke(args=["events", "prune", "--older-than", "30"])
    assert result.exit_code == 0, result.output
    assert "5 event(s) older than 30 day(s) deleted" in result.output
    assert _kept() == recent
    assert set(old).isdisjoint(_kept())


def test_the_retention_setting_is_the_default(app, runner, make_user):
    owner = make_user()
    _record(owner.id, 2, days_old=10)
    recent = _record(owner.id, 1, days_old=0)
    app.config["EVENT_RETENTION_DAYS"] = 7
    result = runner.invoke(args=["events", "prune"])
    assert result.exit_code == 0, result.output
    assert _kept() == recent


def test_the_newest_event_is_kept_so_ids_keep_growing(runner, make_user):
    owner = make_user()
    ids = _record(owner.id, 4, days_old=90)
    runner.invoke(args=["events", "prune", "--older-than", "0"])
    assert _kept() == [ids[-1]]
    (later,) = _record(owner.id, 1, days_old=0)
    assert later > ids[-1]


def test_prune_works_through_many_batches(make_user):
    owner = make_user()
    ids = _record(owner.id, 25, days_old=5)
    assert event_log.prune_before(utcnow() - timedelta(days=1), batch_size=4) == 24
    assert _kept() == [ids[-1]]


def test_a_negative_age_is_refused_and_deletes_nothing(runner, make_user):
    owner = make_user()
    ids = _record(owner.id, 3, days_old=5)
    result = runner.invoke(args=["events", "prune", "--older-than", "-1"])
    assert result.exit_code == 2
    assert "--older-than" in result.output
    assert _kept() == ids


def test_a_client_away_longer_than_the_log_reaches_is_told_to_resync(runner, make_user, socket_for):
    owner = make_user()
    ids = _record(owner.id, 6, days_old=40)
    kept = _record(owner.id, 2, days_old=0)
    runner.invoke(args=["events", "prune", "--older-than", "30"])
    assert received(socket_for(owner, lastEventId=ids[1])) == {"resync_required": [{}]}
    # A client that had seen everything pruned still gets what is kept.
    caught_up = received(socket_for(owner, lastEventId=ids[-1]))
    assert [p["eventId"] for p in caught_up["new_message"]] == kept
