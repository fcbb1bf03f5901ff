"""Edge-event ingestion: validate each event, record it once, apply it once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import update
from sqlmodel import Session, col

from common.events import (
    BatchResult,
    EdgeEvent,
    EventOutcome,
    EventResult,
)
from server.models import Device, EdgeEventRecord, Window
from server.repo import devices as device_repo
from server.repo.bulk import insert_ignore
from server.services.apply import ApplyContext, apply_events
from server.services.followups import FollowupPolicy
from server.timeutil import to_db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Valid:
    index: int
    event_id: str
    event: EdgeEvent
    payload: Any


def _result(index: int, id: str | None, outcome: EventOutcome, reason: str | None = None) -> EventResult:
    # Built from values this module typed itself: no need to validate them again, 500 times a batch.
    return EventResult.model_construct(index=index, id=id, outcome=outcome, reason=reason)


def _reason(err: ValidationError) -> str:
    parts = []
    for item in err.errors()[:3]:
        where = ".".join(str(p) for p in item["loc"]) or "event"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def _raw_id(raw: Any) -> str | None:
    return str(raw.get("id"))[:36] if isinstance(raw, dict) and raw.get("id") is not None else None


def _validate(raw: Any, index: int, device_id: str) -> _Valid | EventResult:
    try:
        event = EdgeEvent.model_validate(raw)
        payload = event.typed_payload()
    except ValidationError as err:
        return _result(index=index, id=_raw_id(raw), outcome=EventOutcome.REJECTED, reason=_reason(err))
    event_id = str(event.id)
    if event.device_id != device_id:
        reason = f"event names device {event.device_id!r} but was sent with the key of {device_id!r}"
        return _result(index=index, id=event_id, outcome=EventOutcome.REJECTED, reason=reason)
    return _Valid(index, event_id, event, payload)


def _check_batch(raw_events: list[Any], device_id: str) -> tuple[dict[int, EventResult], list[_Valid]]:
    """Validate every event without touching the database (no lock is held meanwhile)."""
    results: dict[int, EventResult] = {}
    valid: list[_Valid] = []
    seen_in_batch: set[str] = set()
    for index, raw in enumerate(raw_events):
        checked = _validate(raw, index, device_id)
        if isinstance(checked, EventResult):
            results[index] = checked
        elif checked.event_id in seen_in_batch:
            results[index] = _result(index=index, id=checked.event_id, outcome=EventOutcome.DUPLICATE)
        else:
            seen_in_batch.add(checked.event_id)
            valid.append(checked)
    return results, valid


def _in_window(
    valid: list[_Valid], device: Device, window: Window | None, results: dict[int, EventResult]
) -> list[_Valid]:
    """Drop (as rejected) events that name another window than the device's own."""
    if window is None:
        return valid
    kept = []
    for v in valid:
        if v.event.window is not None and v.event.window != window.number:
            reason = (
                f"device {device.device_id!r} belongs to window {window.number}, not window {v.event.window}"
            )
            results[v.index] = _result(
                index=v.index, id=v.event_id, outcome=EventOutcome.REJECTED, reason=reason
            )
        else:
            kept.append(v)
    return kept


def ingest_batch(
    session: Session,
    device: Device,
    raw_events: list[Any],
    received_at: datetime,
    sent_at: datetime | None,
    policy: FollowupPolicy | None = None,
) -> BatchResult:
    """Apply a batch from one authenticated device; each event has exactly one effect however often sent."""
    results, valid = _check_batch(raw_events, device.device_id)
    window = session.get(Window, device.window_id) if device.window_id is not None else None
    valid = _in_window(valid, device, window, results)

    rows = [
        {
            "id": v.event_id,
            "kind": v.event.kind.value,
            "device_id": device.device_id,
            "window_number": v.event.window,
            "device_time": to_db(v.event.device_time),
            "received_at": received_at,
            "outcome": EventOutcome.ACCEPTED.value,
            "reason": None,
            "payload": v.event.payload,
        }
        for v in valid
    ]
    table = EdgeEventRecord.__table__  # type: ignore[attr-defined]
    inserted = insert_ignore(session, table, rows, ["id"], "id")
    fresh = [v for v in valid if v.event_id in inserted]
    ctx = ApplyContext(
        session=session,
        device=device,
        window=window,
        received_at=received_at,
        policy=policy or FollowupPolicy(),
    )
    rejections = apply_events(ctx, [(v.event, v.payload) for v in fresh])
    for reason, ids in _group(rejections).items():
        session.execute(
            update(table).where(col(EdgeEventRecord.id).in_(ids)).values(outcome="rejected", reason=reason)
        )
    for v in valid:
        event_id = v.event_id
        if event_id not in inserted:
            results[v.index] = _result(index=v.index, id=event_id, outcome=EventOutcome.DUPLICATE)
        elif event_id in rejections:
            results[v.index] = _result(
                index=v.index, id=event_id, outcome=EventOutcome.REJECTED, reason=rejections[event_id]
            )
        else:
            results[v.index] = _result(index=v.index, id=event_id, outcome=EventOutcome.ACCEPTED)

    offset = (to_db(sent_at) - received_at).total_seconds() if sent_at is not None else None
    device_repo.touch(session, device, received_at, offset)
    ordered = [results[i] for i in range(len(raw_events))]
    counts = {o: sum(1 for r in ordered if r.outcome == o) for o in EventOutcome}
    if counts[EventOutcome.REJECTED]:
        log.info("device %s: %d event(s) rejected", device.device_id, counts[EventOutcome.REJECTED])
    return BatchResult(
        accepted=counts[EventOutcome.ACCEPTED],
        duplicate=counts[EventOutcome.DUPLICATE],
        rejected=counts[EventOutcome.REJECTED],
        results=ordered,
        server_time=received_at,
    )


def _group(rejections: dict[str, str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for event_id, reason in rejections.items():
        grouped.setdefault(reason, []).append(event_id)
    return grouped
