"""The benchmark harness runs end to end in its quick form and writes complete, positive figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULT_FIELDS = {"benchmark", "quick", "params", "metrics", "checks", "targets", "duration_s", "started_at"}


@pytest.mark.postgres
@pytest.mark.e2e
@pytest.mark.timeout(420)
def test_quick_run_writes_every_result(tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out), "--work-dir", str(tmp_path / "work")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["quick"] is True
    assert summary["machine"]["nproc"] > 0 and summary["machine"]["sqlite"]
    statuses = {name: entry["status"] for name, entry in summary["benchmarks"].items()}
    assert set(statuses) == {"ingest", "agent", "ratings_summary", "tickets", "kiosk", "load"}
    for name in ("ingest", "agent", "ratings_summary", "kiosk", "load"):
        assert statuses[name] == "ok", name
    for name, status in statuses.items():
        if status == "skipped":
            assert not (out / f"{name}.json").exists()
            continue
        result = json.loads((out / f"{name}.json").read_text())
        assert set(result) >= RESULT_FIELDS, name
        assert result["benchmark"] == name and result["quick"] is True
        assert result["metrics"], name
        for key, value in result["metrics"].items():
            assert isinstance(value, int | float) and value > 0, f"{name}.{key} = {value!r}"
        # The harness's own checks: nothing lost, nothing doubled, the API counts what is stored.
        for key, value in result["checks"].items():
            if key.endswith(("_mismatch", "_not_accepted", "_never_claimed")) or key.startswith("duplicate"):
                assert value == 0, f"{name}.{key} = {value}"
        for target in result["targets"]:
            assert target["measured"] > 0 and isinstance(target["met"], bool), target


@pytest.mark.timeout(30)
def test_percentiles_and_result_file(tmp_path: Path) -> None:
    """Nearest-rank percentiles in milliseconds, and targets written as measured."""
    from bench.common import BenchResult, latency_ms, percentile

    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 99) == 99.0
    stats = latency_ms([0.001, 0.002, 0.010], "x")
    assert stats["x_max_ms"] == 10.0 and stats["x_p50_ms"] == 2.0
    result = BenchResult("demo", quick=True, metrics={"a_per_s": 1.5})
    result.target("a", ">= 1", 1.5, True)
    written = json.loads(result.write(tmp_path).read_text())
    assert written["targets"] == [{"name": "a", "target": ">= 1", "measured": 1.5, "met": True}]
