"""Ticket issuance and call-next on PostgreSQL with four server processes: rates, latency, duplicates."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench.common import BenchResult, Stopwatch, latency_ms
from bench.stack import KIOSKS, Databases, hall_server, prepare_hall

log = logging.getLogger(__name__)

NAME = "tickets"
ROUTE = Path(__file__).resolve().parent.parent / "server" / "api" / "routes" / "tickets.py"
SKIP_REASON = "server/api/routes/tickets.py does not exist yet: no ticket queue to measure"
ITEMS = ("GA01", "GA02", "GA03", "RS01", "RS02", "RS03", "SJ01", "SJ02")
WINDOWS = 6
SERVER_WORKERS = 4


async def _workers(count: int, work: Callable[[int], Awaitable[None]]) -> float:
    watch = Stopwatch()
    await asyncio.gather(*(work(i) for i in range(count)))
    return watch.elapsed_s


async def issue_all(base_url: str, keys: dict[str, str], total: int) -> tuple[float, list[float], list[str]]:
    """Issue ``total`` tickets from all kiosks at once; return (seconds, latencies, "item/ticket_no")."""
    latencies: list[float] = []
    issued: list[str] = []
    next_index = iter(range(total))

    async def kiosk(n: int) -> None:
        headers = {"Authorization": f"Bearer {keys[f'kiosk-{n + 1}']}"}
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as client:
            for i in next_index:
                body = {"item_code": ITEMS[i % len(ITEMS)], "client_ref": str(uuid.uuid4())}
                t0 = time.perf_counter()
                r = await client.post("/api/v1/tickets", json=body)
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 201:
                    raise RuntimeError(f"ticket not issued: {r.status_code} {r.text[:200]}")
                issued.append(f"{body['item_code']}/{r.json()['ticket_no']}")

    seconds = await _workers(KIOSKS, kiosk)
    return seconds, latencies, issued


async def call_all(base_url: str, keys: dict[str, str]) -> tuple[float, list[float], list[str]]:
    """Every window calls next until nobody waits; return (seconds, latencies, claimed ticket numbers)."""
    latencies: list[float] = []
    claimed: list[str] = []

    async def window(n: int) -> None:
        headers = {"Authorization": f"Bearer {keys[f'agent-w{n + 1}']}"}
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as client:
            while True:
                t0 = time.perf_counter()
                r = await client.post("/api/v1/queue/call-next", json={})
                latencies.append(time.perf_counter() - t0)
                if r.status_code == 204:
                    return
                r.raise_for_status()
                answer: dict[str, Any] = r.json()
                claimed.append(str(answer["ticket_no"]))

    seconds = await _workers(WINDOWS, window)
    return seconds, latencies, claimed


def run(dbs: Databases, work_dir: Path, quick: bool) -> BenchResult | None:
    """Measure the queue, or return None when the server has no ticket queue yet."""
    if not ROUTE.exists():
        return None
    total = 60 if quick else 1_500
    result = BenchResult(
        NAME,
        quick,
        params={"tickets": total, "kiosks": KIOSKS, "windows": WINDOWS, "server_workers": SERVER_WORKERS},
    )
    watch = Stopwatch()
    url = dbs.url("postgres", "bench_tickets")
    keys = prepare_hall(url)
    with hall_server(url, work_dir / "logs", workers=SERVER_WORKERS) as base_url:
        seconds, lat, issued = asyncio.run(issue_all(base_url, keys, total))
        result.metrics["tickets_per_s"] = round(len(issued) / seconds, 1)
        result.metrics.update(latency_ms(lat, "issue"))
        seconds, lat, claimed = asyncio.run(call_all(base_url, keys))
        result.metrics["claims_per_s"] = round(max(len(claimed), 1) / seconds, 1)
        result.metrics.update(latency_ms(lat, "call_next"))
    result.checks["tickets_issued"] = len(issued)
    result.checks["duplicate_ticket_numbers"] = len(issued) - len(set(issued))
    result.checks["tickets_claimed"] = len(claimed)
    result.checks["duplicate_claims"] = len(claimed) - len(set(claimed))
    result.checks["tickets_never_claimed"] = len(issued) - len(set(claimed))
    result.notes.append("claims are counted until every window gets 204 (nobody waiting)")
    result.duration_s = round(watch.elapsed_s, 1)
    return result
