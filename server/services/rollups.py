"""Rating rollups: counts per hall-local day, kept current in the transaction that records ratings."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from server.errors import ConflictError, NotFoundError
from server.models import Rating, RatingExclusion, User
from server.models.followups import NO_ID, NOT_RATED, ExclusionSource
from server.repo import followups as repo
from server.repo.followups import RollupKey
from server.settings import ServerSettings
from server.timeutil import to_db, utcnow

log = logging.getLogger(__name__)


def default_zone() -> ZoneInfo:
    """The hall's default time zone, used for rollup days when no other is given."""
    return ZoneInfo(str(ServerSettings.model_fields["timezone"].default))


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    """The hall-local calendar day of an aware moment."""
    return to_db(moment).astimezone(tz).date()


def key_of(rating: Mapping[str, Any] | Rating, tz: ZoneInfo) -> RollupKey:
    """The rollup row a rating (model or insert row) is counted in."""
    row: Mapping[str, Any] = rating if isinstance(rating, Mapping) else rating.model_dump()
    return (
        local_day(row["rated_at"], tz),
        int(row["window_id"]),
        row["officer_id"] or NO_ID,
        int(row["department_id"]),
        row["item_id"] or NO_ID,
        row["level"] or NOT_RATED,
    )


def count_ratings(session: Session, ratings: Iterable[Mapping[str, Any] | Rating], tz: ZoneInfo) -> None:
    """Count freshly inserted ratings into the rollups."""
    bump(session, Counter(key_of(r, tz) for r in ratings))


def uncount_rating(session: Session, rating: Rating, tz: ZoneInfo) -> None:
    """Take an excluded rating out of the rollups."""
    bump(session, {key_of(rating, tz): -1})


def bump(session: Session, deltas: Mapping[RollupKey, int]) -> None:
    """Apply count deltas to the rollups."""
    repo.bump_rollups(session, deltas)


def exclude_rating(
    session: Session, rating_id: int, reason: str, source: ExclusionSource, user: User, tz: ZoneInfo
) -> RatingExclusion:
    """Leave a rating out of the statistics (rollups updated); the rating and an audit record stay."""
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
