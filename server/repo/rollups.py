"""Queries over the rating tallies: the upsert that keeps them current and the reads of summaries.

A whole-day range ``[first_day, end_day)`` is read as whole calendar months from ``rating_tally_month``
plus or minus days from ``rating_tally_day`` at either end (``read_plan``): a year is twelve month rows
per group, any range at most thirteen month rows and 32 day rows per group (times the shards in use,
at most ``TALLY_SHARDS``, for the department and item dimensions). Every read sums over the shards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, Table, func, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Dialect
from sqlmodel import Session

from server.models.rollups import (
    KEY_COLUMNS_DAY,
    KEY_COLUMNS_MONTH,
    LEVEL_COLUMNS,
    RatingTallyDay,
    RatingTallyMonth,
)
from server.repo import driver

TallyKey = tuple[str, date, int, int, int]  # dimension, day (or month's first day), department, key, shard
Counts = list[int]  # one count per level, indexed by level (0 = not rated)
DayRange = tuple[date | None, date | None]  # [first, end); None = open

DAY_TABLE: Table = RatingTallyDay.__table__  # type: ignore[attr-defined]
MONTH_TABLE: Table = RatingTallyMonth.__table__  # type: ignore[attr-defined]


def month_start(day: date) -> date:
    """The first day of the day's month."""
    return day.replace(day=1)


def next_month(day: date) -> date:
    """The first day of the month after the day's month."""
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def bump_tallies(
    session: Session, day_deltas: Mapping[TallyKey, Counts], month_deltas: Mapping[TallyKey, Counts]
) -> None:
    """Add count deltas to the day and month tallies (creating missing rows), one upsert per table.

    Rows go in sorted key order, the day table before the month table: concurrent transactions take
    their row locks in one global order and cannot deadlock on PostgreSQL.
    """
    dialect = session.get_bind().dialect
    for table, keys, deltas in (
        (DAY_TABLE, (*KEY_COLUMNS_DAY, "shard"), day_deltas),
        (MONTH_TABLE, (*KEY_COLUMNS_MONTH, "shard"), month_deltas),
    ):
        columns = (*keys, *LEVEL_COLUMNS)
        processors = driver.bind_processors(table, columns, dialect)
        rows = [
            driver.bound((*key, *counts), processors) for key, counts in sorted(deltas.items()) if any(counts)
        ]
        # Plain SQL through the driver, one statement and many parameter rows: this runs for every
        # ingested batch, inside SQLite's write lock.
        driver.execute_many(session, _upsert_sql(dialect, table, columns), rows)


