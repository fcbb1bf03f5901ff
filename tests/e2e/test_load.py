"""A small version of the hall load run (`hall sim hall`): no errors, every operation exercised."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hall.load import run_load, split
from hall.loadgen import Pace
from tests.pg_harness import free_port

pytestmark = pytest.mark.e2e

# A hall in fast motion: every loop of a window and a kiosk runs several times in 15 s.
FAST = Pace(
    service_s=1.0,
    walk_s=0.3,
    rate_s=0.3,
    idle_s=1.0,
    heartbeat_s=3.0,
    command_wait_s=1.0,
    roster_s=4.0,
    items_s=4.0,
)


def test_split_covers_every_actor_once() -> None:
    for n in range(0, 25):
        for parts in range(1, 7):
            pieces = split(n, parts)
            assert [i for piece in pieces for i in piece] == list(range(n))
            assert max(map(len, pieces)) - min(map(len, pieces)) <= 1


def test_small_hall_load_has_no_errors(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    report = run_load(
        windows=10, kiosks=2, minutes=0.25, port=free_port(), workers=1, out=out, pace=FAST, processes=2
    )
    ops = report["operations"]
    assert set(ops) == {
        "ticket",
        "printed",
        "items",
        "call_next",
        "start",
        "finish",
        "rating",
        "heartbeat",
        "commands",
        "roster",
    }
    assert report["errors"] == 0, ops
    assert report["generator_processes"] == 2
    assert ops["rating"]["count"] > 10 and ops["rating"]["p99_ms"] > 0
    # The steady state leaves out the first third of this short run; the minute's p99 covers it all.
    assert report["steady_after_s"] == 5.0 and set(report["p99_ms_by_minute"]) == {"0"}
    assert 0 < ops["rating"]["steady_p99_ms"] <= ops["rating"]["max_ms"]
    # Every rated service was called, started and finished first; every ticket printed was issued.
    assert (
        ops["call_next"]["count"] >= ops["start"]["count"] >= ops["finish"]["count"] >= ops["rating"]["count"]
    )
    assert ops["printed"]["count"] == ops["ticket"]["count"]
    assert json.loads(out.read_text(encoding="utf-8")) == report
