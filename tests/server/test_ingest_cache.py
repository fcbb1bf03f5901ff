"""Ingestion's registry snapshot: a stale one never records a wrong link; events still count once."""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from common.events import EdgeEvent
from server.db import session_scope
from server.models import Department, Device, EdgeEventRecord, Followup, Officer, Rating, Window
from server.repo import rollups as rollup_repo
from server.repo.bulk import insert_prepared, prepare_rows
from server.services import ingest_cache
from server.services.apply import ApplyContext, apply_events
from server.services.ingest import _outside_write, batch_result, ingest_batch, record_batch
from server.timeutil import utcnow
from tests.server.conftest import Hall
from tests.server.events_util import batch, rating

_examples = itertools.count()


def post(hall: Hall, device_id: str, body: dict[str, Any]) -> dict[str, Any]:
    r = hall.client.post("/api/v1/events", json=body, headers=hall.device_headers(device_id))
    assert r.status_code == 200, r.text
    return dict(r.json())


def _rating_of(hall: Hall, event_id: str) -> Rating:
    with Session(hall.engine) as s:
        return s.exec(select(Rating).where(Rating.event_id == event_id)).one()


def _officer_id(hall: Hall, staff_no: str) -> int:
    with Session(hall.engine) as s:
        found = s.exec(select(Officer.id).where(Officer.staff_no == staff_no)).one()
        assert found is not None
        return found


def _device(session: Session, device_id: str) -> Device:
    device = session.exec(select(Device).where(Device.device_id == device_id)).one()
    return device


def test_new_officer_is_linked_at_once(hall: Hall) -> None:
    post(hall, "agent-w1", batch(rating("agent-w1", 1, 1, "GA001")))  # the snapshot is loaded
    with session_scope(hall.engine) as s:
        department_id = s.exec(select(Department.id)).first()
        s.add(Officer(staff_no="NEW01", name="新人", department_id=department_id))
    ev = rating("agent-w1", 1, 2, "NEW01")
    assert post(hall, "agent-w1", batch(ev))["accepted"] == 1
    assert _rating_of(hall, ev["id"]).officer_id == _officer_id(hall, "NEW01")


def test_window_moved_to_another_department_is_recorded_there(hall: Hall) -> None:
    post(hall, "agent-w1", batch(rating("agent-w1", 1, 1, "GA001")))  # the snapshot is loaded
    with session_scope(hall.engine) as s:
        window = s.exec(select(Window).where(Window.number == 1)).one()
        other = s.exec(select(Department.id).where(col(Department.id) != window.department_id)).first()
        assert other is not None
        window.department_id = other
        s.add(window)
    ev = rating("agent-w1", 1, 4, "GA001")
    assert post(hall, "agent-w1", batch(ev))["accepted"] == 1
    assert _rating_of(hall, ev["id"]).department_id == other
    with Session(hall.engine) as s:
        tallies = rollup_repo.tally_counts(s, "department", None, None, other)
    assert sum(sum(c) for c in tallies.values()) == 1


def test_a_wrong_cached_link_is_caught_in_the_write_transaction(hall: Hall) -> None:
    post(hall, "agent-w1", batch(rating("agent-w1", 1, 1, "GA001")))  # the snapshot is loaded
    with Session(hall.engine) as s:
        snapshot = ingest_cache.links(s)
        (window_id,) = [w.id for w in snapshot.windows_by_id.values() if w.number == 1]
        real = snapshot.windows_by_id[window_id]
        wrong_officers = {**snapshot.officers_by_staff_no, "GA001": snapshot.officers_by_staff_no["GA002"]}
        wrong_window = dataclasses.replace(real, department_id=real.department_id + 1000)
        # As if the snapshot had been read before links changed: it is fresh, so only the check sees it.
        ingest_cache.keep(
            s,
            dataclasses.replace(
                snapshot,
                officers_by_staff_no=wrong_officers,
                windows_by_id={**snapshot.windows_by_id, window_id: wrong_window},
            ),
        )
    ev = rating("agent-w1", 1, 5, "GA001")
    assert post(hall, "agent-w1", batch(ev))["accepted"] == 1
    stored = _rating_of(hall, ev["id"])
    assert stored.officer_id == _officer_id(hall, "GA001")
    assert stored.department_id == real.department_id
    with Session(hall.engine) as s:  # and the snapshot was read again
        assert ingest_cache.links(s).officers_by_staff_no["GA001"] == _officer_id(hall, "GA001")


def test_unknown_officer_is_still_refused(hall: Hall) -> None:
    res = post(hall, "agent-w1", batch(rating("agent-w1", 1, 1, "NOBODY"), rating("agent-w1", 1, 1, "GA001")))
    assert [r["outcome"] for r in res["results"]] == ["rejected", "accepted"]
    assert "NOBODY" in res["results"][0]["reason"]


