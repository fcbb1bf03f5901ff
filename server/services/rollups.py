"""Rating rollups: tallies per grouping key and hall-local day or month, kept current with the ratings."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from server.errors import ConflictError, NotFoundError
from server.models import Rating, RatingExclusion, User
from server.models.followups import ExclusionSource
from server.models.rollups import DIMENSION_COLUMNS, LEVEL_COLUMNS, NO_ID, NOT_RATED, tally_shard
from server.repo import rollups as repo
from server.repo.rollups import Counts, TallyKey, month_start
from server.settings import ServerSettings
from server.timeutil import to_db, utcnow

log = logging.getLogger(__name__)


def default_zone() -> ZoneInfo:
    """The hall's default time zone, used for tally days when no other is given."""
    return ZoneInfo(str(ServerSettings.model_fields["timezone"].default))


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    """The hall-local calendar day of an aware moment."""
    return to_db(moment).astimezone(tz).date()


def tallies_of(
    ratings: Iterable[Mapping[str, Any] | Rating], tz: ZoneInfo, sign: int = 1
) -> tuple[dict[TallyKey, Counts], dict[TallyKey, Counts]]:
    """The day and month tally deltas of ratings (models or insert rows): ``sign`` per rating.

    Each rating counts once per grouping dimension (staff, window, department, item), in the column
    of its level, on its hall-local day and in that day's month, in its window's shard of the key.
    """
    days: dict[TallyKey, Counts] = {}
    for rating in ratings:
        row: Mapping[str, Any] = rating if isinstance(rating, Mapping) else rating.model_dump()
        day = local_day(row["rated_at"], tz)
        department = int(row["department_id"])
        window_id = int(row["window_id"])
        level = row["level"] or NOT_RATED
        for dimension, column in DIMENSION_COLUMNS.items():
            key = (dimension, day, department, int(row[column] or NO_ID), tally_shard(dimension, window_id))
            counts = days.get(key)
            if counts is None:
                counts = days[key] = [0] * len(LEVEL_COLUMNS)
            counts[level] += sign
    months: dict[TallyKey, Counts] = {}
    for (dimension, day, department, key_id, shard), counts in days.items():
        month_key = (dimension, month_start(day), department, key_id, shard)
        total = months.setdefault(month_key, [0] * len(LEVEL_COLUMNS))
        for level, n in enumerate(counts):
            total[level] += n
    return days, months


def count_ratings(session: Session, ratings: Iterable[Mapping[str, Any] | Rating], tz: ZoneInfo) -> None:
    """Count freshly inserted ratings into the day and month tallies (same transaction as the insert)."""
    repo.bump_tallies(session, *tallies_of(ratings, tz))


def uncount_rating(session: Session, rating: Rating, tz: ZoneInfo) -> None:
    """Take an excluded rating out of the tallies."""
    repo.bump_tallies(session, *tallies_of([rating], tz, sign=-1))


def exclude_rating(
    session: Session, rating_id: int, reason: str, source: ExclusionSource, user: User, tz: ZoneInfo
) -> RatingExclusion:
    """Leave a rating out of the statistics (tallies updated); the rating and an audit record stay."""
    rating = session.get(Rating, rating_id, with_for_update=True)
    if rating is None:
        raise NotFoundError(f"评价 {rating_id} 不存在")
    if rating.excluded:
        raise ConflictError(f"评价 {rating_id} 已被剔除出统计")
    rating.excluded = True
    session.add(rating)
    uncount_rating(session, rating, tz)
    record = RatingExclusion(
        rating_id=rating_id, source=source.value, reason=reason, decided_by=user.username, decided_at=utcnow()
    )
    session.add(record)
    log.info("rating %s excluded from statistics (%s) by %s", rating_id, source.value, user.username)
    return record


def _local_midnight(moment: datetime, tz: ZoneInfo) -> date | None:
    local = to_db(moment).astimezone(tz)
    return local.date() if local.timetz().replace(tzinfo=None) == time(0) else None


def whole_days(
    start: datetime | None, end: datetime | None, tz: ZoneInfo
) -> tuple[date | None, date | None] | None:
    """``[first_day, end_day)`` when both bounds fall on local midnights (or are open), else None."""
    first = _local_midnight(start, tz) if start is not None else None
    last = _local_midnight(end, tz) if end is not None else None
    if (start is not None and first is None) or (end is not None and last is None):
        return None
    return first, last
