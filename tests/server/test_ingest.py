"""The edge-event contract: idempotent, per-event validation, device authentication."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, func, select

from server.db import session_scope
from server.models import Device, EdgeEventRecord, Rating
from server.services.admin import revoke_device
from server.services.ingest import ingest_batch
from server.timeutil import utcnow
from tests.server.conftest import Hall
from tests.server.events_util import batch, event, rating


def _count(hall: Hall, model: type) -> int:
    with Session(hall.engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def post(hall: Hall, device_id: str, body: dict) -> dict:
    r = hall.client.post("/api/v1/events", json=body, headers=hall.device_headers(device_id))
    assert r.status_code == 200, r.text
    return r.json()


def test_rating_is_accepted_and_counted(hall: Hall) -> None:
    res = post(hall, "agent-w1", batch(rating("agent-w1", 1, 1, "GA001"), rating("agent-w1", 1, 4, "GA001")))
    assert (res["accepted"], res["duplicate"], res["rejected"]) == (2, 0, 0)
    summary = hall.client.get(
        "/api/v1/ratings/summary", params={"group_by": "staff"}, headers=hall.user_headers()
    ).json()
    (row,) = summary["rows"]
    assert row["label"] == "王芳（GA001）"
    assert row["levels"] == {"1": 1, "2": 0, "3": 0, "4": 1, "5": 0}
    assert row["bad"] == 1 and row["satisfaction_rate"] == 0.5


def test_resent_batch_is_duplicate_and_applied_once(hall: Hall) -> None:
    body = batch(rating("agent-w2", 2, 2, "GA002"), rating("agent-w2", 2, None, "GA002"))
    first, second = post(hall, "agent-w2", body), post(hall, "agent-w2", body)
    assert first["accepted"] == 2
    assert second["duplicate"] == 2 and second["accepted"] == 0
    assert _count(hall, Rating) == 2


def test_same_event_twice_in_one_batch(hall: Hall) -> None:
    ev = rating("agent-w1", 1, 3)
    res = post(hall, "agent-w1", batch(ev, ev))
    assert [r["outcome"] for r in res["results"]] == ["accepted", "duplicate"]


def test_concurrent_duplicates_have_one_effect(hall: Hall) -> None:
    events = [rating("agent-w3", 3, lv % 5 + 1, "RS001") for lv in range(40)]
    with Session(hall.engine) as s:
        device_id = s.exec(select(Device.id).where(Device.device_id == "agent-w3")).one()

    def send(_: int) -> int:
        with session_scope(hall.engine) as session:
            device = session.get(Device, device_id)
            assert device is not None
            return ingest_batch(session, device, events, utcnow(), None).accepted

    with ThreadPoolExecutor(max_workers=6) as pool:
        accepted = list(pool.map(send, range(6)))
    assert _count(hall, Rating) == 40
    assert sum(accepted) == 40  # each event accepted by exactly one of the racing connections


def test_invalid_events_are_rejected_with_reasons_and_do_not_block_valid_ones(hall: Hall) -> None:
    good = rating("agent-w1", 1, 1, "GA001")
    bad_level = rating("agent-w1", 1, 9, "GA001")
    bad_kind = event("teleport", "agent-w1", {}, 1)
    not_an_object = "hello"
    no_id = {k: v for k, v in rating("agent-w1", 1, 2).items() if k != "id"}
    unknown_officer = rating("agent-w1", 1, 2, "NOBODY")
    res = post(hall, "agent-w1", batch(good, bad_level, bad_kind, not_an_object, no_id, unknown_officer))
    outcomes = [r["outcome"] for r in res["results"]]
    assert outcomes == ["accepted", "rejected", "rejected", "rejected", "rejected", "rejected"]
    reasons = [r["reason"] for r in res["results"]]
    assert "level" in reasons[1]
    assert "kind" in reasons[2]
    assert "NOBODY" in reasons[5]
    assert _count(hall, Rating) == 1
    # A rejected event that was valid in form is kept with its reason: nothing is lost.
    with Session(hall.engine) as s:
        kept = s.get(EdgeEventRecord, unknown_officer["id"])
        assert (
            kept is not None and kept.outcome == "rejected" and kept.payload["officer_staff_no"] == "NOBODY"
        )


def test_one_service_one_rating(hall: Hall) -> None:
    first = rating("agent-w1", 1, 1)
    second = event("rating", "agent-w1", {**first["payload"], "level": 5}, 1)
    res = post(hall, "agent-w1", batch(first, second))
    assert [r["outcome"] for r in res["results"]] == ["accepted", "rejected"]
    assert "一次一评" in res["results"][1]["reason"]


def test_event_for_another_window_or_device_is_rejected(hall: Hall) -> None:
    res = post(hall, "agent-w1", batch(rating("agent-w1", 2, 1), rating("agent-w2", 1, 1)))
    assert [r["outcome"] for r in res["results"]] == ["rejected", "rejected"]
    assert "window 1, not window 2" in res["results"][0]["reason"]
    assert "agent-w2" in res["results"][1]["reason"]
    assert _count(hall, Rating) == 0


def test_kiosk_cannot_send_ratings(hall: Hall) -> None:
    res = post(hall, "kiosk-1", batch(rating("kiosk-1", None, 1)))  # type: ignore[arg-type]
    assert res["rejected"] == 1 and "counter agent" in res["results"][0]["reason"]


def test_unknown_device_and_bad_key(hall: Hall) -> None:
    body = batch(rating("agent-w1", 1, 1))
    r = hall.client.post("/api/v1/events", json=body)
    assert r.status_code == 401
    r = hall.client.post("/api/v1/events", json=body, headers={"Authorization": "Bearer agent-w9:nope"})
    assert r.status_code == 401
    wrong = hall.keys["agent-w1"][:-3] + "xyz"
    r = hall.client.post("/api/v1/events", json=body, headers={"Authorization": f"Bearer {wrong}"})
    assert r.status_code == 401


def test_revoked_key_is_locked_out_at_once(hall: Hall) -> None:
    post(hall, "agent-w4", batch(rating("agent-w4", 4, 1)))
    with session_scope(hall.engine) as s:
        revoke_device(s, "agent-w4")
    r = hall.client.post(
        "/api/v1/events", json=batch(rating("agent-w4", 4, 1)), headers=hall.device_headers("agent-w4")
    )
    assert r.status_code == 403 and "revoked" in r.json()["detail"]


def test_oversized_and_unparseable_batches(hall: Hall) -> None:
    headers = hall.device_headers("agent-w1")
    big = batch(*[rating("agent-w1", 1, 1) for _ in range(501)])
    r = hall.client.post("/api/v1/events", json=big, headers=headers)
    assert r.status_code == 413 and "500" in r.json()["detail"]
    r = hall.client.post(
        "/api/v1/events", content=b"{not json", headers={**headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 400
    r = hall.client.post("/api/v1/events", json=[1, 2], headers=headers)
    assert r.status_code == 422
    assert _count(hall, Rating) == 0


def test_punch_links_page_to_officer_and_unknown_page_is_rejected(hall: Hall) -> None:
    res = post(
        hall,
        "agent-w5",
        batch(
            event("punch", "agent-w5", {"page": 1, "score": 120}, 5),
            event("punch", "agent-w5", {"page": 77}, 5),
        ),
    )
    assert [r["outcome"] for r in res["results"]] == ["accepted", "rejected"]
    punches = hall.client.get("/api/v1/attendance/punches", headers=hall.user_headers()).json()["punches"]
    assert [(p["staff_no"], p["window"], p["score"]) for p in punches] == [("SJ001", 5, 120)]


def test_clock_offset_is_kept(hall: Hall) -> None:
    skewed = datetime.now(UTC) + timedelta(hours=3)
    post(hall, "agent-w6", batch(rating("agent-w6", 6, 2), sent_at=skewed))
    devices = hall.client.get("/api/v1/devices", headers=hall.user_headers()).json()["devices"]
    w6 = next(d for d in devices if d["device_id"] == "agent-w6")
    assert 3 * 3600 - 60 < w6["clock_offset_s"] < 3 * 3600 + 60


def test_device_status_latest_and_history(hall: Hall) -> None:
    t0 = datetime.now(UTC)
    states = [("ok", ""), ("unavailable", "unplugged"), ("ok", "")]
    events = [
        event(
            "device_status",
            "agent-w1",
            {"device": "keypad", "device_kind": "keypad", "state": s, "reason": why},
            1,
            device_time=t0 + timedelta(seconds=i),
        )
        for i, (s, why) in enumerate(states)
    ]
    post(hall, "agent-w1", batch(*reversed(events)))
    headers = hall.user_headers()
    devices = hall.client.get("/api/v1/devices", headers=headers).json()["devices"]
    w1 = next(d for d in devices if d["device_id"] == "agent-w1")
    assert [(s["device"], s["state"]) for s in w1["states"]] == [("keypad", "ok")]
    history = hall.client.get("/api/v1/devices/agent-w1/history", headers=headers).json()["changes"]
    assert [c["state"] for c in history] == ["ok", "unavailable", "ok"]


def test_department_head_sees_only_own_department(hall: Hall) -> None:
    post(hall, "agent-w1", batch(rating("agent-w1", 1, 1, "GA001")))
    post(hall, "agent-w3", batch(rating("agent-w3", 3, 1, "RS001")))
    rows = hall.client.get(
        "/api/v1/ratings/summary",
        params={"group_by": "department"},
        headers=hall.user_headers("head-ga", "head-ga-pass-1"),
    ).json()["rows"]
    assert [r["label"] for r in rows] == ["市公安局"]


def test_summary_needs_a_reader_role_and_valid_period(hall: Hall) -> None:
    assert hall.client.get("/api/v1/ratings/summary").status_code == 401
    r = hall.client.get("/api/v1/ratings/summary", params={"from": "yesterday"}, headers=hall.user_headers())
    assert r.status_code == 422 and "yesterday" in r.json()["detail"]


def test_event_ids_are_uuids(hall: Hall) -> None:
    ev = rating("agent-w1", 1, 1)
    ev["id"] = "not-a-uuid"
    res = post(hall, "agent-w1", batch(ev))
    assert res["rejected"] == 1
    assert uuid.UUID(rating("agent-w1", 1, 1)["id"])
