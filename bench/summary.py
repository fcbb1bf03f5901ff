"""Rating summaries over a year of ratings at 500 windows: the API against a plain GROUP BY."""

from __future__ import annotations

import importlib
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlmodel import Session

from bench.common import BenchResult, Stopwatch, percentile
from bench.stack import (
    Databases,
    dialect_of,
    hall_server,
    insert_sql,
    prepare_hall,
    raw_connection,
    raw_values,
    reader_token,
)
from bench.workload import LEVEL_WEIGHTS, LEVELS, RATING_COLUMNS
from server.db import is_sqlite, make_engine, session_scope
from server.models import Department, Officer, Rating, ServiceItem, Window
from server.services.periods import parse_bound

log = logging.getLogger(__name__)

NAME = "ratings_summary"
TZ = ZoneInfo("Asia/Shanghai")
YEAR = 2025
WINDOWS, DEPARTMENTS, ITEMS_PER_DEPT = 500, 20, 5
GROUPINGS = ("staff", "window", "department", "item")
PERIODS = {
    "day": ("2025-06-16", "2025-06-16"),
    "month": ("2025-06-01", "2025-06-30"),
    "year": ("2025-01-01", "2025-12-31"),
}
CHUNK = 20_000
# PostgreSQL takes the rows about four times slower through executemany: fewer keep the run under 15 min.
FULL_RATINGS = {"sqlite": 1_000_000, "postgres": 250_000}
QUICK_RATINGS = 20_000


def build_registry(database_url: str) -> list[tuple[int, int, list[int], list[int]]]:
    """Departments, items, 500 windows with two officers each; return (window, dept, officers, items)."""
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            out = _registry(session)
    finally:
        engine.dispose()
    return out


def _registry(session: Session) -> list[tuple[int, int, list[int], list[int]]]:
    depts = [Department(code=f"B{d:02d}", name=f"测试部门{d}") for d in range(DEPARTMENTS)]
    session.add_all(depts)
    session.flush()
    items: dict[int, list[ServiceItem]] = {}
    for d in depts:
        if d.id is None:
            raise RuntimeError("department without id after flush")
        items[d.id] = [
            ServiceItem(code=f"{d.code}I{i}", name=f"{d.name}事项{i}", ticket_prefix="Z", department_id=d.id)
            for i in range(ITEMS_PER_DEPT)
        ]
        session.add_all(items[d.id])
    windows = [Window(number=1000 + n, department_id=depts[n % DEPARTMENTS].id or 0) for n in range(WINDOWS)]
    session.add_all(windows)
    officers = [
        Officer(staff_no=f"BW{n:03d}{ab}", name=f"测试{n}{ab}", department_id=depts[n % DEPARTMENTS].id or 0)
        for n in range(WINDOWS)
        for ab in "AB"
    ]
    session.add_all(officers)
    session.flush()
    return [
        (
            w.id or 0,
            w.department_id,
            [officers[2 * n].id or 0, officers[2 * n + 1].id or 0],
            [i.id or 0 for i in items[w.department_id]],
        )
        for n, w in enumerate(windows)
    ]


def generate(database_url: str, registry: list[tuple[int, int, list[int], list[int]]], count: int) -> float:
    """Insert ``count`` ratings spread over the working hours of a year; return rows/s."""
    rng = random.Random(11)
    dialect = dialect_of(database_url)
    table = Rating.__table__  # type: ignore[attr-defined]
    sql = insert_sql(database_url, "rating", RATING_COLUMNS)
    first = datetime(YEAR, 1, 1, 9, tzinfo=TZ)
    keyer = _rollup_keyer()
    rollup_counts: Counter[tuple[Any, ...]] = Counter()
    watch = Stopwatch()
    with raw_connection(database_url) as conn:
        for start in range(0, count, CHUNK):
            rows: list[dict[str, Any]] = []
            for _ in range(min(CHUNK, count - start)):
                window_id, dept_id, officers, items = rng.choice(registry)
                moment = first + timedelta(days=rng.randrange(365), seconds=rng.randrange(8 * 3600))
                event_id = str(uuid.uuid4())
                rows.append(
                    {
                        "event_id": event_id,
                        "service_id": event_id,
                        "window_id": window_id,
                        "department_id": dept_id,
                        "officer_id": rng.choice(officers),
                        "item_id": rng.choice(items),
                        "level": rng.choices(LEVELS, LEVEL_WEIGHTS)[0],
                        "ticket_no": None,
                        "case_no": None,
                        "channel": "keypad",
                        "reaction_ms": rng.randrange(800, 9000),
                        "rated_at": moment.astimezone(UTC),
                        "excluded": False,
                    }
                )
            conn.cursor().executemany(sql, raw_values(table, dialect, RATING_COLUMNS, rows))
            conn.commit()
            if keyer is not None:
                rollup_counts.update(keyer(row) for row in rows)
    if keyer is not None:
        write_rollups(database_url, rollup_counts)
    with raw_connection(database_url) as conn:
        conn.execute("ANALYZE")
        conn.commit()
    return count / watch.elapsed_s


def _rollup_keyer() -> Callable[[dict[str, Any]], tuple[Any, ...]] | None:
    """The server's rollup key of a rating row, when this server keeps rollups."""
    try:
        rollups = importlib.import_module("server.services.rollups")
    except ModuleNotFoundError:
        return None
    key_of = rollups.key_of
    return lambda row: tuple(key_of(row, TZ))


