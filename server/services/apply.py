"""Apply freshly recorded edge events to the domain tables, per kind, in bulk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Dialect
from sqlmodel import Session

from common.events import (
    BAD_LEVELS,
    DeviceStatusPayload,
    EdgeEvent,
    EventKind,
    MisusePayload,
    PunchPayload,
)
from server.models import Device, DeviceStatusChange, MisuseSignal, Punch, Rating
from server.repo import devices as device_repo
from server.repo import driver, registry
from server.repo import rollups as rollup_repo
from server.repo.bulk import PreparedRows, insert_prepared, prepare_rows
from server.repo.rollups import Counts, TallyKey
from server.services import badges, enrollment, followups, rollups
from server.services.followups import FollowupPolicy
from server.services.ingest_cache import Links, WindowLink
from server.timeutil import to_db

Pair = tuple[EdgeEvent, Any]
RATING_TABLE = Rating.__table__  # type: ignore[attr-defined]


@dataclass
class PreparedRatings:
    """A batch's rating rows built before its write transaction, from the registry snapshot.

    ``rows`` holds the events whose officer and item the snapshot knows (by event id, in batch order),
    ``insert`` the same rows converted for the database, ``days``/``months`` their tally deltas;
    ``unresolved`` the events naming a staff number or item code the snapshot does not know, looked up
    again in the transaction. ``officers``/``items`` are the links used, for ``ingest_cache.confirm``.
    """

    rows: dict[str, dict[str, Any]]
    insert: PreparedRows
    days: dict[TallyKey, Counts]
    months: dict[TallyKey, Counts]
    unresolved: list[Pair]
    officers: dict[str, int]
    items: dict[str, int]


@dataclass
class ApplyContext:
    """What every apply step needs: the session, the sending device and its window."""

    session: Session
    device: Device
    window: WindowLink | None
    received_at: Any
    policy: FollowupPolicy = field(default_factory=FollowupPolicy)
    rejections: dict[str, str] = field(default_factory=dict)
    ratings: PreparedRatings | None = None

    def reject(self, event: EdgeEvent, reason: str) -> None:
        """Mark one event rejected with a reason."""
        self.rejections[str(event.id)] = reason


def _need_window(ctx: ApplyContext, pairs: list[Pair], what: str) -> WindowLink | None:
    if ctx.window is None:
        for event, _ in pairs:
            ctx.reject(event, f"{what} must come from a window's counter agent")
    return ctx.window


def _rating_rows(
    window: WindowLink, pairs: list[Pair], officers: dict[str, int], items: dict[str, int]
) -> tuple[list[dict[str, Any]], list[Pair]]:
    """Rating rows of the events whose staff number and item code are in ``officers``/``items``; the rest."""
    rows = []
    unresolved: list[Pair] = []
    for event, p in pairs:
        officer_id = officers.get(p.officer_staff_no) if p.officer_staff_no else None
        item_id = items.get(p.item_code) if p.item_code else None
        if (p.officer_staff_no and officer_id is None) or (p.item_code and item_id is None):
            unresolved.append((event, p))
            continue
        rows.append(
            {
                "event_id": str(event.id),
                "service_id": str(p.service_id),
                "window_id": window.id,
                "department_id": window.department_id,
                "officer_id": officer_id,
                "item_id": item_id,
                "level": p.level,
                "ticket_no": p.ticket_no,
                "case_no": p.case_no,
                "channel": p.channel,
                "reaction_ms": p.reaction_ms,
                "rated_at": to_db(event.device_time),
                "excluded": False,
            }
        )
    return rows, unresolved


def prepare_ratings(
    dialect: Dialect, window: WindowLink, pairs: list[Pair], links: Links, tz: ZoneInfo
) -> PreparedRatings:
    """Build (and convert) the rating rows of ``pairs`` from a registry snapshot, touching no table."""
    rows, unresolved = _rating_rows(window, pairs, links.officers_by_staff_no, links.items_by_code)
    days, months = rollups.tallies_of(rows, tz)
    officers = {
        p.officer_staff_no: links.officers_by_staff_no[p.officer_staff_no]
        for _, p in pairs
        if p.officer_staff_no in links.officers_by_staff_no
    }
    items = {
        p.item_code: links.items_by_code[p.item_code] for _, p in pairs if p.item_code in links.items_by_code
    }
    return PreparedRatings(
        rows={str(r["event_id"]): r for r in rows},
        insert=prepare_rows(dialect, RATING_TABLE, rows),
        days=days,
        months=months,
        unresolved=unresolved,
        officers=officers,
        items=items,
    )


def _looked_up_rows(ctx: ApplyContext, window: WindowLink, pairs: list[Pair]) -> list[dict[str, Any]]:
    """Rows of events the snapshot could not resolve, from the tables; refuse names still unknown."""
    officers = registry.officers_by_staff_no(
        ctx.session, {p.officer_staff_no for _, p in pairs if p.officer_staff_no}
    )
    items = registry.items_by_code(ctx.session, {p.item_code for _, p in pairs if p.item_code})
    rows, unknown = _rating_rows(
        window,
        pairs,
        {s: o.id for s, o in officers.items() if o.id is not None},
        {c: i.id for c, i in items.items() if i.id is not None},
    )
    for event, p in unknown:
        if p.officer_staff_no and p.officer_staff_no not in officers:
            ctx.reject(event, f"unknown officer staff number {p.officer_staff_no!r}")
        else:
            ctx.reject(event, f"unknown service item {p.item_code!r}")
    return rows


def _apply_ratings(ctx: ApplyContext, pairs: list[Pair]) -> None:
    window = _need_window(ctx, pairs, "a rating")
    if window is None:
        return
    dialect = ctx.session.get_bind().dialect
    prepared = ctx.ratings
    if prepared is None:  # nothing built before the transaction: every event is looked up here
        prepared = PreparedRatings({}, prepare_rows(dialect, RATING_TABLE, []), {}, {}, list(pairs), {}, {})
    fresh = {str(event.id) for event, _ in pairs}
    late = [(e, p) for e, p in prepared.unresolved if str(e.id) in fresh]
    extra = _looked_up_rows(ctx, window, late) if late else []
    rows = [r for event_id, r in prepared.rows.items() if event_id in fresh]
    if extra or len(rows) != len(prepared.rows):
        rows += extra
        insert = prepare_rows(dialect, RATING_TABLE, rows)
    else:
        insert = prepared.insert
    inserted = insert_prepared(ctx.session, insert, ["service_id"], "event_id")
    for row in rows:
        if row["event_id"] not in inserted:
            ctx.rejections[str(row["event_id"])] = "this service has already been rated (一次一评)"
    # Same transaction as the insert: the rollups and follow-ups never disagree with the ratings.
    if len(inserted) == len(prepared.rows) and not extra:
        days, months = prepared.days, prepared.months  # counted before the transaction began
    else:
        days, months = rollups.tallies_of([r for r in rows if r["event_id"] in inserted], ctx.policy.tz)
    rollup_repo.bump_tallies(ctx.session, days, months)
    bad = {str(r["event_id"]) for r in rows if r["event_id"] in inserted and r["level"] in BAD_LEVELS}
    if bad:
        followups.open_for_ratings(
            ctx.session, _with_ids(ctx.session, rows, bad), ctx.policy, ctx.received_at
        )


@dataclass(frozen=True)
class _NewRating:
    """A just-inserted rating row with its id, as a follow-up opens from it."""

    id: int | None
    window_id: int
    department_id: int
    officer_id: int | None
    level: int | None


def _with_ids(session: Session, rows: list[dict[str, Any]], event_ids: set[str]) -> list[_NewRating]:
    """The rows of ``event_ids`` with the ids the database gave them (one plain read)."""
    dialect = session.get_bind().dialect
    sql = driver.select_in(dialect, RATING_TABLE.name, ("event_id", "id"), "event_id", len(event_ids))
    ids = {event_id: rating_id for event_id, rating_id in driver.fetch(session, sql, list(event_ids))}
    return [
        _NewRating(ids[r["event_id"]], r["window_id"], r["department_id"], r["officer_id"], r["level"])
        for r in rows
        if r["event_id"] in event_ids
    ]


def _apply_punches(ctx: ApplyContext, pairs: list[Pair]) -> None:
    window = _need_window(ctx, pairs, "a punch")
    if window is None:
        return
    payloads: list[tuple[EdgeEvent, PunchPayload]] = list(pairs)
    by_badge = [(e, p) for e, p in payloads if p.badge_uid is not None]
    if by_badge:
        badges.record_punches(ctx.session, ctx.device.device_id, window.id, by_badge, ctx.reject)
    pages = {p.page for _, p in payloads if p.page is not None}
    enrolled = registry.enrolled_officers(ctx.session, ctx.device.device_id, pages)
    for event, p in payloads:
        if p.page is None:
            continue  # a badge punch, recorded above
        officer_id = enrolled.get(p.page)
        if officer_id is None:
            ctx.reject(
                event, f"fingerprint page {p.page} is not enrolled for reader {ctx.device.device_id!r}"
            )
            continue
        ctx.session.add(
            Punch(
                event_id=str(event.id),
                officer_id=officer_id,
                window_id=window.id,
                device_id=ctx.device.device_id,
                page=p.page,
                score=p.score,
                punched_at=to_db(event.device_time),
            )
        )


def _apply_device_status(ctx: ApplyContext, pairs: list[Pair]) -> None:
    ordered: list[tuple[EdgeEvent, DeviceStatusPayload]] = sorted(pairs, key=lambda pair: pair[0].device_time)
    for event, p in ordered:
        device_repo.record_state(
            ctx.session,
            DeviceStatusChange(
                device_id=ctx.device.device_id,
                device=p.device,
                device_kind=p.device_kind,
                state=p.state,
                reason=p.reason[:500],
                device_time=to_db(event.device_time),
                received_at=ctx.received_at,
            ),
        )


def _apply_misuse(ctx: ApplyContext, pairs: list[Pair]) -> None:
    window = _need_window(ctx, pairs, "a misuse signal")
    if window is None:
        return
    payloads: list[tuple[EdgeEvent, MisusePayload]] = list(pairs)
    officers = registry.officers_by_staff_no(
        ctx.session, {p.officer_staff_no for _, p in payloads if p.officer_staff_no}
    )
    for event, p in payloads:
        officer = officers.get(p.officer_staff_no) if p.officer_staff_no else None
        ctx.session.add(
            MisuseSignal(
                event_id=str(event.id),
                window_id=window.id,
                officer_id=officer.id if officer else None,
                signal=p.signal,
                key=p.key,
                happened_at=to_db(event.device_time),
            )
        )


def _apply_nothing(ctx: ApplyContext, pairs: list[Pair]) -> None:
    """Heartbeats only refresh the device's last-seen time, done for every batch."""


def _apply_enrollments(ctx: ApplyContext, pairs: list[Pair]) -> None:
    for event, payload in pairs:
        reason = enrollment.apply_result(ctx.session, ctx.device, payload)
        if reason:
            ctx.reject(event, reason)


APPLIERS: dict[EventKind, Callable[[ApplyContext, list[Pair]], None]] = {
    EventKind.RATING: _apply_ratings,
    EventKind.PUNCH: _apply_punches,
    EventKind.DEVICE_STATUS: _apply_device_status,
    EventKind.MISUSE: _apply_misuse,
    EventKind.HEARTBEAT: _apply_nothing,
    EventKind.ENROLLMENT: _apply_enrollments,
}


def apply_events(ctx: ApplyContext, pairs: list[Pair]) -> dict[str, str]:
    """Apply events grouped by kind; return event id -> rejection reason for those refused."""
    by_kind: dict[EventKind, list[Pair]] = {}
    for event, payload in pairs:
        by_kind.setdefault(event.kind, []).append((event, payload))
    for kind, group in by_kind.items():
        APPLIERS[kind](ctx, group)
    return ctx.rejections
