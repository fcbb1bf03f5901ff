"""Ticket issuance and call-next on PostgreSQL with four server processes: rates, latency, duplicates.

The client is the small keep-alive HTTP/1.1 client of ``bench.http`` rather than httpx (see there).
The CPU each side used (this client, the server processes, PostgreSQL) is measured from /proc and
reported per request, with how busy the whole machine was, so the figures show where the time goes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.common import BenchResult, Stopwatch, latency_ms
from bench.http import HttpConnection
from bench.stack import KIOSKS, Databases, hall_server, prepare_hall
from common.ids import new_id

log = logging.getLogger(__name__)

NAME = "tickets"
ROUTE = Path(__file__).resolve().parent.parent / "server" / "api" / "routes" / "tickets.py"
SKIP_REASON = "server/api/routes/tickets.py does not exist yet: no ticket queue to measure"
ITEMS = ("GA01", "GA02", "GA03", "RS01", "RS02", "RS03", "SJ01", "SJ02")
WINDOWS = 6
SERVER_WORKERS = 4
# Concurrent issuing clients, each a closed loop on its own connection (sharing the four kiosk keys).
# 4 is one client per kiosk, as first measured: the unprefixed figures and the targets are at 4. More
# clients show whether throughput grows once every server process has work while others wait on
# PostgreSQL; 32 is the most the servers' connection pools (10 each) hold without opening and closing
# overflow connections, which would measure connection set-up instead.
CLIENT_LEVELS = (4, 8, 16, 32)
HEADLINE_CLIENTS = 4
TARGET_TICKETS_PER_S = 1000.0
TARGET_P99_MS = 50.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_table() -> dict[int, tuple[int, float, str]]:
    """pid -> (parent pid, CPU seconds, command line) of every process visible in /proc.

    The CPU seconds include those of the process's children that have exited (PostgreSQL backends of
    closed connections), so a process tree's total only grows while its root lives.
    """
    table: dict[int, tuple[int, float, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        table[int(entry.name)] = (int(fields[1]), ticks / CLK_TCK, cmdline)
    return table


def _tree_cpu_s(table: dict[int, tuple[int, float, str]], root: int | None) -> float:
    if root is None:
        return 0.0
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += table[pid][1] if pid in table else 0.0
        todo.extend(children.get(pid, ()))
    return total


@dataclass
class CpuMeter:
    """CPU used by this client, the server process tree and PostgreSQL's, and the whole machine."""

    server_port: int
    postgres_port: int

    def _roots(self, table: dict[int, tuple[int, float, str]]) -> tuple[int | None, int | None]:
        """The ``hall server`` this benchmark started, and the postmaster listening on its port."""
        me, server, postgres = os.getpid(), None, None
        for pid, (ppid, _, cmdline) in table.items():
            program = cmdline.split(" ", 1)[0]
            if ppid == me and "hall.cli server" in cmdline and f"--port {self.server_port} " in cmdline:
                server = pid
            elif program.endswith("postgres") and f" -p {self.postgres_port} " in cmdline:
                postgres = pid
        return server, postgres

    def read(self) -> dict[str, float]:
        """CPU seconds so far of each side, and of the machine as a whole (busy, all processes)."""
        table = _proc_table()
        server, postgres = self._roots(table)
        with open("/proc/stat", encoding="ascii") as f:
            ticks = [int(v) for v in f.readline().split()[1:]]
        return {
            "client": time.process_time(),
            "server": _tree_cpu_s(table, server),
            "postgres": _tree_cpu_s(table, postgres),
            "machine": (sum(ticks) - ticks[3] - ticks[4]) / CLK_TCK,  # all but idle and iowait
        }


@dataclass
class Phase:
    """One timed run: how many requests completed, in how long, their latencies, and the CPU used."""

    done: list[str]
    seconds: float
    latencies: list[float]
    cpu: dict[str, float]

    def metrics(self, prefix: str, rate_name: str) -> dict[str, float]:
        """Rate, latency percentiles, CPU ms per request of each side and the machine's busy cores."""
        n = max(len(self.done), 1)
        out = {rate_name: round(n / self.seconds, 1), **latency_ms(self.latencies, prefix)}
        for side in ("client", "server", "postgres"):
            if self.cpu[side] > 0:
                out[f"{prefix}_cpu_ms_{side}"] = round(self.cpu[side] / n * 1000, 3)
        if self.cpu["machine"] > 0:
            out[f"{prefix}_machine_busy_cores"] = round(self.cpu["machine"] / self.seconds, 2)
        return out


async def _measured(meter: CpuMeter, work: Awaitable[tuple[list[str], list[float]]]) -> Phase:
    before, watch = meter.read(), Stopwatch()
    done, latencies = await work
    seconds, after = watch.elapsed_s, meter.read()
    return Phase(done, seconds, latencies, {k: after[k] - before[k] for k in before})


def _bodies(total: int) -> Iterator[tuple[str, bytes]]:
    """(item code, encoded body) of each ticket request, made before the clock starts."""
    for i in range(total):
        item = ITEMS[i % len(ITEMS)]
        yield item, json.dumps({"item_code": item, "client_ref": str(new_id())}).encode()


