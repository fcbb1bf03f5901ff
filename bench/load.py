"""The hall load run (``hall sim hall``) on SQLite and on PostgreSQL: errors and latency per operation."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.common import BenchResult, Stopwatch
from bench.stack import Databases, free_port
from hall.load import run_load
from hall.loadgen import Pace

NAME = "load"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """How big a hall, for how long on each backend."""

    windows: int
    kiosks: int
    minutes: dict[str, float]
    service_s: float
    workers: int = 2


def plan(quick: bool) -> Plan:
    """The issue's hall (1,000 windows, 50 kiosks, 10 minutes on SQLite), or a tiny one."""
    if quick:
        return Plan(windows=20, kiosks=2, minutes={"sqlite": 0.2, "postgres": 0.2}, service_s=2.0)
    return Plan(windows=1000, kiosks=50, minutes={"sqlite": 10.0, "postgres": 3.0}, service_s=180.0)


def run(dbs: Databases, work_dir: Path, quick: bool) -> BenchResult:
    """Run the load against a fresh server per backend; report every operation."""
    p = plan(quick)
    result = BenchResult(NAME, quick, params={**asdict(p), "pace_s": asdict(Pace(service_s=p.service_s))})
    watch = Stopwatch()
    for backend, minutes in p.minutes.items():
        log.info("load: %s, %d windows, %d kiosks, %.1f min", backend, p.windows, p.kiosks, minutes)
        url = dbs.url(backend, f"bench_load_{backend}")
        report = run_load(
            p.windows,
            p.kiosks,
            minutes,
            free_port(),
            p.workers,
            work_dir / f"load_{backend}.json",
            url,
            pace=Pace(service_s=p.service_s),
            work_dir=work_dir / f"load_{backend}",
        )
        result.metrics[f"{backend}_requests_per_s"] = report["requests_per_s"]
        lag = report["generator_loop_lag_ms"]["p99"]
        if lag:  # how late the generator's loops woke: large values would mean the generator is the limit
            result.metrics[f"{backend}_generator_loop_lag_p99_ms"] = lag
        for minute, p99 in report["p99_ms_by_minute"].items():  # the start against the steady state
            if p99 is not None:
                result.metrics[f"{backend}_minute_{minute}_p99_ms"] = p99
        for op, figures in report["operations"].items():
            result.metrics[f"{backend}_{op}_per_s"] = figures["per_s"]
            for q in ("p50", "p95", "p99", "max", "steady_p50", "steady_p95", "steady_p99"):
                if figures[f"{q}_ms"] is not None:
                    result.metrics[f"{backend}_{op}_{q}_ms"] = figures[f"{q}_ms"]
            result.checks[f"{backend}_{op}_count"] = figures["count"]
            result.checks[f"{backend}_{op}_errors"] = figures["errors"]
            if figures["error_causes"]:
                result.notes.append(f"{backend} {op} errors: {figures['error_causes']}")
        total = sum(f["count"] for f in report["operations"].values())
        answered = (total - report["errors"]) / total if total else 0.0
        result.target(f"{backend}_answered_share", "1.0 (no errors)", answered, report["errors"] == 0)
    result.duration_s = round(watch.elapsed_s, 1)
    return result
