"""Edge-event ingestion through the real HTTP path, against a raw executemany of the same rows."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import BenchResult, Stopwatch, latency_ms, percentile
from bench.http import HttpConnection
from bench.stack import (
    Databases,
    dialect_of,
    hall_server,
    insert_sql,
    prepare_hall,
    raw_connection,
    raw_values,
)
from bench.workload import (
    EDGE_COLUMNS,
    RATING_COLUMNS,
    WindowTarget,
    batch_body,
    rating_events,
    server_rows,
    window_targets,
)
from server.models import EdgeEventRecord, Rating

log = logging.getLogger(__name__)

NAME = "ingest"
BACKENDS = ("sqlite", "postgres")
# ``BENCH_INGEST_BACKENDS=sqlite python -m bench --only ingest`` measures one backend (comma-separated).
BACKENDS_ENV = "BENCH_INGEST_BACKENDS"
THROUGHPUT_TARGET_EPS = 10_000
PACED_P99_TARGET_MS = 100.0


@dataclass(frozen=True)
class Plan:
    """Sizes of one ingestion run."""

    batch_sizes: tuple[int, ...]
    events_per_run: int
    senders: int
    server_workers: int
    paced_rate_eps: int
    paced_batch: int
    paced_duration_s: float


def plan(quick: bool) -> Plan:
    """The full run, or a small one that only proves the harness works."""
    if quick:
        return Plan((100, 500), 1_000, 4, 2, 2_000, 100, 1.0)
    return Plan((100, 500), 60_000, 4, 2, 2_000, 100, 20.0)


@dataclass
class Batch:
    """A pre-encoded request of one device."""

    device_id: str
    body: bytes
    size: int


def _batches(targets: list[WindowTarget], batch: int, total: int, rng: random.Random) -> list[Batch]:
    out = []
    for i in range(max(1, total // batch)):
        target = targets[i % len(targets)]
        out.append(Batch(target.device_id, batch_body(rating_events(target, batch, rng)), batch))
    return out


async def _post(conn: HttpConnection, keys: dict[str, str], b: Batch) -> int:
    status, answer = await conn.post("/api/v1/events", b.body, keys[b.device_id])
    if status != 200:
        raise RuntimeError(f"batch not taken: {status} {answer[:200]!r}")
    return int(json.loads(answer)["accepted"])


async def _post_on_new_connection(base_url: str, keys: dict[str, str], b: Batch) -> int:
    """Post one batch on a connection of its own.

    ``hall server --workers 2`` is two processes, and the kernel gives each new connection to either.
    A kept-alive connection stays with its process, so four long-lived senders' connections were all
    on one process in 1 run of 8 and three on one in half the runs: the figure swung between 5,400 and
    10,900 events/s with the placement. A connection per batch spreads every phase over both
    processes, as a hall's hundreds of agents do; the handshake costs about 0.1 ms on loopback.
    """
    conn = HttpConnection(base_url)
    try:
        return await _post(conn, keys, b)
    finally:
        await conn.close()


async def closed_loop(
    base_url: str, keys: dict[str, str], batches: list[Batch], senders: int
) -> tuple[float, list[float], int]:
    """Send every batch as fast as ``senders`` clients can; return (seconds, latencies, accepted)."""
    queue: asyncio.Queue[Batch] = asyncio.Queue()
    for b in batches:
        queue.put_nowait(b)
    latencies: list[float] = []
    accepted = 0

    async def sender() -> None:
        nonlocal accepted
        while not queue.empty():
            b = queue.get_nowait()
            t0 = time.perf_counter()
            ok = await _post_on_new_connection(base_url, keys, b)
            latencies.append(time.perf_counter() - t0)
            accepted += ok

    watch = Stopwatch()
    await asyncio.gather(*(sender() for _ in range(senders)))
    return watch.elapsed_s, latencies, accepted


async def open_loop(
    base_url: str, keys: dict[str, str], batches: list[Batch], interval_s: float
) -> tuple[float, list[float], int]:
    """Send batch i at start + i * interval whatever the answers; latency counts from the planned time."""
    latencies: list[float] = []
    accepted = 0

    async def send(b: Batch, planned: float) -> None:
        nonlocal accepted
        ok = await _post_on_new_connection(base_url, keys, b)
        latencies.append(time.perf_counter() - planned)
        accepted += ok

    tasks = []
    start = time.perf_counter() + 0.05
    for i, b in enumerate(batches):
        planned = start + i * interval_s
        await asyncio.sleep(max(0.0, planned - time.perf_counter()))
        tasks.append(asyncio.create_task(send(b, planned)))
    await asyncio.gather(*tasks)
    return time.perf_counter() - start, latencies, accepted


def raw_executemany(database_url: str, targets: list[WindowTarget], batch: int, total: int) -> float:
    """Events/s of plain executemany of the same edge_event + rating rows, one transaction per batch."""
    rng = random.Random(7)
    dialect = dialect_of(database_url)
    edge_t, rating_t = EdgeEventRecord.__table__, Rating.__table__  # type: ignore[attr-defined]
    prepared = []
    for i in range(max(1, total // batch)):
        target = targets[i % len(targets)]
        edge, ratings = server_rows(target, rating_events(target, batch, rng))
        prepared.append(
            (
                raw_values(edge_t, dialect, EDGE_COLUMNS, edge),
                raw_values(rating_t, dialect, RATING_COLUMNS, ratings),
            )
        )
    edge_sql = insert_sql(database_url, "edge_event", EDGE_COLUMNS)
    rating_sql = insert_sql(database_url, "rating", RATING_COLUMNS)
    with raw_connection(database_url) as conn:
        watch = Stopwatch()
        for edge_rows, rating_rows in prepared:
            cur = conn.cursor()
            cur.executemany(edge_sql, edge_rows)
            cur.executemany(rating_sql, rating_rows)
            conn.commit()
        return len(prepared) * batch / watch.elapsed_s


def _one_backend(dbs: Databases, backend: str, p: Plan, result: BenchResult, log_dir: Path) -> None:
    url = dbs.url(backend, f"bench_ingest_{backend}")
    keys = prepare_hall(url)
    targets = window_targets(url, range(1, 7))
    rng = random.Random(1)
    sent = accepted = 0
    with hall_server(url, log_dir, workers=p.server_workers) as base_url:
        # Warm up every worker's connection pool and code paths before anything is timed.
        warm = _batches(targets, 50, 50 * 2 * p.senders, rng)
        _, _, ok = asyncio.run(closed_loop(base_url, keys, warm, p.senders))
        sent, accepted = len(warm) * 50, ok
        for size in p.batch_sizes:
            batches = _batches(targets, size, p.events_per_run, rng)
            seconds, lat, ok = asyncio.run(closed_loop(base_url, keys, batches, p.senders))
            sent, accepted = sent + len(batches) * size, accepted + ok
            result.metrics[f"{backend}_b{size}_events_per_s"] = round(len(batches) * size / seconds, 1)
            result.metrics.update(latency_ms(lat, f"{backend}_b{size}_batch"))
        count = int(p.paced_rate_eps * p.paced_duration_s)
        batches = _batches(targets, p.paced_batch, count, rng)
        seconds, lat, ok = asyncio.run(open_loop(base_url, keys, batches, p.paced_batch / p.paced_rate_eps))
        sent, accepted = sent + len(batches) * p.paced_batch, accepted + ok
        result.metrics[f"{backend}_paced_offered_events_per_s"] = float(p.paced_rate_eps)
        result.metrics[f"{backend}_paced_achieved_events_per_s"] = round(
            len(batches) * p.paced_batch / seconds, 1
        )
        result.metrics.update(latency_ms(lat, f"{backend}_paced_batch"))
        paced_p99 = percentile(lat, 99) * 1000
    result.checks[f"{backend}_events_sent"] = sent
    result.checks[f"{backend}_events_not_accepted"] = sent - accepted
    raw_url = dbs.url(backend, f"bench_ingest_raw_{backend}")
    prepare_hall(raw_url)
    for size in p.batch_sizes:
        raw = raw_executemany(raw_url, targets, size, p.events_per_run)
        http = result.metrics[f"{backend}_b{size}_events_per_s"]
        result.metrics[f"{backend}_b{size}_raw_events_per_s"] = round(raw, 1)
        result.metrics[f"{backend}_b{size}_ratio_http_to_raw"] = round(http / raw, 4)
        if backend == "sqlite":
            result.target(
                f"sqlite_b{size}_throughput",
                f">= {THROUGHPUT_TARGET_EPS} events/s",
                http,
                http >= THROUGHPUT_TARGET_EPS,
            )
    result.target(
        f"{backend}_paced_p99",
        f"p99 batch latency <= {PACED_P99_TARGET_MS:.0f} ms at {p.paced_rate_eps} events/s",
        paced_p99,
        paced_p99 <= PACED_P99_TARGET_MS,
    )


def backends() -> tuple[str, ...]:
    """The backends to measure: all of them, or those named in ``BENCH_INGEST_BACKENDS``."""
    chosen = os.environ.get(BACKENDS_ENV, "").strip()
    if not chosen:
        return BACKENDS
    names = tuple(dict.fromkeys(name.strip() for name in chosen.split(",") if name.strip()))
    unknown = [name for name in names if name not in BACKENDS]
    if unknown or not names:
        raise ValueError(f"{BACKENDS_ENV} names unknown backends {unknown}; choose from {BACKENDS}")
    return names


def run(dbs: Databases, work_dir: Path, quick: bool) -> BenchResult:
    """Measure ingestion on SQLite and PostgreSQL (or the backends named in ``BENCH_INGEST_BACKENDS``)."""
    p = plan(quick)
    chosen = backends()
    result = BenchResult(NAME, quick, params={**p.__dict__, "backends": list(chosen)})
    watch = Stopwatch()
    for backend in chosen:
        log.info("ingest: %s", backend)
        _one_backend(dbs, backend, p, result, work_dir / "logs")
    result.notes.append(
        "client and server share the machine: the senders (bench.http, a minimal HTTP/1.1 client) use "
        "CPU the server could otherwise have"
    )
    result.duration_s = round(watch.elapsed_s, 1)
    return result
