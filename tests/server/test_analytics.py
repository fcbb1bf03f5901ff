"""Rating tallies, analytics, Wilson ranking, misuse signals, exclusions and the monthly assessment."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from server.models import Rating, RatingExclusion, RatingTallyDay, RatingTallyMonth
from server.services.analytics import wilson_lower_bound
from tests.server.conftest import Hall
from tests.server.events_util import batch, event

TZ = ZoneInfo("Asia/Shanghai")
STAFF = {1: ["GA001", "GA003", None], 2: ["GA002", "GA004"], 3: ["RS001", None], 5: ["SJ001", "SJ003"]}
ITEMS = {1: ["GA01", "GA03", None], 2: ["GA02"], 3: ["RS01", "RS02"], 5: ["SJ01", None]}


def rating_at(
    window: int, level: int | None, when: datetime, staff_no: str | None = None, **extra: Any
) -> dict:
    """A rating event of a fresh service at a given device time."""
    payload = {"service_id": str(uuid.uuid4()), "level": level, "officer_staff_no": staff_no, **extra}
    return event("rating", f"agent-w{window}", payload, window, device_time=when)


def send(hall: Hall, window: int, events: list[dict]) -> dict:
    r = hall.client.post(
        "/api/v1/events", json=batch(*events), headers=hall.device_headers(f"agent-w{window}")
    )
    assert r.status_code == 200, r.text
    return r.json()


LEVEL_COLUMNS = ("not_rated", "level_1", "level_2", "level_3", "level_4", "level_5")
DIMENSIONS = {"staff": "officer_id", "window": "window_id", "department": "department_id", "item": "item_id"}


def rollup_table(hall: Hall) -> Counter:
    """Every non-zero count of the day and month tallies: (grain, dimension, period, dept, key, level)."""
    out: Counter = Counter()
    with Session(hall.engine) as s:
        for grain, model, period in (("day", RatingTallyDay, "day"), ("month", RatingTallyMonth, "month")):
            for r in s.exec(select(model)):
                for level, column in enumerate(LEVEL_COLUMNS):
                    n = getattr(r, column)
                    assert n >= 0
                    if n:
                        out[(grain, r.dimension, getattr(r, period), r.department_id, r.key_id, level)] += n
    return out


def group_by_of_raw(hall: Hall) -> Counter:
    """The plain GROUP BY the tallies must equal: counted ratings per local day or month and key."""
    with Session(hall.engine) as s:
        ratings = s.exec(select(Rating).where(Rating.excluded == False)).all()  # noqa: E712
    out: Counter = Counter()
    for r in ratings:
        day = r.rated_at.astimezone(TZ).date()
        for dimension, column in DIMENSIONS.items():
            key = getattr(r, column) or 0
            out[("day", dimension, day, r.department_id, key, r.level or 0)] += 1
            out[("month", dimension, day.replace(day=1), r.department_id, key, r.level or 0)] += 1
    return out


def summary(hall: Hall, **params: str) -> list[dict]:
    r = hall.client.get("/api/v1/ratings/summary", params=params, headers=hall.user_headers())
    assert r.status_code == 200, r.text
    return r.json()["rows"]


def test_rollups_equal_group_by_after_random_ingestion(hall: Hall) -> None:
    rnd = random.Random(20261123)
    base = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # local 23:00, so ratings straddle local midnights
    sent: dict[int, list[dict]] = {w: [] for w in STAFF}
    for _ in range(240):
        window = rnd.choice(list(STAFF))
        when = base + timedelta(minutes=rnd.randrange(0, 3 * 24 * 60))
        level = rnd.choice([1, 1, 2, 3, 4, 5, None])
        sent[window].append(
            rating_at(window, level, when, rnd.choice(STAFF[window]), item_code=rnd.choice(ITEMS[window]))
        )
    for window, events in sent.items():
        send(hall, window, events[: len(events) // 2])
        # Resending overlapping batches (the outbox retrying) must not double-count anything.
        res = send(hall, window, events)
        assert res["duplicate"] == len(events) // 2 and res["rejected"] == 0
    assert sum(rollup_table(hall).values()) == 240 * 4 * 2  # four dimensions, day and month
    assert rollup_table(hall) == group_by_of_raw(hall)

    with Session(hall.engine) as s:
        ids = [r.id for r in s.exec(select(Rating).order_by(Rating.id)).all()]
    for rating_id in rnd.sample(ids, 7):
        r = hall.client.post(
            f"/api/v1/ratings/{rating_id}/exclude", json={"reason": "评价器连按"}, headers=hall.user_headers()
        )
        assert r.status_code == 200, r.text
    assert sum(rollup_table(hall).values()) == 233 * 4 * 2
    assert rollup_table(hall) == group_by_of_raw(hall)

    # Whole days come from the rollups, partial days from the raw table: both must agree.
    for group_by in ("staff", "window", "department", "item"):
        whole = summary(hall, group_by=group_by, **{"from": "2026-11-21", "to": "2026-11-22"})
        raw = summary(
            hall,
            group_by=group_by,
            **{"from": "2026-11-21T00:00:00+08:00", "to": "2026-11-22T23:59:59.999999+08:00"},
        )
        assert whole == raw
        assert whole
    assert sum(r["services"] for r in summary(hall, group_by="window")) == 233


def test_exclusion_subtracts_keeps_record_and_is_audited(hall: Hall) -> None:
    now = datetime.now(UTC)
    send(hall, 1, [rating_at(1, 5, now, "GA001"), rating_at(1, 1, now, "GA001")])
    with Session(hall.engine) as s:
        bad = s.exec(select(Rating).where(Rating.level == 5)).one()
    sup = hall.user_headers()
    head = hall.user_headers("head-ga", "head-ga-pass-1")
    r = hall.client.post(f"/api/v1/ratings/{bad.id}/exclude", json={"reason": "x"}, headers=head)
    assert r.status_code == 403
    r = hall.client.post(f"/api/v1/ratings/{bad.id}/exclude", json={"reason": ""}, headers=sup)
    assert r.status_code == 422
    r = hall.client.post(f"/api/v1/ratings/{bad.id}/exclude", json={"reason": "非服务对象按键"}, headers=sup)
    assert r.status_code == 200 and r.json()["decided_by"] == "supervisor"
    r = hall.client.post(f"/api/v1/ratings/{bad.id}/exclude", json={"reason": "again"}, headers=sup)
    assert r.status_code == 409
    r = hall.client.post("/api/v1/ratings/999999/exclude", json={"reason": "x"}, headers=sup)
    assert r.status_code == 404
    (row,) = summary(hall, group_by="staff")
    assert row["levels"]["5"] == 0 and row["services"] == 1
    with Session(hall.engine) as s:
        kept = s.get(Rating, bad.id)
        assert kept is not None and kept.excluded and kept.level == 5
        audit = s.exec(select(RatingExclusion)).one()
        assert (audit.rating_id, audit.source, audit.reason) == (bad.id, "supervisor", "非服务对象按键")


def test_wilson_ranks_300_good_above_3_perfect(hall: Hall) -> None:
    start = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    many = [rating_at(1, 4 if i < 3 else 1, start + timedelta(minutes=i), "GA001") for i in range(300)]
    few = [rating_at(2, 1, start + timedelta(minutes=i), "GA002") for i in range(3)]
    send(hall, 1, many)
    send(hall, 2, few)
    r = hall.client.get("/api/v1/ratings/ranking", params={"group_by": "staff"}, headers=hall.user_headers())
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert [row["label"] for row in rows] == ["王芳（GA001）", "李强（GA002）"]
    top, second = rows
    assert (top["rank"], top["rated"], top["satisfied"], top["satisfaction_rate"]) == (1, 300, 297, 0.99)
    assert (second["rated"], second["satisfaction_rate"]) == (3, 1.0)
    assert top["score"] > second["score"]
    assert top["score"] == pytest.approx(wilson_lower_bound(297, 300), abs=1e-4)
    assert 0.43 < second["score"] < 0.44  # Wilson lower bound of 3/3 at 95 %
    r = hall.client.get("/api/v1/ratings/ranking", params={"min_rated": 10}, headers=hall.user_headers())
    assert [row["label"] for row in r.json()["rows"]] == ["王芳（GA001）"]


def test_wilson_lower_bound_values() -> None:
    assert wilson_lower_bound(0, 0) == 0.0
    assert wilson_lower_bound(10, 10) < 1.0
    assert wilson_lower_bound(50, 100) == pytest.approx(0.4038, abs=1e-4)
    assert wilson_lower_bound(1, 2) < wilson_lower_bound(100, 200)


def test_analytics_rates_with_counts_per_period(hall: Hall) -> None:
    monday = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # Mon 10:00 local
    send(
        hall,
        3,
        [
            rating_at(3, 1, monday, "RS001"),
            rating_at(3, 2, monday, "RS001"),
            rating_at(3, 4, monday + timedelta(days=1), "RS001"),
            rating_at(3, None, monday + timedelta(days=1), "RS001"),
            rating_at(3, 3, monday + timedelta(days=7), "RS001"),
        ],
    )
    params = {"group_by": "staff", "period": "day", "from": "2026-11-16", "to": "2026-11-30"}
    r = hall.client.get("/api/v1/ratings/analytics", params=params, headers=hall.user_headers())
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert [(x["period"], x["services"]) for x in rows] == [
        ("2026-11-16", 2),
        ("2026-11-17", 2),
        ("2026-11-23", 1),
    ]
    tue = rows[1]
    assert (tue["rated"], tue["not_rated"], tue["bad"], tue["satisfied"]) == (1, 1, 1, 0)
    assert (tue["satisfaction_rate"], tue["active_rating_rate"], tue["not_rated_rate"]) == (0.0, 0.5, 0.5)
    weekly = hall.client.get(
        "/api/v1/ratings/analytics", params={**params, "period": "week"}, headers=hall.user_headers()
    ).json()["rows"]
    assert [(x["period"], x["services"], x["satisfied"], x["rated"]) for x in weekly] == [
        ("2026-W47", 4, 2, 3),
        ("2026-W48", 1, 1, 1),
    ]
    monthly = hall.client.get(
        "/api/v1/ratings/analytics", params={**params, "period": "month"}, headers=hall.user_headers()
    ).json()["rows"]
    assert [(x["period"], x["services"], x["satisfaction_rate"]) for x in monthly] == [("2026-11", 5, 0.75)]
    head = hall.user_headers("head-ga", "head-ga-pass-1")
    assert hall.client.get("/api/v1/ratings/analytics", params=params, headers=head).json()["rows"] == []
    bad = hall.client.get(
        "/api/v1/ratings/analytics", params={"from": "2026-12-01", "to": "2026-11-01"}, headers=head
    )
    assert bad.status_code == 422
    bad = hall.client.get("/api/v1/ratings/analytics", params={"from": "yesterday"}, headers=head)
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.json()["detail"]


def test_misuse_signals_and_bursts(hall: Hall) -> None:
    t0 = datetime.now(UTC) - timedelta(hours=1)
    burst = [rating_at(5, 1, t0 + timedelta(seconds=5 * i), "SJ001") for i in range(4)]
    spaced = [rating_at(5, 1, t0 + timedelta(minutes=10 + 5 * i), "SJ001") for i in range(3)]
    signals = [
        event(
            "misuse",
            "agent-w5",
            {"signal": "press_outside_service", "key": "1", "officer_staff_no": "SJ001"},
            5,
        ),
        event("misuse", "agent-w5", {"signal": "too_fast", "officer_staff_no": "SJ001"}, 5),
        event("misuse", "agent-w5", {"signal": "too_fast", "officer_staff_no": "SJ001"}, 5),
    ]
    send(hall, 5, burst + spaced + signals)
    r = hall.client.get("/api/v1/ratings/misuse", headers=hall.user_headers())
    assert r.status_code == 200, r.text
    data = r.json()
    (b,) = data["bursts"]
    assert b["window"] == 5 and b["count"] == 4 and all(not x["excluded"] for x in b["ratings"])
    (row,) = data["rows"]
    assert row["officer"] == "周婷（SJ001）"
    assert row["signals"] == {"press_outside_service": 1, "too_fast": 2, "burst_ratings": 4}
    head = hall.user_headers("head-ga", "head-ga-pass-1")
    assert hall.client.get("/api/v1/ratings/misuse", headers=head).json() == {"rows": [], "bursts": []}
