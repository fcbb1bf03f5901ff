"""Turn the session's effects into edge events of the server contract."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from common.events import (
    DeviceStatusPayload,
    EdgeEvent,
    EventKind,
    MisusePayload,
    PunchPayload,
    RatingPayload,
    new_event,
)
from counter_agent.session import Effect, MisuseEffect, PunchEffect, RatingEffect


def to_event(effect: Effect, device_id: str, window: int) -> EdgeEvent:
    """The edge event recording one effect."""
    if isinstance(effect, RatingEffect):
        s = effect.service
        armed = datetime.fromtimestamp(s.armed_at, UTC) if s.armed_at is not None else None
        payload: RatingPayload | PunchPayload | MisusePayload = RatingPayload(
            service_id=UUID(s.service_id),
            level=effect.level,
            officer_staff_no=s.officer.staff_no,
            ticket_no=s.ticket_no,
            case_no=s.case_no,
            item_code=s.item_code,
            armed_at=armed,
            reaction_ms=effect.reaction_ms,
        )
        return new_event(EventKind.RATING, device_id, payload, window)
    if isinstance(effect, PunchEffect):
        payload = PunchPayload(page=effect.page, score=effect.score, officer_staff_no=effect.officer.staff_no)
        return new_event(EventKind.PUNCH, device_id, payload, window)
    if isinstance(effect, MisuseEffect):
        staff_no = effect.officer.staff_no if effect.officer else None
        payload = MisusePayload(signal=effect.signal, key=effect.key, officer_staff_no=staff_no)
        return new_event(EventKind.MISUSE, device_id, payload, window)
    raise TypeError(f"unknown effect {effect!r}")


def device_status_event(
    device_id: str, window: int, name: str, kind: str, state: str, reason: str
) -> EdgeEvent:
    """A device state change as an edge event."""
    payload = DeviceStatusPayload(device=name, device_kind=kind, state=state, reason=reason[:500])
    return new_event(EventKind.DEVICE_STATUS, device_id, payload, window)
