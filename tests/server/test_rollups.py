"""Rating tallies per day and month: ranges read as months plus edge days, the write path, the migration."""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlmodel import Session, select

from server.db import make_engine, session_scope
from server.migrate import alembic_config, upgrade
from server.models import Department, Rating, RatingTallyDay, RatingTallyMonth, ServiceItem, Window
from server.models.rollups import LEVEL_COLUMNS, TALLY_SHARDS
from server.repo import driver
from server.repo.rollups import next_month, read_plan, split_months
from server.services import rollups
from tests.server.conftest import DEMO_HALL, Hall
from tests.server.test_analytics import ITEMS, STAFF, group_by_of_raw, rating_at, rollup_table, send

TZ = ZoneInfo("Asia/Shanghai")
KEY_COLUMN = {"staff": "officer_id", "window": "window_id", "department": "department_id", "item": "item_id"}


def test_split_months() -> None:
    d = date
    assert split_months(d(2026, 1, 1), d(2027, 1, 1)) == ((d(2026, 1, 1), d(2027, 1, 1)), [])
    assert split_months(d(2026, 1, 15), d(2026, 3, 10)) == (
        (d(2026, 2, 1), d(2026, 3, 1)),
        [(d(2026, 1, 15), d(2026, 2, 1)), (d(2026, 3, 1), d(2026, 3, 10))],
    )
    assert split_months(d(2026, 12, 5), d(2027, 2, 1)) == (
        (d(2027, 1, 1), d(2027, 2, 1)),
        [(d(2026, 12, 5), d(2027, 1, 1))],
    )
    # No whole month inside: days only (also for a day, and for an empty range).
    assert split_months(d(2026, 1, 15), d(2026, 2, 10)) == (None, [(d(2026, 1, 15), d(2026, 2, 10))])
    assert split_months(d(2026, 6, 16), d(2026, 6, 17)) == (None, [(d(2026, 6, 16), d(2026, 6, 17))])
    assert split_months(d(2026, 6, 1), d(2026, 6, 1)) == (None, [(d(2026, 6, 1), d(2026, 6, 1))])
    # Open bounds.
    assert split_months(None, d(2026, 3, 10)) == ((None, d(2026, 3, 1)), [(d(2026, 3, 1), d(2026, 3, 10))])
    assert split_months(d(2026, 3, 10), None) == ((d(2026, 4, 1), None), [(d(2026, 3, 10), d(2026, 4, 1))])
    assert split_months(None, None) == ((None, None), [])


def _days(r: tuple[date | None, date | None], lo: date, hi: date) -> set[date]:
    first, end = r[0] or lo, r[1] or hi
    return {first + timedelta(days=i) for i in range((end - first).days)}


def test_read_plan_counts_every_day_of_the_range_once_with_few_rows() -> None:
    lo, hi = date(2025, 11, 1), date(2026, 3, 1)  # months of 30, 31, 31 and 28 days; open bounds
    span = [lo + timedelta(days=i) for i in range((hi - lo).days + 1)]
    bounds: list[date | None] = [None, *span]
    worst = 0
    for first in bounds:
        for end in bounds:
            plan = read_plan(first, end)
            weight: dict[date, int] = defaultdict(int)
            month_rows = 0
            if plan.months is not None:
                m0, m1 = plan.months[0] or lo, plan.months[1] or hi
                assert m0.day == 1 and m1.day == 1
                while m0 < m1:
                    month_rows += 1
                    for d in _days((m0, next_month(m0)), lo, hi):
                        weight[d] += 1
                    m0 = next_month(m0)
            for r in plan.add_days:
                for d in _days(r, lo, hi):
                    weight[d] += 1
            for r in plan.subtract_days:
                for d in _days(r, lo, hi):
                    weight[d] -= 1
            expected = _days((first, end), lo, hi) if first is None or end is None or first < end else set()
            assert {d for d, w in weight.items() if w} == expected, (first, end)
            assert all(w in (0, 1) for w in weight.values()), (first, end)
            day_rows = sum(len(_days(r, lo, hi)) for r in (*plan.add_days, *plan.subtract_days))
            if first is not None and end is not None and first < end:
                worst = max(worst, day_rows)
                assert month_rows <= (end - first).days // 28 + 2
    assert worst == 32  # two ends, at most 16 day rows each


