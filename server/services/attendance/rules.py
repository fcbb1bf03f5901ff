"""Attendance rules and the pure evaluation of one officer's day: punches in, marks out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, model_validator


class MarkKind(StrEnum):
    """What a day (or half-day) of one officer is marked as."""

    ON_TIME = "on_time"
    LATE = "late"
    EARLY_LEAVE = "early_leave"
    ABSENT_HALF = "absent_half"
    ABSENT_DAY = "absent_day"
    MISSED_PUNCH = "missed_punch"
    ON_LEAVE = "on_leave"


# Marks that count towards the weekly notice (迟到、早退、旷工).
NOTICE_KINDS = frozenset({MarkKind.LATE, MarkKind.EARLY_LEAVE, MarkKind.ABSENT_HALF, MarkKind.ABSENT_DAY})


def _wall_clock(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("period times are hall-local wall-clock times, without a UTC offset")
    return value


# A hall-local time of day such as 09:00; the schema says so (JSON Schema's "time" demands an offset).
WallTime = Annotated[
    time,
    AfterValidator(_wall_clock),
    WithJsonSchema({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?$"}),
]


class Period(BaseModel):
    """One working period of a day, e.g. 9:00-12:00; two punches (in and out) are due."""

    model_config = ConfigDict(extra="forbid")

    start: WallTime
    end: WallTime

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end <= self.start:
            raise ValueError(f"period end {self.end} must be after its start {self.start}")
        return self


def _default_periods() -> list[Period]:
    return [Period(start=time(9), end=time(12)), Period(start=time(13), end=time(17))]


def check_periods(periods: list[Period]) -> list[Period]:
    """Periods must be in order and must not overlap."""
    for earlier, later in pairwise(periods):
        if later.start < earlier.end:
            raise ValueError(f"periods overlap or are out of order: {earlier.end} > {later.start}")
    return periods


class AttendanceRules(BaseModel):
    """The hall's attendance rules; every number is configurable."""

    model_config = ConfigDict(extra="forbid")

    periods: Annotated[list[Period], Field(min_length=1, max_length=4)] = Field(
        default_factory=_default_periods
    )
    grace_min: Annotated[int, Field(ge=0, le=60)] = 5
    absence_min: Annotated[int, Field(ge=1, le=240)] = 30
    unstaffed_alert_min: Annotated[int, Field(ge=1, le=240)] = 10
    weekly_notice_marks: Annotated[int, Field(ge=1, le=20)] = 2

    @model_validator(mode="after")
    def _periods_in_order(self) -> AttendanceRules:
        check_periods(self.periods)
        return self


@dataclass(frozen=True)
class Mark:
    """One mark: its kind, the period it belongs to (None for the whole day) and minutes."""

    kind: MarkKind
    period: int | None
    minutes: int = 0


@dataclass(frozen=True)
class Interval:
    """A span of local time, e.g. an approved leave."""

    start: datetime
    end: datetime


def _minute(moment: datetime) -> datetime:
    # Punches count by the minute, as on a time clock: 9:05:59 is 9:05.
    return moment.replace(second=0, microsecond=0)


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _zones(spans: list[Interval]) -> list[Interval]:
    """The stretch of the day whose punches belong to each period: split halfway between periods."""
    zones = []
    for i, span in enumerate(spans):
        lo = (
            span.start - timedelta(hours=12)
            if i == 0
            else spans[i - 1].end + (span.start - spans[i - 1].end) / 2
        )
        last = i == len(spans) - 1
        hi = span.end + timedelta(hours=12) if last else span.end + (spans[i + 1].start - span.end) / 2
        zones.append(Interval(lo, hi))
    return zones


def _covered(start: datetime, end: datetime, leaves: list[Interval]) -> int:
    """Minutes of [start, end) covered by leave (leaves may overlap each other)."""
    cuts = sorted(
        (max(lv.start, start), min(lv.end, end)) for lv in leaves if lv.start < end and lv.end > start
    )
    total, reach = timedelta(0), start
    for lo, hi in cuts:
        lo = max(lo, reach)
        if hi > lo:
            total += hi - lo
            reach = hi
    return _minutes(total)


def _effective(span: Interval, leaves: list[Interval]) -> Interval:
    """The part of a period the officer must be present for: leave at either end moves the edge."""
    start, end = span.start, span.end
    moved = True
    while moved:
        moved = False
        for lv in leaves:
            if lv.start <= start < lv.end:
                start, moved = lv.end, True
            if lv.start < end <= lv.end:
                end, moved = lv.start, True
            if start >= end:
                return Interval(start, start)
    return Interval(start, end)


def _period_marks(index: int, due: Interval, punches: list[datetime], rules: AttendanceRules) -> list[Mark]:
    grace, limit = rules.grace_min, rules.absence_min
    if not punches:
        return [Mark(MarkKind.ABSENT_HALF, index, _minutes(due.end - due.start))]
    marks: list[Mark] = []
    clock_in: datetime | None = punches[0]
    clock_out: datetime | None = punches[-1]
    if len(punches) == 1:
        # A single punch is the in-punch or the out-punch, whichever edge it is nearer.
        nearer_start = abs(punches[0] - due.start) <= abs(due.end - punches[0])
        clock_in, clock_out = (punches[0], None) if nearer_start else (None, punches[0])
        marks.append(Mark(MarkKind.MISSED_PUNCH, index))
    late = _minutes(clock_in - due.start) if clock_in else 0
    early = _minutes(due.end - clock_out) if clock_out else 0
    if late >= limit or early >= limit:
        return [*marks, Mark(MarkKind.ABSENT_HALF, index, max(late, early))]
    if late > grace:
        marks.append(Mark(MarkKind.LATE, index, late))
    if early > grace:
        marks.append(Mark(MarkKind.EARLY_LEAVE, index, early))
    if not marks:
        marks.append(Mark(MarkKind.ON_TIME, index))
    return marks


def evaluate_day(
    spans: list[Interval], punches: list[datetime], leaves: list[Interval], rules: AttendanceRules
) -> list[Mark]:
    """Marks for one officer's working day from its due periods, punches and approved leave."""
    ordered = sorted(_minute(p) for p in punches)
    marks: list[Mark] = []
    for index, (span, zone) in enumerate(zip(spans, _zones(spans), strict=True)):
        on_leave = _covered(span.start, span.end, leaves)
        if on_leave:
            marks.append(Mark(MarkKind.ON_LEAVE, index, on_leave))
        due = _effective(span, leaves)
        if due.end <= due.start:
            continue
        inside = [p for p in ordered if zone.start <= p < zone.end]
        marks.extend(_period_marks(index, due, inside, rules))
    if not ordered and all(m.kind is MarkKind.ABSENT_HALF for m in marks) and marks:
        # No punch at all on a working day, and no leave: one whole day's absence.
        return [Mark(MarkKind.ABSENT_DAY, None, sum(m.minutes for m in marks))]
    return marks
