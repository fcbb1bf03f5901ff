"""The agent's outbox and sender under faults: server down, SIGKILL at random moments."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import RunningHall, prepared_hall

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def running(tmp_path: Path) -> Iterator[RunningHall]:
    hall = prepared_hall(tmp_path)
    try:
        hall.start_server()
        yield hall
    finally:
        hall.group.stop()


def producer(hall: RunningHall, outbox: Path, count: int) -> subprocess.Popen[str]:
    """Start the burst producer for window 1 and wait until it produces."""
    args = [str(outbox), hall.server_url, hall.keys["agent-w1"], "agent-w1", "1", str(count)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.agent.burst_producer", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
    return proc


def outbox_ids(outbox: Path) -> list[str]:
    with sqlite3.connect(outbox) as db:
        return [row[0] for row in db.execute("SELECT id FROM outbox ORDER BY seq")]


def server_ids(hall: RunningHall) -> list[str]:
    path = hall.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT id FROM edge_event WHERE kind = 'misuse' AND device_id = 'agent-w1'"
        ).fetchall()
        signals = db.execute("SELECT count(*) FROM misuse_signal").fetchone()[0]
    assert signals == len(rows)  # every event applied exactly once
    return [r[0] for r in rows]


def drain(hall: RunningHall, outbox: Path) -> None:
    proc = producer(hall, outbox, 0)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "DRAINED"
    proc.wait(timeout=60)


def test_server_down_while_1000_events_are_made(running: RunningHall, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.db"
    running.group.kill("server")
    proc = producer(running, outbox, 1000)
    while len(outbox_ids(outbox)) < 1000:
        assert proc.poll() is None
        time.sleep(0.1)
    running.start_server()
    assert proc.stdout is not None and proc.stdout.readline().strip() == "DRAINED"
    proc.wait(timeout=30)
    assert sorted(server_ids(running)) == sorted(outbox_ids(outbox))
    assert len(server_ids(running)) == 1000


def test_sigkill_at_random_moments_loses_and_doubles_nothing(running: RunningHall, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.db"
    rng = random.Random(20261123)
    for _ in range(50):
        proc = producer(running, outbox, 100_000)
        time.sleep(rng.uniform(0.05, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    committed = outbox_ids(outbox)
    assert len(committed) > 500  # the bursts did produce
    drain(running, outbox)
    delivered = server_ids(running)
    assert len(delivered) == len(set(delivered))
    assert sorted(delivered) == sorted(committed)
