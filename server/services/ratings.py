"""Rating aggregates (好差评 statistics) by officer, window, department or service item."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from common.events import BAD_LEVELS, LEVEL_NAMES
from server.models import Department, Officer, Rating, ServiceItem, Window
from server.repo import rollups as rollup_repo
from server.services.rollups import default_zone, whole_days


class GroupBy(StrEnum):
    """Dimensions a rating summary can be grouped by."""

    STAFF = "staff"
    WINDOW = "window"
    DEPARTMENT = "department"
    ITEM = "item"


_KEY_COLUMN: dict[GroupBy, Any] = {
    GroupBy.STAFF: Rating.officer_id,
    GroupBy.WINDOW: Rating.window_id,
    GroupBy.DEPARTMENT: Rating.department_id,
    GroupBy.ITEM: Rating.item_id,
}


_LEVEL_KEYS = tuple(str(lv) for lv in LEVEL_NAMES)
_BAD_KEYS = tuple(str(lv) for lv in sorted(BAD_LEVELS))


@dataclass
class SummaryRow:
    """Counts and rates of one group."""

    key: str
    label: str
    levels: dict[str, int] = field(default_factory=lambda: {str(lv): 0 for lv in LEVEL_NAMES})
    not_rated: int = 0

    @property
    def rated(self) -> int:
        """Services that got a rating."""
        return sum(self.levels.values())

    @property
    def services(self) -> int:
        """Services that ended, rated or not."""
        return self.rated + self.not_rated

    @property
    def bad(self) -> int:
        """Bad reviews (差评): levels 4 and 5."""
        return sum(self.levels[lv] for lv in _BAD_KEYS)

    def as_dict(self) -> dict[str, Any]:
        """JSON form with every rate next to the count it is based on."""
        rated = self.rated
        services, bad = rated + self.not_rated, self.bad
        return {
            "key": self.key,
            "label": self.label,
            "levels": self.levels,
            "rated": rated,
            "not_rated": self.not_rated,
            "services": services,
            "bad": bad,
            "satisfaction_rate": round((rated - bad) / rated, 4) if rated else None,
            "rating_rate": round(rated / services, 4) if services else None,
        }


def _labels(session: Session, group_by: GroupBy, keys: set[int]) -> dict[int, str]:
    # Plain columns, not ORM entities: a staff summary labels about a thousand officers.
    if not keys:
        return {}
    if group_by is GroupBy.STAFF:
        stmt = select(Officer.id, Officer.name, Officer.staff_no).where(col(Officer.id).in_(keys))
        return {oid: f"{name}（{staff_no}）" for oid, name, staff_no in session.exec(stmt) if oid}
    if group_by is GroupBy.WINDOW:
        rows = session.exec(select(Window.id, Window.number).where(col(Window.id).in_(keys)))
        return {wid: f"{number}号窗口" for wid, number in rows if wid}
    if group_by is GroupBy.DEPARTMENT:
        rows_d = session.exec(select(Department.id, Department.name).where(col(Department.id).in_(keys)))
        return {did: name for did, name in rows_d if did}
    rows_i = session.exec(select(ServiceItem.id, ServiceItem.name).where(col(ServiceItem.id).in_(keys)))
    return {iid: name for iid, name in rows_i if iid}


CountRow = tuple[int | None, int | None, int]  # group key, level (None = not rated), count


def _raw_counts(
    session: Session,
    group_by: GroupBy,
    start: datetime | None,
    end: datetime | None,
    department_id: int | None,
) -> list[CountRow]:
    key_col = _KEY_COLUMN[group_by]
    stmt = select(key_col, col(Rating.level), func.count()).where(col(Rating.excluded).is_(False))
    if start is not None:
        stmt = stmt.where(Rating.rated_at >= start)
    if end is not None:
        stmt = stmt.where(Rating.rated_at < end)
    if department_id is not None:
        stmt = stmt.where(Rating.department_id == department_id)
    stmt = stmt.group_by(key_col, col(Rating.level))
    return [(key, level, int(count)) for key, level, count in session.exec(stmt)]


def _tally_counts(
    session: Session, group_by: GroupBy, days: tuple[date | None, date | None], department_id: int | None
) -> dict[int, list[int]]:
    return rollup_repo.tally_counts(session, group_by.value, days[0], days[1], department_id)


def _tallies_as_counts(tallies: dict[int, list[int]]) -> list[CountRow]:
    # Tallies store "no officer / no item" as 0, the raw table as NULL; count index 0 is "not rated".
    return [
        (key or None, level or None, n)
        for key, counts in tallies.items()
        for level, n in enumerate(counts)
        if n
    ]


def _summary_from_tallies(
    session: Session, group_by: GroupBy, tallies: dict[int, list[int]]
) -> list[SummaryRow]:
    rows: dict[int | None, SummaryRow] = {}
    for key, counts in tallies.items():
        if any(counts):
            rows[key or None] = SummaryRow(
                key=str(key) if key else "",
                label="",
                levels=dict(zip(_LEVEL_KEYS, counts[1:], strict=True)),
                not_rated=counts[0],
            )
    return _labelled(session, group_by, rows)


def summary_rows(session: Session, group_by: GroupBy, counts: list[CountRow]) -> list[SummaryRow]:
    """Fold (key, level, count) rows into labelled summary rows, largest groups first."""
    rows: dict[int | None, SummaryRow] = {}
    for key, level, count in counts:
        if not count:
            continue
        row = rows.get(key)
        if row is None:
            row = rows[key] = SummaryRow(key="" if key is None else str(key), label="")
        if level is None:
            row.not_rated += count
        else:
            row.levels[str(level)] += count
    return _labelled(session, group_by, rows)


def _labelled(session: Session, group_by: GroupBy, rows: dict[int | None, SummaryRow]) -> list[SummaryRow]:
    labels = _labels(session, group_by, {k for k in rows if k is not None})
    for key, row in rows.items():
        row.label = labels.get(key, "未登记") if key is not None else "未登记"
    return sorted((r for r in rows.values() if r.services), key=lambda r: (-r.services, r.key))


def rating_counts(
    session: Session,
    group_by: GroupBy,
    start: datetime | None,
    end: datetime | None,
    department_id: int | None = None,
    tz: ZoneInfo | None = None,
) -> list[CountRow]:
    """Counted ratings per group and level: from the tallies for whole local days, else the raw table."""
    days = whole_days(start, end, tz or default_zone())
    if days is not None:
        return _tallies_as_counts(_tally_counts(session, group_by, days, department_id))
    return _raw_counts(session, group_by, start, end, department_id)


def rating_summary(
    session: Session,
    group_by: GroupBy,
    start: datetime | None,
    end: datetime | None,
    department_id: int | None = None,
    tz: ZoneInfo | None = None,
) -> list[dict[str, Any]]:
    """Counts per level, satisfaction rate and not-rated count per group, largest groups first."""
    days = whole_days(start, end, tz or default_zone())
    if days is not None:
        tallies = _tally_counts(session, group_by, days, department_id)
        return [r.as_dict() for r in _summary_from_tallies(session, group_by, tallies)]
    counts = _raw_counts(session, group_by, start, end, department_id)
    return [r.as_dict() for r in summary_rows(session, group_by, counts)]
