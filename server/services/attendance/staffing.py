"""不得空岗: stretches of working time with nobody clocked in at a window, from punches alone."""

from __future__ import annotations

from datetime import datetime, timedelta

from server.services.attendance.rules import Interval

_OPEN_END = timedelta(days=1)


def staffed_intervals(punches: list[tuple[datetime, int]]) -> list[Interval]:
    """When at least one officer was in, given one window's (time, officer id) punches of a day.

    Each punch toggles its officer between out and in, in time order; everybody starts the day out.
    """
    present: set[int] = set()
    since: datetime | None = None
    staffed: list[Interval] = []
    for at, officer_id in sorted(punches):
        present ^= {officer_id}
        if present and since is None:
            since = at
        elif not present and since is not None:
            staffed.append(Interval(since, at))
            since = None
    if since is not None:
        staffed.append(Interval(since, since + _OPEN_END))
    return staffed


def unstaffed_gaps(
    spans: list[Interval], punches: list[tuple[datetime, int]], limit_min: int, until: datetime
) -> list[Interval]:
    """Stretches of the working spans (up to ``until``) longer than ``limit_min`` with nobody in."""
    staffed = staffed_intervals(punches)
    limit = timedelta(minutes=limit_min)
    gaps: list[Interval] = []
    for span in spans:
        cursor, end = span.start, min(span.end, until)
        holes: list[Interval] = []
        for s in staffed:
            if s.end <= cursor or s.start >= end:
                continue
            if s.start > cursor:
                holes.append(Interval(cursor, s.start))
            cursor = max(cursor, s.end)
        if cursor < end:
            holes.append(Interval(cursor, end))
        gaps.extend(h for h in holes if h.end - h.start > limit)
    return gaps
