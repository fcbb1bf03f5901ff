"""Apply freshly recorded edge events to the domain tables, per kind, in bulk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from common.events import (
    BAD_LEVELS,
    DeviceStatusPayload,
    EdgeEvent,
    EventKind,
    MisusePayload,
    PunchPayload,
    RatingPayload,
)
from server.models import Device, DeviceStatusChange, MisuseSignal, Punch, Rating, Window
from server.repo import devices as device_repo
from server.repo import followups as followup_repo
from server.repo import registry
from server.repo.bulk import insert_ignore
from server.services import badges, enrollment, followups, rollups
from server.services.followups import FollowupPolicy
from server.timeutil import to_db

Pair = tuple[EdgeEvent, Any]


@dataclass
class ApplyContext:
    """What every apply step needs: the session, the sending device and its window."""

    session: Session
    device: Device
    window: Window | None
    received_at: Any
    policy: FollowupPolicy = field(default_factory=FollowupPolicy)
    rejections: dict[str, str] = field(default_factory=dict)

    def reject(self, event: EdgeEvent, reason: str) -> None:
        """Mark one event rejected with a reason."""
        self.rejections[str(event.id)] = reason


def _need_window(ctx: ApplyContext, pairs: list[Pair], what: str) -> Window | None:
    if ctx.window is None:
        for event, _ in pairs:
            ctx.reject(event, f"{what} must come from a window's counter agent")
    return ctx.window


def _apply_ratings(ctx: ApplyContext, pairs: list[Pair]) -> None:
    window = _need_window(ctx, pairs, "a rating")
    if window is None or window.id is None:
        return
    payloads: list[tuple[EdgeEvent, RatingPayload]] = list(pairs)
    officers = registry.officers_by_staff_no(
        ctx.session, {p.officer_staff_no for _, p in payloads if p.officer_staff_no}
    )
    items = registry.items_by_code(ctx.session, {p.item_code for _, p in payloads if p.item_code})
    rows = []
    for event, p in payloads:
        officer = officers.get(p.officer_staff_no) if p.officer_staff_no else None
        item = items.get(p.item_code) if p.item_code else None
        if p.officer_staff_no and officer is None:
            ctx.reject(event, f"unknown officer staff number {p.officer_staff_no!r}")
            continue
        if p.item_code and item is None:
            ctx.reject(event, f"unknown service item {p.item_code!r}")
            continue
        rows.append(
            {
                "event_id": str(event.id),
                "service_id": str(p.service_id),
                "window_id": window.id,
                "department_id": window.department_id,
                "officer_id": officer.id if officer else None,
                "item_id": item.id if item else None,
                "level": p.level,
                "ticket_no": p.ticket_no,
                "case_no": p.case_no,
                "channel": p.channel,
                "reaction_ms": p.reaction_ms,
                "rated_at": to_db(event.device_time),
                "excluded": False,
            }
        )
    table = Rating.__table__  # type: ignore[attr-defined]
    inserted = insert_ignore(ctx.session, table, rows, ["service_id"], "event_id")
    for row in rows:
        if row["event_id"] not in inserted:
            ctx.rejections[str(row["event_id"])] = "this service has already been rated (一次一评)"
    # Same transaction as the insert: the rollups and follow-ups never disagree with the ratings.
    rollups.count_ratings(ctx.session, [r for r in rows if r["event_id"] in inserted], ctx.policy.tz)
    bad = {str(r["event_id"]) for r in rows if r["event_id"] in inserted and r["level"] in BAD_LEVELS}
    if bad:
        fresh = list(followup_repo.ratings_by_event_ids(ctx.session, bad))
        followups.open_for_ratings(ctx.session, fresh, ctx.policy, ctx.received_at)


def _apply_punches(ctx: ApplyContext, pairs: list[Pair]) -> None:
    window = _need_window(ctx, pairs, "a punch")
    if window is None or window.id is None:
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
    if window is None or window.id is None:
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
