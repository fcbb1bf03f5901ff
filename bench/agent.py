"""The counter agent: key press -> durable outbox commit, resident memory, and replay after an outage."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.common import BenchResult, Stopwatch, latency_ms, percentile
from bench.stack import Databases, free_port, hall_server, prepare_hall
from bench.workload import window_targets
from common.ids import new_id
from counter_agent.effects import to_event
from counter_agent.outbox import Outbox
from counter_agent.sender import Sender
from counter_agent.session import Officer, RatingEffect, Service
from hall.demo import write_agent_config
from hall.processes import ProcessGroup, wait_http

log = logging.getLogger(__name__)

NAME = "agent"
PUT_P99_TARGET_MS = 5.0
RSS_TARGET_MB = 60.0
REPLAY_TARGET_S = 30.0


@dataclass(frozen=True)
class Plan:
    """Sizes of one agent run."""

    puts: int
    settle_s: float
    replay_events: int
    replay_timeout_s: float


def plan(quick: bool) -> Plan:
    """The full run, or a small one that only proves the harness works."""
    return Plan(200, 3.0, 3_000, 60.0) if quick else Plan(3_000, 20.0, 100_000, 300.0)


def rating_effect(officer: Officer, item_code: str, level: int) -> RatingEffect:
    """What the session produces when the citizen presses a rating key after a service."""
    now = time.time()
    service = Service(str(new_id()), officer, "A001", item_code, now - 300, armed_at=now - 2)
    return RatingEffect(service, level, 2000)


def put_latencies(path: Path, officer: Officer, item_code: str, count: int) -> list[float]:
    """Seconds from the key press (effect made) to the event committed in the outbox, per press."""
    outbox = Outbox(path)
    samples = []
    try:
        for i in range(count):
            t0 = time.perf_counter()
            outbox.put(to_event(rating_effect(officer, item_code, i % 5 + 1), "agent-w1", 1))
            samples.append(time.perf_counter() - t0)
    finally:
        outbox.close()
    return samples


def _vm_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(f"{field} not in /proc/{pid}/status")


def agent_rss(url: str, key: str, work: Path, settle_s: float) -> tuple[float, float]:
    """Run ``hall agent`` on simulated devices with citizens served for ``settle_s``; (VmRSS, VmHWM) in MB."""
    with hall_server(url, work / "logs") as server_url, ProcessGroup(work / "logs") as group:
        http_port = free_port()
        config = write_agent_config(work, 1, key, server_url, http_port)
        proc = group.start("agent-w1", "agent", "--config", str(config), env={"HALL_LOG_LEVEL": "WARNING"})
        agent_url = f"http://127.0.0.1:{http_port}"
        wait_http(f"{agent_url}/state", 60, proc)
        group.start("citizens", "sim", "citizens", "--agent", agent_url, "--seed", "3")
        time.sleep(settle_s)
        group.kill("citizens")
        time.sleep(1.0)
        if proc.poll() is not None:
            raise RuntimeError(f"the agent exited with {proc.returncode}; see {work / 'logs'}")
        return _vm_kb(proc.pid, "VmRSS") / 1024, _vm_kb(proc.pid, "VmHWM") / 1024


def fill_outbox(path: Path, officer: Officer, item_code: str, count: int) -> None:
    """Put ``count`` rating events in the outbox as the agent would, in one transaction (not timed)."""
    Outbox(path).close()  # creates the schema exactly as the agent does
    now = datetime.now(UTC).isoformat()
    rows = []
    for i in range(count):
        event = to_event(rating_effect(officer, item_code, i % 5 + 1), "agent-w1", 1)
        rows.append((str(event.id), event.kind.value, event.model_dump_json(), now))
    db = sqlite3.connect(path)
    try:
        with db:
            db.executemany("INSERT INTO outbox (id, kind, body, created_at) VALUES (?, ?, ?, ?)", rows)
    finally:
        db.close()


async def replay(url: str, key: str, outbox_path: Path, log_dir: Path, timeout_s: float) -> dict[str, float]:
    """Start the sender with the server down, then the server; time until the outbox is empty."""
    outbox = Outbox(outbox_path)
    port = free_port()
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as client:
        sender = Sender(outbox, client)
        task = asyncio.create_task(sender.run())
        await asyncio.sleep(1.0)  # the agent has been failing to reach the server
        with ExitStack() as stack:
            watch = Stopwatch()
            await asyncio.to_thread(stack.enter_context, hall_server(url, log_dir, port=port))
            started_s = watch.elapsed_s
            first_delivery_s = None
            while await asyncio.to_thread(outbox.depth) > 0:
                if first_delivery_s is None and sender.status.delivered:
                    first_delivery_s = watch.elapsed_s
                if watch.elapsed_s > timeout_s:
                    raise TimeoutError(f"outbox not empty after {timeout_s} s")
                await asyncio.sleep(0.05)
            total_s = watch.elapsed_s
            task.cancel()
    outbox.close()
    drain_s = total_s - (first_delivery_s or started_s)
    return {"server_start_s": started_s, "total_s": total_s, "drain_s": max(drain_s, 1e-3)}


def run(dbs: Databases, work_dir: Path, quick: bool) -> BenchResult:
    """Measure the agent's commit latency, memory and replay."""
    p = plan(quick)
    result = BenchResult(NAME, quick, params=dict(p.__dict__))
    watch = Stopwatch()
    work = work_dir / "agent"
    work.mkdir(parents=True, exist_ok=True)
    url = dbs.url("sqlite", "bench_agent")
    keys = prepare_hall(url)
    target = window_targets(url, range(1, 2))[0]
    officer = Officer(target.staff_no, "", "A")

    samples = put_latencies(work / "put-outbox.db", officer, target.item_code, p.puts)
    result.metrics.update(latency_ms(samples, "press_to_commit"))
    p99 = percentile(samples, 99) * 1000
    result.target("press_to_commit_p99", f"p99 <= {PUT_P99_TARGET_MS} ms", p99, p99 <= PUT_P99_TARGET_MS)

    rss_mb, hwm_mb = agent_rss(url, keys["agent-w1"], work, p.settle_s)
    result.metrics.update({"agent_rss_mb": round(rss_mb, 1), "agent_peak_rss_mb": round(hwm_mb, 1)})
    result.target("agent_rss", f"VmRSS <= {RSS_TARGET_MB:.0f} MB", rss_mb, rss_mb <= RSS_TARGET_MB)

    replay_url = dbs.url("sqlite", "bench_agent_replay")
    replay_keys = prepare_hall(replay_url)
    outbox_path = work / "replay-outbox.db"
    outbox_path.unlink(missing_ok=True)
    fill_outbox(outbox_path, officer, target.item_code, p.replay_events)
    times = asyncio.run(
        replay(replay_url, replay_keys["agent-w1"], outbox_path, work / "logs", p.replay_timeout_s)
    )
    result.metrics.update({f"replay_{k}": round(v, 3) for k, v in times.items()})
    result.metrics["replay_events_per_s"] = round(p.replay_events / times["drain_s"], 1)
    if not quick:
        result.target(
            "replay_100k",
            f"{p.replay_events} events delivered <= {REPLAY_TARGET_S:.0f} s after server start",
            times["total_s"],
            times["total_s"] <= REPLAY_TARGET_S,
        )
    result.checks["replay_events"] = p.replay_events
    result.notes.append("outbox on the real file system (WAL, synchronous=FULL); the replay server is SQLite")
    result.duration_s = round(watch.elapsed_s, 1)
    return result
