"""A small version of the hall load run (`hall sim hall`): no errors, every operation exercised."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hall.load import run_load
from tests.pg_harness import free_port

pytestmark = pytest.mark.e2e


def test_small_hall_load_has_no_errors(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    report = run_load(windows=10, kiosks=1, minutes=0.25, port=free_port(), workers=1, out=out)
    ops = report["operations"]
    assert set(ops) >= {"ticket", "call_next", "start", "finish", "rating", "heartbeat"}
    assert all(op["errors"] == 0 for op in ops.values()), ops
    assert ops["rating"]["count"] > 10 and ops["rating"]["p99_ms"] > 0
    assert json.loads(out.read_text(encoding="utf-8")) == report
