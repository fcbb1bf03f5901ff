"""Rating analytics from the tallies: rates per period, confidence-aware rankings, misuse signals."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from server.models import Rating
from server.repo import followups as followup_repo
from server.repo import registry
from server.repo import rollups as rollup_repo
from server.services.ratings import CountRow, GroupBy, SummaryRow, summary_rows

Z_95 = 1.959963984540054  # two-sided 95 % normal quantile


class Period(StrEnum):
    """Bucket size of an analytics series."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def bucket(day: date, period: Period) -> str:
    """The label of the period a day falls in: 2026-11-23, 2026-W48 (ISO week) or 2026-11."""
    if period is Period.DAY:
        return day.isoformat()
    if period is Period.WEEK:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day:%Y-%m}"


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def rates(row: SummaryRow) -> dict[str, Any]:
    """Counts and rates of one group; every rate sits next to the counts it is made of."""
    satisfied = row.rated - row.bad  # levels 1-3
    return {
        "key": row.key,
        "label": row.label,
        "levels": row.levels,
        "services": row.services,
        "rated": row.rated,
        "not_rated": row.not_rated,
        "satisfied": satisfied,
        "bad": row.bad,
        "satisfaction_rate": _ratio(satisfied, row.rated),  # 好评率 = levels 1-3 / rated
        "active_rating_rate": _ratio(row.rated, row.services),  # 主动评价率 = rated / services
        "not_rated_rate": _ratio(row.not_rated, row.services),
        "bad_rate": _ratio(row.bad, row.rated),
    }


def analytics(
    session: Session,
    group_by: GroupBy,
    period: Period,
    first_day: date,
    end_day: date,
    department_id: int | None,
) -> list[dict[str, Any]]:
    """Rates per period bucket and group over local days ``[first_day, end_day)``, oldest bucket first."""
    # Month buckets read whole months from the month tallies (edge days from the day tallies).
    grain = "month" if period is Period.MONTH else "day"
    tallies = rollup_repo.tally_rows(session, group_by.value, first_day, end_day, department_id, grain=grain)
    per_bucket: dict[str, list[CountRow]] = defaultdict(list)
    for day, key, counts in tallies:
        rows = per_bucket[bucket(day, period)]
        rows.extend((key or None, level or None, n) for level, n in enumerate(counts) if n)
    out = []
    for label in sorted(per_bucket):
        for row in summary_rows(session, group_by, per_bucket[label]):
            out.append({"period": label, **rates(row)})
    return out


def wilson_lower_bound(successes: int, trials: int, z: float = Z_95) -> float:
    """Lower bound of the Wilson score interval of a proportion; 0 with no trials."""
    if trials <= 0:
        return 0.0
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    margin = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return (centre - margin) / (1 + z2 / trials)


def ranking(
    session: Session, counts: list[CountRow], group_by: GroupBy, min_rated: int
) -> list[dict[str, Any]]:
    """Groups ranked by the Wilson lower bound of their satisfaction rate, best first."""
    rows: list[dict[str, Any]] = []
    for row in summary_rows(session, group_by, counts):
        if row.rated < min_rated:
            continue
        score = wilson_lower_bound(row.rated - row.bad, row.rated)
        rows.append({"score": round(score, 4), **rates(row)})
    rows.sort(key=lambda r: (-r["score"], -r["rated"], r["key"]))
    for rank, r in enumerate(rows, start=1):
        r["rank"] = rank
    return rows


@dataclass
class Burst:
    """Several ratings within a short time at one window: a sign someone else pressed the keys."""

    window_id: int
    ratings: list[Rating]

    def as_dict(self, window_numbers: dict[int, int]) -> dict[str, Any]:
        """JSON form with the flagged ratings, each showing whether it is excluded."""
        return {
            "window": window_numbers.get(self.window_id),
            "started_at": self.ratings[0].rated_at.isoformat(),
            "ended_at": self.ratings[-1].rated_at.isoformat(),
            "count": len(self.ratings),
            "ratings": [
                {"id": r.id, "level": r.level, "officer_id": r.officer_id, "excluded": r.excluded}
                for r in self.ratings
            ],
        }


def find_bursts(ratings: list[Rating], gap_s: float, min_count: int) -> list[Burst]:
    """Runs of ``min_count`` or more ratings at one window, each within ``gap_s`` of the previous one."""
    bursts: list[Burst] = []
    run: list[Rating] = []
    for r in ratings:  # ordered by window, then time
        if run and (
            r.window_id != run[-1].window_id or r.rated_at - run[-1].rated_at > timedelta(seconds=gap_s)
        ):
            if len(run) >= min_count:
                bursts.append(Burst(run[0].window_id, run))
            run = []
        run.append(r)
    if len(run) >= min_count:
        bursts.append(Burst(run[0].window_id, run))
    return bursts


def misuse_report(
    session: Session,
    start: datetime | None,
    end: datetime | None,
    gap_s: float,
    min_count: int,
    department_id: int | None,
) -> dict[str, Any]:
    """Misuse signals from the agents and server-found bursts, per window and officer."""
    windows = {w.id: w for w in registry.all_windows(session) if w.id is not None}
    officers = {o.id: o for o in registry.all_officers(session) if o.id is not None}
    in_scope = {wid for wid, w in windows.items() if department_id in (None, w.department_id)}
    per: dict[tuple[int, int | None], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for window_id, officer_id, signal, count in followup_repo.misuse_counts(session, start, end):
        if window_id in in_scope:
            per[(window_id, officer_id)][signal] += count
    rated = [r for r in followup_repo.ratings_between(session, start, end) if r.level is not None]
    bursts = [b for b in find_bursts(rated, gap_s, min_count) if b.window_id in in_scope]
    for b in bursts:
        for r in b.ratings:
            per[(b.window_id, r.officer_id)]["burst_ratings"] += 1
    numbers = {wid: w.number for wid, w in windows.items()}
    rows: list[dict[str, Any]] = [
        {
            "window": numbers.get(wid),
            "officer": f"{officers[oid].name}（{officers[oid].staff_no}）" if oid in officers else "未登记",
            "signals": dict(sig),
            "total": sum(sig.values()),
        }
        for (wid, oid), sig in per.items()
    ]
    rows.sort(key=lambda r: (-r["total"], r["window"] or 0))
    return {"rows": rows, "bursts": [b.as_dict(numbers) for b in bursts]}
