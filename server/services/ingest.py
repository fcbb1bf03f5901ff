"""Edge-event ingestion: validate each event, record it once, apply it once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import update
from sqlalchemy.engine import Connection, Dialect
from sqlmodel import Session, col

from common.events import (
    BatchResult,
    EdgeEvent,
    EventKind,
    EventOutcome,
    EventResult,
)
from server.db import read_only_engine
from server.models import Device, EdgeEventRecord
from server.repo import devices as device_repo
from server.repo.bulk import PreparedRows, insert_prepared, prepare_rows
from server.services import ingest_cache
from server.services.apply import ApplyContext, PreparedRatings, apply_events, prepare_ratings
from server.services.followups import FollowupPolicy
from server.services.ingest_cache import WindowLink
from server.timeutil import to_db

log = logging.getLogger(__name__)

EDGE_TABLE = EdgeEventRecord.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Valid:
    index: int
    event_id: str
    event: EdgeEvent
    payload: Any


def _result(index: int, id: str | None, outcome: EventOutcome, reason: str | None = None) -> EventResult:
    # Plain construction: pydantic's validation (compiled) is about twice as fast as its Python-level
    # model_construct for a model this small, and this runs for every event of every batch.
    return EventResult(index=index, id=id, outcome=outcome, reason=reason)


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
    valid: list[_Valid], device: Device, window: WindowLink | None, results: dict[int, EventResult]
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


@dataclass
class _Plan:
    """Everything a batch writes that can be worked out before its write transaction."""

    window: WindowLink | None
    results: dict[int, EventResult]  # events refused for naming another window
    valid: list[_Valid]  # the rest
    edges: PreparedRows
    ratings: PreparedRatings | None


def _snapshot(session: Session, device: Device, valid: list[_Valid]) -> ingest_cache.Links:
    """The registry snapshot, reloaded if it lacks the device's window or a name the batch uses."""
    snapshot = ingest_cache.links(session)
    staff = {v.payload.officer_staff_no for v in valid if v.event.kind is EventKind.RATING}
    codes = {v.payload.item_code for v in valid if v.event.kind is EventKind.RATING}
    staff.discard(None)
    codes.discard(None)
    window_missing = device.window_id is not None and device.window_id not in snapshot.windows_by_id
    if window_missing or not snapshot.knows(staff, codes):
        snapshot = ingest_cache.links(session, reload=True)
    return snapshot


def _outside_write(session: Session, device: Device, valid: list[_Valid]) -> ingest_cache.Links:
    """``_snapshot`` read beside the writer: a (re)load never takes SQLite's write lock.

    The snapshot is kept per database, so the read-only session shares it; while it is fresh that
    session touches no connection at all.
    """
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    with Session(read_only_engine(engine)) as reader:
        return _snapshot(reader, device, valid)


def _plan(
    dialect: Dialect,
    device: Device,
    valid: list[_Valid],
    snapshot: ingest_cache.Links,
    received_at: datetime,
    tz: ZoneInfo,
) -> _Plan:
    """Rows of the edge events and the ratings among them, built and converted from the snapshot."""
    window = snapshot.windows_by_id.get(device.window_id) if device.window_id is not None else None
    results: dict[int, EventResult] = {}
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
    ratings = [(v.event, v.payload) for v in valid if v.event.kind is EventKind.RATING]
    prepared = prepare_ratings(dialect, window, ratings, snapshot, tz) if window and ratings else None
    return _Plan(window, results, valid, prepare_rows(dialect, EDGE_TABLE, rows), prepared)


def _confirmed(session: Session, device: Device, plan: _Plan) -> bool:
    """True when the tables (read in the write transaction) still hold every link the plan used."""
    if plan.window is None:
        return device.window_id is None  # a window unknown to the snapshot is looked up again
    officers = plan.ratings.officers if plan.ratings else {}
    items = plan.ratings.items if plan.ratings else {}
    return ingest_cache.confirm(session, plan.window, officers, items)


@dataclass
class Recorded:
    """What ``record_batch`` did with each event, before it is told back to the device."""

    count: int
    results: dict[int, EventResult]  # refused before the database was asked
    valid: list[_Valid]
    inserted: set[str]
    rejections: dict[str, str]
    received_at: datetime
    device_id: str


@dataclass
class BatchPlan:
    """A batch as checked and built before its write transaction (``plan_batch``)."""

    device: Device
    count: int
    results: dict[int, EventResult]  # refused without asking the database
    valid: list[_Valid]
    plan: _Plan
    received_at: datetime
    clock_offset_s: float | None
    policy: FollowupPolicy


