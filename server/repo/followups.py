"""Queries over rating rollups, exclusions, follow-ups and complaints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, and_, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from server.models import (
    Complaint,
    Followup,
    FollowupNote,
    MisuseSignal,
    Rating,
    RatingExclusion,
    RatingRollup,
)
from server.models.followups import FollowupStatus

RollupKey = tuple[date, int, int, int, int, int]  # day, window, officer, department, item, level
ROLLUP_KEY_COLUMNS = ("day", "window_id", "officer_id", "department_id", "item_id", "level")

ROLLUP_GROUP_COLUMNS: dict[str, Any] = {
    "staff": RatingRollup.officer_id,
    "window": RatingRollup.window_id,
    "department": RatingRollup.department_id,
    "item": RatingRollup.item_id,
}


def bump_rollups(session: Session, deltas: Mapping[RollupKey, int]) -> None:
    """Add each delta to its rollup count in one upsert (count = count + n), creating missing rows."""
    rows = [
        dict(zip(ROLLUP_KEY_COLUMNS, key, strict=True), count=n) for key, n in sorted(deltas.items()) if n
    ]
    if not rows:
        return
    table: Table = RatingRollup.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).values(rows)
    # Keys are sorted above so concurrent batches take row locks in one order and cannot deadlock.
    stmt = stmt.on_conflict_do_update(
        index_elements=list(ROLLUP_KEY_COLUMNS), set_={"count": table.c["count"] + stmt.excluded["count"]}
    )
    session.execute(stmt)


def rollup_counts(
    session: Session,
    group_by: str,
    first_day: date | None,
    end_day: date | None,
    department_id: int | None,
    *,
    by_day: bool = False,
) -> list[tuple[Any, ...]]:
    """(day?, group key, level, count) summed over rollups of days in [first_day, end_day)."""
    key_col = ROLLUP_GROUP_COLUMNS[group_by]
    cols: list[Any] = [col(RatingRollup.day)] if by_day else []
    cols += [key_col, col(RatingRollup.level)]
    stmt = sa_select(*cols, func.sum(RatingRollup.count))
    if first_day is not None:
        stmt = stmt.where(col(RatingRollup.day) >= first_day)
    if end_day is not None:
        stmt = stmt.where(col(RatingRollup.day) < end_day)
    if department_id is not None:
        stmt = stmt.where(col(RatingRollup.department_id) == department_id)
    stmt = stmt.group_by(*cols)
    return [tuple(row) for row in session.execute(stmt)]


def ratings_by_event_ids(session: Session, event_ids: set[str]) -> Sequence[Rating]:
    """Ratings recorded from the given edge events."""
    if not event_ids:
        return []
    return session.exec(select(Rating).where(col(Rating.event_id).in_(event_ids))).all()


def exclusion_of(session: Session, rating_id: int) -> RatingExclusion | None:
    """The exclusion record of a rating, if it was excluded."""
    return session.exec(select(RatingExclusion).where(RatingExclusion.rating_id == rating_id)).first()


def ratings_between(session: Session, start: datetime | None, end: datetime | None) -> Sequence[Rating]:
    """Every rating (counted or not) in a period, by window and time, for burst detection."""
    stmt = select(Rating).order_by(col(Rating.window_id), col(Rating.rated_at))
    if start is not None:
        stmt = stmt.where(Rating.rated_at >= start)
    if end is not None:
        stmt = stmt.where(Rating.rated_at < end)
    return session.exec(stmt).all()


def misuse_counts(
    session: Session, start: datetime | None, end: datetime | None
) -> list[tuple[int, int | None, str, int]]:
    """(window, officer, signal, count) of keypad misuse signals in a period."""
    cols = (col(MisuseSignal.window_id), col(MisuseSignal.officer_id), col(MisuseSignal.signal))
    stmt = select(*cols, func.count())
    if start is not None:
        stmt = stmt.where(MisuseSignal.happened_at >= start)
    if end is not None:
        stmt = stmt.where(MisuseSignal.happened_at < end)
    return [(w, o, s, n) for w, o, s, n in session.exec(stmt.group_by(*cols))]


def list_followups(
    session: Session,
    *,
    status: str | None,
    overdue_on: date | None,
    department_id: int | None,
    officer_id: int | None,
    limit: int,
) -> Sequence[Followup]:
    """Follow-ups, newest first; ``overdue_on`` keeps those past a deadline on that day."""
    stmt = select(Followup).order_by(col(Followup.opened_at).desc()).limit(limit)
    if status:
        stmt = stmt.where(Followup.status == status)
    if department_id is not None:
        stmt = stmt.where(Followup.department_id == department_id)
    if officer_id is not None:
        stmt = stmt.where(Followup.officer_id == officer_id)
    if overdue_on is not None:
        stmt = stmt.where(
            or_(
                and_(
                    col(Followup.status) == FollowupStatus.OPEN.value, col(Followup.verify_due) < overdue_on
                ),
                and_(
                    col(Followup.status) != FollowupStatus.CLOSED.value,
                    col(Followup.rectify_due) < overdue_on,
                ),
            )
        )
    return session.exec(stmt).all()


def notes_of(session: Session, followup_id: int) -> Sequence[FollowupNote]:
    """A follow-up's history, oldest first."""
    stmt = select(FollowupNote).where(FollowupNote.followup_id == followup_id)
    return session.exec(stmt.order_by(col(FollowupNote.created_at), col(FollowupNote.id))).all()


def list_complaints(
    session: Session, *, department_id: int | None, unanswered: bool | None, limit: int
) -> Sequence[Complaint]:
    """Complaints, newest first."""
    stmt = select(Complaint).order_by(col(Complaint.received_at).desc()).limit(limit)
    if department_id is not None:
        stmt = stmt.where(Complaint.department_id == department_id)
    if unanswered is not None:
        stmt = stmt.where(
            col(Complaint.answered_at).is_(None) if unanswered else col(Complaint.answered_at).isnot(None)
        )
    return session.exec(stmt).all()