async def issue_all(
    base_url: str, keys: dict[str, str], total: int, clients: int
) -> tuple[list[str], list[float]]:
    """Issue ``total`` tickets from ``clients`` concurrent clients; return ("item/ticket_no", latencies)."""
    latencies: list[float] = []
    issued: list[str] = []
    requests = iter(list(_bodies(total)))

    async def client(n: int) -> None:
        conn = HttpConnection(base_url, keys[f"kiosk-{n % KIOSKS + 1}"])
        try:
            for item, body in requests:
                t0 = time.perf_counter()
                status, answer = await conn.post("/api/v1/tickets", body)
                latencies.append(time.perf_counter() - t0)
                if status != 201:
                    raise RuntimeError(f"ticket not issued: {status} {answer[:200]!r}")
                issued.append(f"{item}/{json.loads(answer)['ticket_no']}")
        finally:
            await conn.close()

    await asyncio.gather(*(client(n) for n in range(clients)))
    return issued, latencies


async def call_all(base_url: str, keys: dict[str, str]) -> tuple[list[str], list[float]]:
    """Every window calls next until nobody waits; return (claimed ticket numbers, latencies)."""
    latencies: list[float] = []
    claimed: list[str] = []

    async def window(n: int) -> None:
        conn = HttpConnection(base_url, keys[f"agent-w{n + 1}"])
        try:
            while True:
                t0 = time.perf_counter()
                status, answer = await conn.post("/api/v1/queue/call-next", b"{}")
                latencies.append(time.perf_counter() - t0)
                if status == 204:
                    return
                if status != 200:
                    raise RuntimeError(f"call-next failed: {status} {answer[:200]!r}")
                ticket: dict[str, Any] = json.loads(answer)
                claimed.append(f"{ticket['item_code']}/{ticket['ticket_no']}")
        finally:
            await conn.close()

    await asyncio.gather(*(window(n) for n in range(WINDOWS)))
    return claimed, latencies


def run(dbs: Databases, work_dir: Path, quick: bool) -> BenchResult | None:
    """Measure the queue, or return None when the server has no ticket queue yet."""
    if not ROUTE.exists():
        return None
    per_level = 60 if quick else 1_500
    levels = CLIENT_LEVELS[:2] if quick else CLIENT_LEVELS  # the headline level is first
    result = BenchResult(
        NAME,
        quick,
        params={
            "tickets_per_level": per_level,
            "client_levels": list(levels),
            "headline_clients": HEADLINE_CLIENTS,
            "kiosk_keys": KIOSKS,
            "windows": WINDOWS,
            "server_workers": SERVER_WORKERS,
            "client": "keep-alive HTTP/1.1 on asyncio streams, one connection per client",
        },
    )
    watch = Stopwatch()
    url = dbs.url("postgres", "bench_tickets")
    keys = prepare_hall(url)
    with hall_server(url, work_dir / "logs", workers=SERVER_WORKERS) as base_url:
        meter = CpuMeter(urlsplit(base_url).port or 0, urlsplit(url).port or 0)
        # Warm-up (every process imports, connects and prepares its statements): checked, not timed.
        issued, _ = asyncio.run(issue_all(base_url, keys, 4 * len(ITEMS) * SERVER_WORKERS, SERVER_WORKERS))
        claimed, _ = asyncio.run(call_all(base_url, keys))
        for clients in levels:
            # Every level starts from an empty queue: the people-ahead count grows with the queue.
            phase = asyncio.run(_measured(meter, issue_all(base_url, keys, per_level, clients)))
            calls = asyncio.run(_measured(meter, call_all(base_url, keys)))
            issued += phase.done
            claimed += calls.done
            if clients == HEADLINE_CLIENTS:
                result.metrics.update(phase.metrics("issue", "tickets_per_s"))
                result.metrics.update(calls.metrics("call_next", "claims_per_s"))
            else:
                result.metrics.update(phase.metrics(f"issue_c{clients}", f"tickets_per_s_c{clients}"))
    result.checks["tickets_issued"] = len(issued)
    result.checks["duplicate_ticket_numbers"] = len(issued) - len(set(issued))
    result.checks["tickets_claimed"] = len(claimed)
    result.checks["duplicate_claims"] = len(claimed) - len(set(claimed))
    result.checks["tickets_never_claimed"] = len(set(issued) - set(claimed))
    if HEADLINE_CLIENTS in levels:
        rate, p99 = result.metrics["tickets_per_s"], result.metrics["issue_p99_ms"]
        result.target("tickets_per_s", f">= {TARGET_TICKETS_PER_S:.0f}", rate, rate >= TARGET_TICKETS_PER_S)
        result.target("issue_p99_ms", f"<= {TARGET_P99_MS:.0f}", p99, p99 <= TARGET_P99_MS)
    result.notes.append(
        f"issuing at {', '.join(map(str, levels))} concurrent clients; unprefixed figures are at "
        f"{HEADLINE_CLIENTS}; *_cpu_ms_* is CPU per request of each side, *_machine_busy_cores the "
        "whole machine's (other work included)"
    )
    result.notes.append(
        f"each level issues {per_level} tickets into an empty queue, then the {WINDOWS} windows call "
        "next until each gets 204 (nobody waiting); the claims reported are those after the "
        f"{HEADLINE_CLIENTS}-client level"
    )
    result.duration_s = round(watch.elapsed_s, 1)
    return result