def _ingest_across_months(hall: Hall, count: int = 300) -> None:
    """Ratings from late October to early December 2026, at every hour, then a few exclusions."""
    rnd = random.Random(7)
    base = datetime(2026, 10, 27, 16, 0, tzinfo=UTC)  # local midnight of Oct 28
    sent: dict[int, list[dict]] = defaultdict(list)
    for _ in range(count):
        window = rnd.choice(list(STAFF))
        when = base + timedelta(minutes=rnd.randrange(0, 38 * 24 * 60))
        level = rnd.choice([1, 1, 2, 3, 4, 5, None])
        sent[window].append(
            rating_at(window, level, when, rnd.choice(STAFF[window]), item_code=rnd.choice(ITEMS[window]))
        )
    for window, events in sent.items():
        send(hall, window, events)
    with Session(hall.engine) as s:
        ids = [r.id for r in s.exec(select(Rating).order_by(Rating.id)).all()]
    for rating_id in rnd.sample(ids, 9):
        r = hall.client.post(
            f"/api/v1/ratings/{rating_id}/exclude", json={"reason": "连按"}, headers=hall.user_headers()
        )
        assert r.status_code == 200, r.text


def _expected(
    hall: Hall, group_by: str, first: date | None, last: date | None, department_id: int | None = None
) -> dict[str, tuple[dict[str, int], int]]:
    """Independent reference from the raw rows: key -> (levels, not rated) over local days [first, last]."""
    with Session(hall.engine) as s:
        ratings = s.exec(select(Rating).where(Rating.excluded == False)).all()  # noqa: E712
    out: dict[str, tuple[dict[str, int], int]] = {}
    for r in ratings:
        day = r.rated_at.astimezone(TZ).date()
        if (first and day < first) or (last and day > last):
            continue
        if department_id is not None and r.department_id != department_id:
            continue
        key = getattr(r, KEY_COLUMN[group_by])
        levels, not_rated = out.get("" if key is None else str(key), ({str(n): 0 for n in range(1, 6)}, 0))
        if r.level is None:
            not_rated += 1
        else:
            levels[str(r.level)] += 1
        out["" if key is None else str(key)] = (levels, not_rated)
    return out


def _got(hall: Hall, headers: dict[str, str], **params: str) -> dict[str, tuple[dict[str, int], int]]:
    r = hall.client.get("/api/v1/ratings/summary", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return {row["key"]: (row["levels"], row["not_rated"]) for row in r.json()["rows"]}


RANGES: list[tuple[str | None, str | None]] = [
    ("2026-11-01", "2026-11-30"),  # one whole month
    ("2026-10-29", "2026-12-02"),  # edge days + a month + edge days
    ("2026-10-28", "2026-10-31"),  # days at the end of a month
    ("2026-11-10", "2026-11-10"),  # one day
    ("2026-11-15", "2026-12-14"),  # no whole month
    ("2026-10-01", "2026-12-31"),  # whole months only
    (None, "2026-11-20"),  # open start
    ("2026-11-20", None),  # open end
    (None, None),
    ("2026-12-20", "2026-12-31"),  # nothing there
]


def test_summary_over_any_whole_day_range_equals_raw_rows(hall: Hall) -> None:
    _ingest_across_months(hall)
    assert rollup_table(hall) == group_by_of_raw(hall)
    sup = hall.user_headers()
    for first, last in RANGES:
        params = {k: v for k, v in (("from", first), ("to", last)) if v}
        lo = date.fromisoformat(first) if first else None
        hi = date.fromisoformat(last) if last else None
        for group_by in KEY_COLUMN:
            assert _got(hall, sup, group_by=group_by, **params) == _expected(hall, group_by, lo, hi), (
                first,
                last,
                group_by,
            )


def test_department_head_summary_is_scoped(hall: Hall) -> None:
    _ingest_across_months(hall, 150)
    with Session(hall.engine) as s:
        ga = s.exec(select(Department).where(Department.code == "GA")).one().id
    head = hall.user_headers("head-ga", "head-ga-pass-1")
    for first, last in RANGES[:3]:
        params = {"from": first or "", "to": last or ""}
        lo, hi = date.fromisoformat(params["from"]), date.fromisoformat(params["to"])
        for group_by in KEY_COLUMN:
            got = _got(hall, head, group_by=group_by, **params)
            assert got == _expected(hall, group_by, lo, hi, ga)
            assert got or group_by == "department"


def test_monthly_analytics_equal_the_sum_of_days(hall: Hall) -> None:
    _ingest_across_months(hall, 200)
    params = {"group_by": "window", "from": "2026-10-29", "to": "2026-12-02"}
    sup = hall.user_headers()
    daily = hall.client.get("/api/v1/ratings/analytics", params={**params, "period": "day"}, headers=sup)
    monthly = hall.client.get("/api/v1/ratings/analytics", params={**params, "period": "month"}, headers=sup)
    assert daily.status_code == monthly.status_code == 200
    summed: dict[tuple[str, str], int] = defaultdict(int)
    for row in daily.json()["rows"]:
        summed[(row["period"][:7], row["key"])] += row["services"]
    got = {(row["period"], row["key"]): row["services"] for row in monthly.json()["rows"]}
    assert got == dict(summed)
    assert {p for p, _ in got} == {"2026-10", "2026-11", "2026-12"}


def _rating_row(day: int, window: int, officer: int | None, level: int | None) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "window_id": window,
        "department_id": 1,
        "officer_id": officer,
        "item_id": None,
        "level": level,
        "rated_at": datetime(2026, 11, day, 2, tzinfo=UTC),
    }