@lru_cache(maxsize=8)
def _upsert_sql(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> str:
    """``INSERT .. ON CONFLICT (key) DO UPDATE SET n = table.n + excluded.n`` for every level column."""
    quote = dialect.identifier_preparer.quote
    name = quote(table.name)
    keys = ", ".join(quote(c.name) for c in table.primary_key.columns)
    sets = ", ".join(f"{quote(c)} = {name}.{quote(c)} + excluded.{quote(c)}" for c in LEVEL_COLUMNS)
    return (
        f"INSERT INTO {name} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({driver.marks(dialect, len(columns))}) ON CONFLICT ({keys}) DO UPDATE SET {sets}"
    )


def split_months(first_day: date | None, end_day: date | None) -> tuple[DayRange | None, list[DayRange]]:
    """``[first_day, end_day)`` as a range of whole months (or None) and the day ranges around it."""
    lo = first_day if first_day is None or first_day.day == 1 else next_month(first_day)
    hi = end_day if end_day is None or end_day.day == 1 else month_start(end_day)
    if lo is not None and hi is not None and lo >= hi:
        return None, [(first_day, end_day)]
    edges: list[DayRange] = []
    if first_day is not None and lo is not None and first_day < lo:
        edges.append((first_day, lo))
    if end_day is not None and hi is not None and hi < end_day:
        edges.append((hi, end_day))
    return (lo, hi), edges


@dataclass(frozen=True)
class ReadPlan:
    """What to sum for a range of days: month rows, plus day rows to add, minus day rows to subtract."""

    months: DayRange | None
    add_days: tuple[DayRange, ...] = ()
    subtract_days: tuple[DayRange, ...] = ()


def _partial_month(a: date, b: date) -> tuple[bool, list[DayRange], list[DayRange]]:
    """Days ``[a, b)`` of one month with the fewest rows: (use the month row?, add, subtract)."""
    first, end = month_start(a), next_month(a)
    if 1 + (a - first).days + (end - b).days < (b - a).days:
        return True, [], [r for r in ((first, a), (b, end)) if r[0] < r[1]]
    return False, [(a, b)], []


def read_plan(first_day: date | None, end_day: date | None) -> ReadPlan:
    """The fewest tally rows per key that sum to local days ``[first_day, end_day)``.

    Whole months come from the month tallies. A partial month at either end is read as its days, or
    as the month row minus the days left out, whichever is fewer: at most 16 day rows per end.
    """
    if first_day is not None and end_day is not None and first_day >= end_day:
        return ReadPlan(None)
    lo = first_day if first_day is None or first_day.day == 1 else next_month(first_day)
    hi = end_day if end_day is None or end_day.day == 1 else month_start(end_day)
    if first_day is not None and end_day is not None and lo is not None and hi is not None and lo > hi:
        whole, add, sub = _partial_month(first_day, end_day)  # inside one month
        return ReadPlan((hi, lo) if whole else None, tuple(add), tuple(sub))
    add_days: list[DayRange] = []
    subtract_days: list[DayRange] = []
    months_lo, months_hi = lo, hi
    if first_day is not None and lo is not None and first_day < lo:
        whole, add, sub = _partial_month(first_day, lo)
        months_lo = month_start(first_day) if whole else lo
        add_days += add
        subtract_days += sub
    if end_day is not None and hi is not None and hi < end_day:
        whole, add, sub = _partial_month(hi, end_day)
        months_hi = next_month(hi) if whole else hi
        add_days += add
        subtract_days += sub
    if months_lo is not None and months_hi is not None and months_lo >= months_hi:
        return ReadPlan(None, tuple(add_days), tuple(subtract_days))
    return ReadPlan((months_lo, months_hi), tuple(add_days), tuple(subtract_days))


def _where(table: Table, period: str, dimension: str, days: DayRange, department_id: int | None) -> list[Any]:
    conditions = [table.c.dimension == dimension]
    if days[0] is not None:
        conditions.append(table.c[period] >= days[0])
    if days[1] is not None:
        conditions.append(table.c[period] < days[1])
    if department_id is not None:
        conditions.append(table.c.department_id == department_id)
    return conditions


def _select(
    table: Table, period: str, dimension: str, days: DayRange, department_id: int | None, by_period: bool
) -> Select[Any]:
    cols: list[Any] = [table.c[period]] if by_period else []
    cols.append(table.c.key_id)
    stmt = sa_select(*cols, *(func.sum(table.c[c]) for c in LEVEL_COLUMNS))
    return stmt.where(*_where(table, period, dimension, days, department_id)).group_by(*cols)


def tally_rows(
    session: Session,
    dimension: str,
    first_day: date | None,
    end_day: date | None,
    department_id: int | None,
    *,
    grain: str = "month",
) -> list[tuple[date, int, Counts]]:
    """(period, key, counts) over local days ``[first_day, end_day)``.

    ``grain="day"``: one row per day and key, from the day tallies. ``grain="month"``: whole months
    come as one row per month (dated its first day) and key; the edge days as day rows.
    """
    if grain == "day":
        months, edges = None, [(first_day, end_day)]
    else:
        months, edges = split_months(first_day, end_day)
    parts = [(DAY_TABLE, "day", r) for r in edges]
    if months is not None:
        parts.append((MONTH_TABLE, "month", months))
    out: list[tuple[date, int, Counts]] = []
    for table, period, days in parts:
        stmt = _select(table, period, dimension, days, department_id, by_period=True)
        out.extend((row[0], int(row[1]), [int(n) for n in row[2:]]) for row in session.execute(stmt))
    return out


def tally_counts(
    session: Session,
    dimension: str,
    first_day: date | None,
    end_day: date | None,
    department_id: int | None,
) -> dict[int, Counts]:
    """Counts per key summed over local days ``[first_day, end_day)`` (see ``read_plan``)."""
    plan = read_plan(first_day, end_day)
    parts = [(DAY_TABLE, "day", r, 1) for r in plan.add_days]
    parts += [(DAY_TABLE, "day", r, -1) for r in plan.subtract_days]
    if plan.months is not None:
        parts.append((MONTH_TABLE, "month", plan.months, 1))
    if not parts:
        return {}
    # One statement: the database adds the parts up and returns one row per key.
    selects = [
        sa_select(
            table.c.key_id, *((table.c[c] if sign > 0 else -table.c[c]).label(c) for c in LEVEL_COLUMNS)
        ).where(*_where(table, period, dimension, days, department_id))
        for table, period, days, sign in parts
    ]
    both = union_all(*selects).subquery() if len(selects) > 1 else selects[0].subquery()
    stmt = sa_select(both.c.key_id, *(func.sum(both.c[c]) for c in LEVEL_COLUMNS)).group_by(both.c.key_id)
    return {int(row[0]): [int(n) for n in row[1:]] for row in session.execute(stmt)}


def rollup_counts(
    session: Session,
    group_by: str,
    first_day: date | None,
    end_day: date | None,
    department_id: int | None,
    *,
    by_day: bool = False,
) -> list[tuple[Any, ...]]:
    """(day?, group key, level, count) over local days ``[first_day, end_day)``; 0 = no key / not rated."""
    if by_day:
        rows = tally_rows(session, group_by, first_day, end_day, department_id, grain="day")
        return [(day, key, level, n) for day, key, counts in rows for level, n in enumerate(counts) if n]
    totals = tally_counts(session, group_by, first_day, end_day, department_id)
    return [(key, level, n) for key, counts in totals.items() for level, n in enumerate(counts) if n]