def test_snapshot_reload_does_not_hold_the_sqlite_write_lock(hall: Hall) -> None:
    if hall.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's writer queue")
    with Session(hall.engine, expire_on_commit=False) as s:
        ingest_cache.forget(s)
        device = _device(s, "agent-w1")
        s.commit()
        snapshot = _outside_write(s, device, [])
        assert device.window_id in snapshot.windows_by_id
        assert not s.in_transaction()  # the reload's reads were committed at once


def test_rows_prepared_for_one_database_do_not_go_to_another(hall: Hall) -> None:
    table = EdgeEventRecord.__table__  # type: ignore[attr-defined]
    other = postgresql.dialect() if hall.engine.dialect.name == "sqlite" else sqlite.dialect()
    now = utcnow()
    row = {
        "id": str(uuid.uuid4()),
        "kind": "heartbeat",
        "device_id": "agent-w1",
        "window_number": 1,
        "device_time": now,
        "received_at": now,
        "outcome": "accepted",
        "reason": None,
        "payload": {},
    }
    prepared = prepare_rows(other, table, [row])
    assert prepared.sql is not None if other.name == "sqlite" else prepared.sql is None
    with Session(hall.engine) as s, pytest.raises(ValueError, match="prepared for"):
        insert_prepared(s, prepared, ["id"], "id")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sends=st.lists(st.lists(st.integers(0, 11), min_size=1, max_size=20), min_size=1, max_size=4),
    services=st.integers(1, 12),
)
def test_every_event_has_exactly_one_effect(hall: Hall, sends: list[list[int]], services: int) -> None:
    """Events resent in any mix, some rating the same service: one rating per service, counted once."""
    tag = next(_examples)
    service_ids = [str(uuid.uuid4()) for _ in range(services)]
    events = [
        {**rating("agent-w2", 2, n % 5 + 1, "GA002"), "id": f"00000000-0000-4000-8000-{tag:06d}{n:06d}"}
        for n in range(12)
    ]
    for n, ev in enumerate(events):
        ev["payload"]["service_id"] = service_ids[n % services]
    accepted: list[str] = []
    for send in sends:
        with session_scope(hall.engine) as s:
            device = _device(s, "agent-w2")
            recorded = record_batch(s, device, [events[n] for n in send], utcnow(), None)
            s.commit()
            result = batch_result(recorded)
        accepted += [r.id for r in result.results if r.outcome == "accepted" and r.id]
    sent = {events[n]["id"] for send in sends for n in send}
    first_per_service: dict[str, str] = {}
    for send in sends:
        for n in send:
            first_per_service.setdefault(events[n]["payload"]["service_id"], events[n]["id"])
    assert sorted(accepted) == sorted(set(first_per_service.values()))
    with Session(hall.engine) as s:
        ids = {e["id"] for e in events}
        stored = s.exec(select(Rating.event_id).where(col(Rating.event_id).in_(ids))).all()
        assert sorted(stored) == sorted(accepted)
        assert len(sent) >= len(accepted)
        window_id = _device(s, "agent-w2").window_id
        assert window_id is not None
        counted = rollup_repo.tally_counts(s, "window", None, None, None).get(window_id, [])
        ratings = s.exec(select(func.count()).select_from(Rating).where(Rating.window_id == window_id)).one()
        assert sum(counted) == ratings  # the tallies count each stored rating once


def test_ingest_batch_is_record_then_result(hall: Hall) -> None:
    ev = rating("agent-w3", 3, 1, "RS001")
    with session_scope(hall.engine) as s:
        first = ingest_batch(s, _device(s, "agent-w3"), [ev], utcnow(), None)
    with session_scope(hall.engine) as s:
        again = ingest_batch(s, _device(s, "agent-w3"), [ev], utcnow(), None)
    assert (first.accepted, again.duplicate) == (1, 1)
    with Session(hall.engine) as s:
        assert s.exec(select(func.count()).select_from(Rating)).one() == 1


def test_ratings_not_prepared_beforehand_are_looked_up_in_the_transaction(hall: Hall) -> None:
    known, unknown = rating("agent-w1", 1, 4, "GA001"), rating("agent-w1", 1, 1, "NOBODY")
    pairs = []
    for raw in (known, unknown):
        ev = EdgeEvent.model_validate(raw)
        pairs.append((ev, ev.typed_payload()))
    with session_scope(hall.engine) as s:
        device = _device(s, "agent-w1")
        assert device.window_id is not None
        window = ingest_cache.links(s).windows_by_id[device.window_id]
        ctx = ApplyContext(session=s, device=device, window=window, received_at=utcnow())
        rejections = apply_events(ctx, pairs)
    assert list(rejections) == [unknown["id"]] and "NOBODY" in rejections[unknown["id"]]
    stored = _rating_of(hall, known["id"])
    assert stored.officer_id == _officer_id(hall, "GA001") and stored.department_id == window.department_id
    with Session(hall.engine) as s:  # a bad review opens its follow-up
        assert (
            s.exec(select(func.count()).select_from(Followup).where(Followup.rating_id == stored.id)).one()
            == 1
        )