def test_count_ratings_is_one_cached_executemany_per_table(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    seen: list[tuple[str, Any]] = []
    real_execute_many = driver.execute_many

    def _seen(session: Any, statement: str, params: Any) -> None:  # watches, then runs it for real
        if "rating_tally" in statement:
            seen.append((statement, params))
        real_execute_many(session, statement, params)

    monkeypatch.setattr(driver, "execute_many", _seen)

    try:
        rows = [_rating_row(1 + i % 3, 1 + i % 4, i % 5 or None, i % 6 or None) for i in range(60)]
        with session_scope(engine) as s:
            rollups.count_ratings(s, rows, TZ)
        assert len(seen) == 2
        assert "rating_tally_day" in seen[0][0] and "rating_tally_month" in seen[1][0]
        if engine.dialect.name == "sqlite":
            # The single-row statement with many parameter sets, keys sorted (lock order).
            assert all(stmt.count("?") == 11 for stmt, _ in seen)
            statement, params = seen[0]
            named = statement.split("(", 1)[1].split(")", 1)[0].split(", ")
            at = [named.index(c) for c in ("dimension", "day", "department_id", "key_id", "shard")]
            day_keys = [tuple(p[i] for i in at) for p in params]
            # window 4 x 3 days, staff 5 x 3, department and item (none) each in 4 shards x 3 days
            assert day_keys == sorted(day_keys) and len(day_keys) == 4 * 3 + 3 * 5 + 4 * 3 + 4 * 3
        with session_scope(engine) as s:
            rollups.count_ratings(s, rows[:7], TZ)
            stored = s.exec(select(RatingTallyMonth).where(RatingTallyMonth.dimension == "department")).all()
            assert {(r.month, r.key_id) for r in stored} == {(date(2026, 11, 1), 1)}
            assert sorted(r.shard for r in stored) == [0, 1, 2, 3]  # windows 1-4
            columns = ("not_rated", "level_1", "level_2", "level_3", "level_4", "level_5")
            assert sum(getattr(r, c) for r in stored for c in columns) == 67
            months = rollups.tallies_of(rows[:7], TZ)[1]
            assert months[("department", date(2026, 11, 1), 1, 1, 1)] == [1, 0, 0, 0, 1, 0]  # rows 0, 4
            assert months[("department", date(2026, 11, 1), 1, 1, 0)] == [0, 0, 0, 1, 0, 0]  # row 3
            assert months[("window", date(2026, 11, 1), 1, 4, 0)] == [0, 0, 0, 1, 0, 0]  # not sharded
    finally:
        engine.dispose()


def _old_ratings(database_url: str) -> None:
    """The demo hall and four ratings (one excluded) at 23:30 local on Nov 1 = 15:30 UTC."""
    from server.services.hall_config import load_hall, read_hall_file

    engine = make_engine(database_url)
    try:
        with session_scope(engine) as s:
            load_hall(s, read_hall_file(DEMO_HALL))
        with session_scope(engine) as s:
            w1 = s.exec(select(Window).where(Window.number == 1)).one()
            for i, level in enumerate([1, 5, None, 1]):
                s.add(
                    Rating(
                        event_id=str(uuid.uuid4()),
                        service_id=str(uuid.uuid4()),
                        window_id=w1.id,
                        department_id=w1.department_id,
                        level=level,
                        rated_at=datetime(2026, 11, 1, 15, 30 + i, tzinfo=UTC),
                        excluded=i == 3,
                    )
                )
    finally:
        engine.dispose()


def _tallies(database_url: str, dimension: str) -> tuple[set[tuple], set[tuple]]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as s:
            days = {
                (r.day.isoformat(), r.key_id, r.not_rated, r.level_1, r.level_5)
                for r in s.exec(select(RatingTallyDay).where(RatingTallyDay.dimension == dimension))
            }
            months = {
                (r.month.isoformat(), r.key_id, r.not_rated, r.level_1, r.level_5)
                for r in s.exec(select(RatingTallyMonth).where(RatingTallyMonth.dimension == dimension))
            }
    finally:
        engine.dispose()
    return days, months


def test_migration_backfills_tallies_and_downgrades_to_rollups(database_url: str) -> None:
    upgrade(database_url, "0005")
    _old_ratings(database_url)
    upgrade(database_url)
    days, months = _tallies(database_url, "staff")
    assert days == {("2026-11-01", 0, 1, 1, 1)}  # no officer recorded: key 0; the excluded one left out
    assert months == {("2026-11-01", 0, 1, 1, 1)}
    assert len(_tallies(database_url, "window")[0]) == len(_tallies(database_url, "item")[1]) == 1

    command.downgrade(alembic_config(database_url), "0011-1")
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT day, level, count FROM rating_rollup")).all()
    finally:
        engine.dispose()
    assert {(str(day), level, n) for day, level, n in rows} == {
        ("2026-11-01", 1, 1),
        ("2026-11-01", 5, 1),
        ("2026-11-01", 0, 1),
    }


def test_migration_uses_the_hall_time_zone(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    upgrade(database_url, "0005")
    _old_ratings(database_url)
    monkeypatch.setenv("HALL_TIMEZONE", "Pacific/Kiritimati")  # UTC+14: 15:30 UTC is 05:30 on Nov 2
    upgrade(database_url)
    days, months = _tallies(database_url, "department")
    assert {d[0] for d in days} == {"2026-11-02"} and {m[0] for m in months} == {"2026-11-01"}


def _ratings_of_two_windows(database_url: str) -> None:
    """Six ratings at windows 1 and 2 (both GA, item GA01), one excluded, Oct 31 to Nov 1 (local)."""
    from server.services.hall_config import load_hall, read_hall_file

    engine = make_engine(database_url)
    try:
        with session_scope(engine) as s:
            load_hall(s, read_hall_file(DEMO_HALL))
        with session_scope(engine) as s:
            windows = [s.exec(select(Window).where(Window.number == n)).one() for n in (1, 2)]
            item = s.exec(select(ServiceItem).where(ServiceItem.code == "GA01")).one()
            for i, level in enumerate([1, 5, None, 1, 3, 3]):
                w = windows[i % 2]
                s.add(
                    Rating(
                        event_id=str(uuid.uuid4()),
                        service_id=str(uuid.uuid4()),
                        window_id=w.id,
                        department_id=w.department_id,
                        item_id=item.id if i % 3 else None,
                        level=level,
                        rated_at=datetime(2026, 10, 31, 10, tzinfo=UTC) + timedelta(hours=3 * i),
                        excluded=i == 3,
                    )
                )
    finally:
        engine.dispose()


def _tally_rows(database_url: str) -> Counter:
    """(grain, dimension, period, department, key, shard, level) -> count of every non-zero count."""
    engine = make_engine(database_url)
    out: Counter = Counter()
    try:
        with engine.connect() as conn:
            for grain in ("day", "month"):
                sharded = "shard" in {c["name"] for c in inspect(conn).get_columns(f"rating_tally_{grain}")}
                shard = "shard" if sharded else "-1"
                stmt = (
                    f"SELECT dimension, {grain}, department_id, key_id, {shard}, {', '.join(LEVEL_COLUMNS)}"
                )
                for row in conn.execute(text(f"{stmt} FROM rating_tally_{grain}")):
                    for level, n in enumerate(row[5:]):
                        assert n >= 0
                        if n:
                            out[(grain, row[0], str(row[1]), row[2], row[3], row[4], level)] += n
    finally:
        engine.dispose()
    return out


def _unsharded(rows: Counter) -> Counter:
    out: Counter = Counter()
    for (grain, dimension, period, department, key, _, level), n in rows.items():
        out[(grain, dimension, period, department, key, level)] += n
    return out


def test_shard_migration_recounts_shared_rows_by_window_and_folds_them_back(database_url: str) -> None:
    upgrade(database_url, "0005")
    _ratings_of_two_windows(database_url)
    upgrade(database_url, "0011")
    before = _tally_rows(database_url)
    upgrade(database_url)
    after = _tally_rows(database_url)
    assert _unsharded(after) == _unsharded(before)
    engine = make_engine(database_url)
    try:
        with Session(engine) as s:
            window_ids = {w.number: w.id for w in s.exec(select(Window))}
            ratings = s.exec(select(Rating).where(Rating.excluded == False)).all()  # noqa: E712
    finally:
        engine.dispose()
    shards = {(dimension, shard) for (_, dimension, _, _, _, shard, _) in after}
    assert shards == {
        ("staff", 0),
        ("window", 0),
        *(("department", window_ids[n] % TALLY_SHARDS) for n in (1, 2)),
        *(("item", window_ids[n] % TALLY_SHARDS) for n in (1, 2)),
    }
    # Every shard row counts the ratings of its windows: exactly the raw GROUP BY with the shard.
    expected: Counter = Counter()
    for r in ratings:
        day = r.rated_at.astimezone(TZ).date()
        for dimension, column in (("department", "department_id"), ("item", "item_id")):
            key = (
                dimension,
                r.department_id,
                getattr(r, column) or 0,
                r.window_id % TALLY_SHARDS,
                r.level or 0,
            )
            expected[("day", str(day), *key)] += 1
            expected[("month", str(day.replace(day=1)), *key)] += 1
    got = Counter(
        {
            (grain, period, dimension, department, key, shard, level): n
            for (grain, dimension, period, department, key, shard, level), n in after.items()
            if dimension in ("department", "item")
        }
    )
    assert got == expected

    command.downgrade(alembic_config(database_url), "0013-1")
    assert _tally_rows(database_url) == before


def test_windows_of_one_department_count_without_waiting_for_each_other(database_url: str) -> None:
    """Two open ingest transactions of windows 1 and 2 (one department, one item) share no tally row."""
    upgrade(database_url)
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks: SQLite has one writer at a time anyway")
    engine = make_engine(database_url)
    first = [{**_rating_row(1, 1, 11, 5), "item_id": 7} for _ in range(3)]
    second = [{**_rating_row(1, 2, 12, 1), "item_id": 7} for _ in range(2)]
    try:
        with Session(engine) as one, Session(engine) as two:
            rollups.count_ratings(one, first, TZ)  # holds its rows' locks until commit
            two.execute(text("SET LOCAL lock_timeout = '2s'"))
            started = datetime.now(UTC)
            rollups.count_ratings(two, second, TZ)
            assert datetime.now(UTC) - started < timedelta(seconds=1)
            two.commit()
            one.commit()
        with Session(engine) as s:
            got = rollups.repo.tally_counts(s, "department", date(2026, 11, 1), date(2026, 11, 2), None)
            assert got == {1: [0, 2, 0, 0, 0, 3]}
            got = rollups.repo.tally_counts(s, "item", date(2026, 11, 1), date(2026, 11, 2), 1)
            assert got == {7: [0, 2, 0, 0, 0, 3]}
    finally:
        engine.dispose()
