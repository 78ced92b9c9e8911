"""GET /api/reports: the team's figures over a range of days (UTC)."""

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import Field, PlainValidator, WithJsonSchema

from app.schemas.common import CamelInput, CamelModel, refuse

MAX_REPORT_DAYS = 366


_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _day(value: Any) -> dt.date:
    """A day written as YYYY-MM-DD (nothing else: not a number, not a time)."""
    if isinstance(value, dt.date):
        return value
    try:
        if isinstance(value, str) and _DAY.match(value):
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise refuse("must be a date as YYYY-MM-DD")


Day = Annotated[
    dt.date,
    PlainValidator(_day),
    WithJsonSchema(
        {"type": "string", "format": "date", "examples": ["2026-12-01"]}, mode="validation"
    ),
]


class ReportQuery(CamelInput):
    since: Day | None = Field(None, description="First day (UTC), default 6 days before until")
    until: Day | None = Field(None, description="Last day (UTC), included; default today")


class Figures(CamelModel):
    """What happened to conversations in one slice of the range."""

    opened: int = Field(ge=0, description="Conversations started (first message) in the slice")
    resolved: int = Field(ge=0, description="Conversations resolved in the slice")
    responded: int = Field(ge=0, description="Opened ones that got an agent's reply")
    avg_first_response_seconds: float | None = Field(
        description="Mean time from a conversation's start to the first agent reply"
    )
    median_first_response_seconds: float | None
    avg_resolution_seconds: float | None = Field(
        description="Mean time from start to resolution, over those resolved in the slice"
    )
    median_resolution_seconds: float | None


class AgentFigures(Figures):
    user_id: int
    name: str


class DayFigures(Figures):
    date: dt.date


class Report(CamelModel):
    since: dt.date
    until: dt.date
    totals: Figures
    by_agent: list[AgentFigures] = Field(description="Per owner (after transfers), by name")
    by_day: list[DayFigures] = Field(description="Every day of the range, oldest first")
