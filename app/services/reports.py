"""Team reports: conversations opened and resolved, first response and resolution
times, per agent and per day (UTC), computed from the conversations and messages."""

import datetime as dt
import statistics
from collections import defaultdict

from sqlalchemy import and_, func, select

from app.errors import ValidationError
from app.extensions import db
from app.models import Conversation, Message, User
from app.schemas.reports import MAX_REPORT_DAYS, AgentFigures, DayFigures, Figures, Report
from app.timeutil import utcnow


class _Slice:
    """Figures being gathered for one agent, one day or the whole range."""

    def __init__(self):
        self.opened = 0
        self.resolved = 0
        self.first_responses: list[float] = []
        self.resolutions: list[float] = []

    def figures(self) -> dict:
        return {
            "opened": self.opened,
            "resolved": self.resolved,
            "responded": len(self.first_responses),
            "avg_first_response_seconds": _mean(self.first_responses),
            "median_first_response_seconds": _median(self.first_responses),
            "avg_resolution_seconds": _mean(self.resolutions),
            "median_resolution_seconds": _median(self.resolutions),
        }


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 1) if values else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _range(since: dt.date | None, until: dt.date | None) -> tuple[dt.date, dt.date]:
    until = until or utcnow().date()
    since = since or until - dt.timedelta(days=6)
    if since > until:
        raise ValidationError("since must not be after until", field="since")
    if (until - since).days >= MAX_REPORT_DAYS:
        raise ValidationError(f"the range is at most {MAX_REPORT_DAYS} days", field="since")
    return since, until


def _first_replies():
    """Each conversation's first agent reply (notes are not replies)."""
    return (
        select(Message.conversation_id, func.min(Message.created_at).label("first_reply"))
        .where(
            Message.direction == "OUTBOUND",
            Message.sent_by.is_not(None),
            Message.message_type != "note",
        )
        .group_by(Message.conversation_id)
        .subquery()
    )


def build(since: dt.date | None, until: dt.date | None) -> Report:
    """The report over [since, until] (UTC days, both included)."""
    since, until = _range(since, until)
    start = dt.datetime.combine(since, dt.time())
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time())
    replies = _first_replies()
    opened_in = and_(Conversation.created_at >= start, Conversation.created_at < end)
    resolved_in = and_(Conversation.resolved_at >= start, Conversation.resolved_at < end)
    rows = db.session.execute(
        select(
            Conversation.user_id,
            Conversation.created_at,
            Conversation.resolved_at,
            replies.c.first_reply,
        )
        .outerjoin(replies, replies.c.conversation_id == Conversation.id)
        .where(opened_in | resolved_in)
    ).all()
    total, agents, days = _Slice(), defaultdict(_Slice), defaultdict(_Slice)
    for owner, created_at, resolved_at, first_reply in rows:
        if start <= created_at < end:
            for part in (total, agents[owner], days[created_at.date()]):
                part.opened += 1
                if first_reply is not None:
                    part.first_responses.append((first_reply - created_at).total_seconds())
        if resolved_at is not None and start <= resolved_at < end:
            for part in (total, agents[owner], days[resolved_at.date()]):
                part.resolved += 1
                part.resolutions.append((resolved_at - created_at).total_seconds())
    return Report(
        since=since,
        until=until,
        totals=Figures(**total.figures()),
        by_agent=_by_agent(agents),
        by_day=[
            DayFigures(
                date=since + dt.timedelta(days=n), **days[since + dt.timedelta(days=n)].figures()
            )
            for n in range((until - since).days + 1)
        ],
    )


def _by_agent(agents: dict[int, _Slice]) -> list[AgentFigures]:
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(agents))).all())
    found = [
        AgentFigures(user_id=user_id, name=names.get(user_id, ""), **part.figures())
        for user_id, part in agents.items()
    ]
    return sorted(found, key=lambda figures: (figures.name.casefold(), figures.user_id))