def write_rollups(database_url: str, counts: Counter[tuple[Any, ...]]) -> None:
    """Store the counts the server's ingestion would have accumulated for the generated ratings."""
    followups = importlib.import_module("server.repo.followups")
    table = importlib.import_module("server.models").RatingRollup.__table__
    columns = [*followups.ROLLUP_KEY_COLUMNS, "count"]
    rows = [dict(zip(columns, (*key, n), strict=True)) for key, n in counts.items()]
    sql = insert_sql(database_url, table.name, columns)
    with raw_connection(database_url) as conn:
        for start in range(0, len(rows), CHUNK):
            values = raw_values(table, dialect_of(database_url), columns, rows[start : start + CHUNK])
            conn.cursor().executemany(sql, values)
        conn.commit()


def _raw_query(database_url: str, group_by: str) -> str:
    column = {"staff": "officer_id", "window": "window_id", "department": "department_id", "item": "item_id"}
    mark = "?" if is_sqlite(database_url) else "%s"
    col = column[group_by]
    return (
        f"SELECT {col}, level, count(*) FROM rating WHERE NOT excluded"
        f" AND rated_at >= {mark} AND rated_at < {mark} GROUP BY {col}, level"
    )


def _bounds(database_url: str, period: str) -> tuple[Any, Any]:
    start, end = parse_bound(PERIODS[period][0], TZ, end=False), parse_bound(PERIODS[period][1], TZ, end=True)
    dialect = dialect_of(database_url)
    proc = Rating.__table__.c["rated_at"].type.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[attr-defined]
    return (proc(start), proc(end)) if proc else (start, end)


def measure(
    database_url: str, base_url: str, reps: int, budget_s: float, result: BenchResult, backend: str
) -> None:
    """p95 of the API and of the plain GROUP BY for every grouping and period."""
    headers = {"Authorization": f"Bearer {reader_token(base_url)}"}
    with (
        httpx.Client(base_url=base_url, headers=headers, timeout=300) as client,
        raw_connection(database_url) as conn,
    ):
        for period, (start, end) in PERIODS.items():
            bounds = _bounds(database_url, period)
            for group_by in GROUPINGS:
                api: list[float] = []
                raw: list[float] = []
                params = {"group_by": group_by, "from": start, "to": end}
                watch = Stopwatch()
                while len(api) < reps and (len(api) < 2 or watch.elapsed_s < budget_s):
                    t0 = time.perf_counter()
                    r = client.get("/api/v1/ratings/summary", params=params)
                    api.append(time.perf_counter() - t0)
                    r.raise_for_status()
                    t0 = time.perf_counter()
                    cur = conn.cursor()
                    cur.execute(_raw_query(database_url, group_by), bounds)
                    groups = cur.fetchall()
                    raw.append(time.perf_counter() - t0)
                    conn.rollback()
                key = f"{backend}_{period}_{group_by}"
                api_p95, raw_p95 = percentile(api, 95), percentile(raw, 95)
                result.metrics[f"{key}_api_p95_ms"] = round(api_p95 * 1000, 3)
                result.metrics[f"{key}_raw_group_by_p95_ms"] = round(raw_p95 * 1000, 3)
                result.metrics[f"{key}_ratio_api_to_raw"] = round(api_p95 / raw_p95, 3)
                api_total = sum(row["services"] for row in r.json()["rows"])
                raw_total = sum(int(g[2]) for g in groups)
                result.checks[f"{key}_services"] = raw_total
                # The API must count what the raw table holds, or its timing means nothing.
                result.checks[f"{key}_count_mismatch"] = abs(api_total - raw_total)
                result.checks[f"{key}_samples"] = len(api)


def _count(backend: str, quick: bool) -> int:
    return QUICK_RATINGS if quick else FULL_RATINGS[backend]


def run(dbs: Databases, work_dir: Path, quick: bool) -> BenchResult:
    """Generate ratings, then time the summary API on SQLite and PostgreSQL."""
    reps, budget_s = (3, 5.0) if quick else (10, 20.0)
    backends = ("sqlite",) if quick else ("sqlite", "postgres")
    result = BenchResult(
        NAME,
        quick,
        params={
            "ratings": {b: _count(b, quick) for b in backends},
            "windows": WINDOWS,
            "year": YEAR,
            "periods": PERIODS,
            "reps": reps,
            "budget_per_query_s": budget_s,
            "backends": list(backends),
        },
    )
    watch = Stopwatch()
    for backend in backends:
        url = dbs.url(backend, f"bench_summary_{backend}")
        prepare_hall(url)
        registry = build_registry(url)
        gen = Stopwatch()
        count = _count(backend, quick)
        rate = generate(url, registry, count)
        result.metrics[f"{backend}_generate_rows_per_s"] = round(rate, 1)
        result.metrics[f"{backend}_generate_s"] = round(gen.elapsed_s, 1)
        log.info("summary: %d ratings on %s in %.0f s", count, backend, gen.elapsed_s)
        with hall_server(url, work_dir / "logs") as base_url:
            measure(url, base_url, reps, budget_s, result, backend)
    result.notes.append(f"periods are hall-local dates of {YEAR}; the API runs with one server worker")
    result.duration_s = round(watch.elapsed_s, 1)
    return result
