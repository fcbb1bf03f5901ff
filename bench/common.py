"""What every benchmark shares: its result record, percentiles and the machine it ran on."""

from __future__ import annotations

import json
import math
import os
import platform
import sqlite3
import subprocess
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass
class Target:
    """A target from the issue and whether the measured figure meets it."""

    name: str
    target: str
    measured: float
    met: bool


@dataclass
class BenchResult:
    """One benchmark's figures; ``metrics`` holds only positive numbers, ``checks`` counts that may be 0."""

    benchmark: str
    quick: bool
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    checks: dict[str, int] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    duration_s: float = 0.0
    # Other work on the machine skews every figure: the 1-minute load average before and after shows it.
    load_before: float = field(default_factory=lambda: os.getloadavg()[0])
    load_after: float = 0.0

    def target(self, name: str, target: str, measured: float, met: bool) -> None:
        """Record a target, met or not."""
        self.targets.append(Target(name, target, round(measured, 3), met))

    def write(self, out_dir: Path) -> Path:
        """Write ``<out_dir>/<benchmark>.json``."""
        path = out_dir / f"{self.benchmark}.json"
        self.load_after = os.getloadavg()[0]
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``values``."""
    if not values:
        raise ValueError("no samples")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def latency_ms(samples_s: list[float], prefix: str) -> dict[str, float]:
    """p50, p95, p99 and max of samples in seconds, as milliseconds."""
    return {
        f"{prefix}_p50_ms": round(percentile(samples_s, 50) * 1000, 3),
        f"{prefix}_p95_ms": round(percentile(samples_s, 95) * 1000, 3),
        f"{prefix}_p99_ms": round(percentile(samples_s, 99) * 1000, 3),
        f"{prefix}_max_ms": round(max(samples_s) * 1000, 3),
    }


class Stopwatch:
    """Elapsed wall time since creation."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def elapsed_s(self) -> float:
        """Seconds since start."""
        return time.perf_counter() - self.start


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_mb() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def _postgres_version() -> str:
    from tests.pg_harness import _bindir

    bindir = _bindir()
    if bindir is None:
        return "not installed"
    try:
        out = subprocess.run(
            [str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip()


def machine_info() -> dict[str, Any]:
    """The machine the figures were measured on."""
    return {
        "nproc": os.cpu_count() or 0,
        "memory_mb": _mem_total_mb(),
        "cpu_model": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(),
    }