def plan_batch(
    session: Session,
    device: Device,
    raw_events: list[Any],
    received_at: datetime,
    sent_at: datetime | None,
    policy: FollowupPolicy | None = None,
) -> BatchPlan:
    """Validate a batch and build its rows and tally deltas; writes nothing, takes no write lock.

    ``session`` only reads (the registry snapshot, when it must be read again); a read-only session
    is best. ``write_batch`` then applies the plan in a write transaction.
    """
    policy = policy or FollowupPolicy()
    results, valid = _check_batch(raw_events, device.device_id)
    dialect = session.get_bind().dialect
    snapshot = _outside_write(session, device, valid)
    plan = _plan(dialect, device, valid, snapshot, received_at, policy.tz)
    offset = (to_db(sent_at) - received_at).total_seconds() if sent_at is not None else None
    return BatchPlan(device, len(raw_events), results, valid, plan, received_at, offset, policy)


def write_batch(session: Session, batch: BatchPlan) -> Recorded:
    """Apply a planned batch in the session's (write) transaction; ``batch_result`` tells the outcome.

    The links the plan used are checked first (and the rows built again if the registry changed);
    then the events already recorded are skipped, the rest inserted and applied. Committing before
    ``batch_result`` keeps the building of the answer out of the transaction (on SQLite: out of the
    write lock).
    """
    device, plan, policy = batch.device, batch.plan, batch.policy
    results = dict(batch.results)
    if not _confirmed(session, device, plan):
        log.warning("registry changed since it was cached: building batch rows again")
        ingest_cache.forget(session)
        snapshot = _snapshot(session, device, batch.valid)
        dialect = session.get_bind().dialect
        plan = _plan(dialect, device, batch.valid, snapshot, batch.received_at, policy.tz)
    results.update(plan.results)

    inserted = insert_prepared(session, plan.edges, ["id"], "id")
    fresh = [v for v in plan.valid if v.event_id in inserted]
    ctx = ApplyContext(
        session=session,
        device=device,
        window=plan.window,
        received_at=batch.received_at,
        policy=policy,
        ratings=plan.ratings,
    )
    rejections = apply_events(ctx, [(v.event, v.payload) for v in fresh])
    for reason, ids in _group(rejections).items():
        session.execute(
            update(EDGE_TABLE)
            .where(col(EdgeEventRecord.id).in_(ids))
            .values(outcome="rejected", reason=reason)
        )
    device_repo.touch(session, device, batch.received_at, batch.clock_offset_s)
    return Recorded(
        batch.count, results, plan.valid, inserted, rejections, batch.received_at, device.device_id
    )


def record_batch(
    session: Session,
    device: Device,
    raw_events: list[Any],
    received_at: datetime,
    sent_at: datetime | None,
    policy: FollowupPolicy | None = None,
) -> Recorded:
    """``plan_batch`` then ``write_batch`` in one session (the plan read beside the writer)."""
    return write_batch(session, plan_batch(session, device, raw_events, received_at, sent_at, policy))


def batch_result(recorded: Recorded) -> BatchResult:
    """The per-event outcomes of a recorded batch, in the order sent."""
    results = recorded.results
    inserted, rejections = recorded.inserted, recorded.rejections
    for v in recorded.valid:
        event_id = v.event_id
        if event_id not in inserted:
            results[v.index] = _result(index=v.index, id=event_id, outcome=EventOutcome.DUPLICATE)
        elif event_id in rejections:
            results[v.index] = _result(
                index=v.index, id=event_id, outcome=EventOutcome.REJECTED, reason=rejections[event_id]
            )
        else:
            results[v.index] = _result(index=v.index, id=event_id, outcome=EventOutcome.ACCEPTED)
    ordered = [results[i] for i in range(recorded.count)]
    counts = {o: sum(1 for r in ordered if r.outcome == o) for o in EventOutcome}
    if counts[EventOutcome.REJECTED]:
        log.info("device %s: %d event(s) rejected", recorded.device_id, counts[EventOutcome.REJECTED])
    return BatchResult(
        accepted=counts[EventOutcome.ACCEPTED],
        duplicate=counts[EventOutcome.DUPLICATE],
        rejected=counts[EventOutcome.REJECTED],
        results=ordered,
        server_time=recorded.received_at,
    )


def ingest_batch(
    session: Session,
    device: Device,
    raw_events: list[Any],
    received_at: datetime,
    sent_at: datetime | None,
    policy: FollowupPolicy | None = None,
) -> BatchResult:
    """Apply a batch from one authenticated device; each event has exactly one effect however often sent."""
    return batch_result(record_batch(session, device, raw_events, received_at, sent_at, policy))


def _group(rejections: dict[str, str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for event_id, reason in rejections.items():
        grouped.setdefault(reason, []).append(event_id)
    return grouped
