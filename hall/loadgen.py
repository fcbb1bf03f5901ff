"""The actors of a hall load run: window agents and kiosks at the HTTP level, one share per process.

Each window does what a real counter agent does, at a hall's pace: it long-polls for commands (the
server answers after ``command_wait_s`` when there is nothing, and the window asks again at once),
sends a heartbeat every 15 s and refreshes its roster every minute; its officer calls the next
ticket, the citizen walks to the window, the service lasts minutes, the citizen rates it. Each kiosk
issues tickets as citizens arrive (a Poisson stream sized to what the windows serve), reports each
printed, and refreshes its item list every 30 s.

Latencies are the server's answer times: a long poll's is counted from the end of the wait it asked
for (how late its empty answer came), so its deliberate wait never inflates the percentiles. Each is
kept with the second of the run it was taken in: the report gives, besides the whole run's
percentiles, those after the first minute (``settle_s``: every window starts at once, which a hall
whose agents boot over minutes never sees) and the p99 of each minute.

A share of the actors runs in one process on one event loop with one aiohttp pool (one process per
about a hundred windows keeps the generator far from saturating its core). This module does not
import the server: spawned processes start fast and stay small.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

from common.ids import new_id

# Keep-alive connections are dropped before uvicorn's own 5 s idle limit, so a request never meets
# a connection the server is closing.
KEEPALIVE_S = 3.5
REQUEST_TIMEOUT_S = 30.0
LONG_POLL_MARGIN_S = 10.0  # a long poll's timeout is its wait plus this (counter_agent.commands)
COMMAND_RETRY_S = 3.0  # counter_agent.commands.COMMAND_RETRY_S
LAG_TICK_S = 0.1
SETTLE_S = 60.0  # the start of a run, left out of the steady-state figures (at most a third of it)


@dataclass(frozen=True)
class Pace:
    """The hall's rhythm, in seconds. A service lasts ``service_s`` on average (0.5x to 1.5x)."""

    service_s: float = 180.0
    walk_s: float = 10.0  # from the call to the start of the service (the citizen walks up)
    rate_s: float = 5.0  # from the end of the service to the rating
    idle_s: float = 15.0  # before calling again when no one waits
    heartbeat_s: float = 15.0  # counter_agent.settings.AgentSettings.heartbeat_s
    command_wait_s: float = 25.0  # the command long poll's wait: counter_agent.commands.COMMAND_WAIT_S
    roster_s: float = 60.0  # counter_agent.runtime.ROSTER_REFRESH_S
    items_s: float = 30.0  # kiosk.settings.KioskSettings.items_refresh_s

    def cycle_s(self) -> float:
        """The mean time a window takes per citizen when the queue is never empty."""
        return self.walk_s + self.service_s + self.rate_s

    def ticket_rate(self, windows: int) -> float:
        """Tickets per second for the whole hall: a little more than the windows can serve."""
        return 1.05 * windows / self.cycle_s()


@dataclass(frozen=True)
class Share:
    """What one process drives: some windows (number, key) and some kiosks (key)."""

    server_url: str
    windows: tuple[tuple[int, str], ...]
    kiosks: tuple[str, ...]
    items: tuple[str, ...]
    ticket_rate_per_kiosk: float
    duration_s: float
    pace: Pace
    seed: int


# What each operation answers when all is well; anything else is an error of the run.
EXPECTED: dict[str, frozenset[int]] = {
    "call_next": frozenset({200, 204}),
    "ticket": frozenset({201}),
}


@dataclass
class Tally:
    """One process's record: latencies (with when they were taken) and failures per operation, and its
    event loop's lag."""

    latency_ms: dict[str, list[float]] = field(default_factory=dict)
    at_s: dict[str, list[float]] = field(default_factory=dict)  # seconds into the run, per latency
    errors: dict[str, dict[str, int]] = field(default_factory=dict)
    loop_lag_ms: list[float] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def ok(self, op: str, ms: float) -> None:
        self.latency_ms.setdefault(op, []).append(ms)
        self.at_s.setdefault(op, []).append(time.monotonic() - self.started)

    def timed(self, op: str) -> list[tuple[float, float]]:
        """(latency in ms, seconds into the run) of every answer to ``op``."""
        return list(zip(self.latency_ms.get(op, []), self.at_s.get(op, []), strict=True))

    def failed(self, op: str, why: str) -> None:
        per_op = self.errors.setdefault(op, {})
        per_op[why] = per_op.get(why, 0) + 1

    def merge(self, other: Tally) -> None:
        """Add another process's record to this one."""
        for op, values in other.latency_ms.items():
            self.latency_ms.setdefault(op, []).extend(values)
            self.at_s.setdefault(op, []).extend(other.at_s.get(op, []))
        for op, reasons in other.errors.items():
            for why, n in reasons.items():
                self.errors.setdefault(op, {})[why] = self.errors.get(op, {}).get(why, 0) + n
        self.loop_lag_ms.extend(other.loop_lag_ms)


def percentile(values: list[float], p: float) -> float | None:
    """The ``p`` quantile (0-1) of sorted ``values``, rounded to 0.1 ms; None when empty."""
    return round(values[min(len(values) - 1, int(p * len(values)))], 1) if values else None


def settle_s(duration_s: float) -> float:
    """How much of a run's start the steady-state figures leave out."""
    return min(SETTLE_S, duration_s / 3)


def report(tally: Tally, duration_s: float) -> dict[str, Any]:
    """Per operation: count, rate, errors (by cause), p50/p95/p99/max latency, and p50/p95/p99 after
    the start (``settle_s``)."""
    out: dict[str, Any] = {}
    settled = settle_s(duration_s)
    for op in sorted(set(tally.latency_ms) | set(tally.errors)):
        values = sorted(tally.latency_ms.get(op, []))
        steady = sorted(ms for ms, at in tally.timed(op) if at >= settled)
        errors = tally.errors.get(op, {})
        out[op] = {
            "count": len(values) + sum(errors.values()),
            "per_s": round((len(values) + sum(errors.values())) / duration_s, 2),
            "errors": sum(errors.values()),
            "error_causes": dict(sorted(errors.items())),
            "p50_ms": percentile(values, 0.5),
            "p95_ms": percentile(values, 0.95),
            "p99_ms": percentile(values, 0.99),
            "max_ms": round(values[-1], 1) if values else None,
            "steady_p50_ms": percentile(steady, 0.5),
            "steady_p95_ms": percentile(steady, 0.95),
            "steady_p99_ms": percentile(steady, 0.99),
        }
    return out


def p99_by_minute(tally: Tally) -> dict[str, float | None]:
    """The p99 of every answer (all operations) in each minute of the run, keyed by the minute's start."""
    minutes: dict[int, list[float]] = {}
    for op in tally.latency_ms:
        for ms, at in tally.timed(op):
            minutes.setdefault(int(at // 60), []).append(ms)
    return {f"{m}": percentile(sorted(v), 0.99) for m, v in sorted(minutes.items())}


class Client:
    """Timed requests of one process: every answer is recorded as a latency or an error."""

    def __init__(self, http: aiohttp.ClientSession, tally: Tally) -> None:
        self.http = http
        self.tally = tally

    async def call(
        self, op: str, method: str, path: str, key: str, body: Any = None, wait_s: float = 0.0
    ) -> tuple[int, Any] | None:
        """Send one request; return (status, JSON or None) when the answer is an expected one.

        ``wait_s`` is a long poll's wait: its timeout is longer by that, and its latency counts
        from the end of it.
        """
        start = time.perf_counter()
        timeout = aiohttp.ClientTimeout(total=wait_s + LONG_POLL_MARGIN_S) if wait_s else self.http.timeout
        try:
            async with self.http.request(
                method, path, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=timeout
            ) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as err:
            self.tally.failed(op, type(err).__name__)
            return None
        if status not in EXPECTED.get(op, frozenset({200})):
            self.tally.failed(op, f"http_{status}")
            return None
        self.tally.ok(op, max(0.0, time.perf_counter() - start - wait_s) * 1000)
        return status, (json.loads(raw) if raw else None)


def _event(kind: str, device_id: str, window: int, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(new_id()),
        "kind": kind,
        "device_id": device_id,
        "window": window,
        "device_time": datetime.now(UTC).isoformat(),
        "payload": payload,
    }


LEVELS = (1, 2, 3, 4, 5, None)
LEVEL_WEIGHTS = (62, 20, 6, 2, 1, 9)  # 非常满意 .. 非常不满意, not rated


async def _every(
    period_s: float, deadline: float, rng: random.Random, step: Callable[[], Awaitable[Any]]
) -> None:
    """Run ``step`` every ``period_s`` until the deadline, starting at a random phase."""
    pause = rng.uniform(0, period_s)
    while await _sleep_until(pause, deadline):
        await step()
        pause = period_s


async def _sleep_until(seconds: float, deadline: float) -> bool:
    """Sleep, but not past the deadline; False when the deadline came first."""
    left = deadline - time.monotonic()
    await asyncio.sleep(max(0.0, min(seconds, left)))
    return seconds < left


async def _services(c: Client, n: int, key: str, pace: Pace, deadline: float, rng: random.Random) -> None:
    staff = {"staff_no": f"L{n:04d}"}
    device_id = f"agent-w{n}"
    if not await _sleep_until(rng.uniform(0, pace.idle_s), deadline):
        return
    while time.monotonic() < deadline:
        called = await c.call("call_next", "POST", "/api/v1/queue/call-next", key, staff)
        if called is None or called[0] != 200:
            if not await _sleep_until(rng.uniform(0.5, 1.5) * pace.idle_s, deadline):
                return
            continue
        ticket_no = called[1]["ticket_no"]
        for action, wait in (("start", pace.walk_s), ("finish", pace.service_s)):
            if not await _sleep_until(rng.uniform(0.5, 1.5) * wait, deadline):
                return
            await c.call(action, "POST", f"/api/v1/queue/tickets/{ticket_no}/{action}", key, staff)
        if not await _sleep_until(rng.uniform(0.5, 1.5) * pace.rate_s, deadline):
            return
        level = rng.choices(LEVELS, weights=LEVEL_WEIGHTS)[0]
        payload = {
            "service_id": str(new_id()),
            "level": level,
            "officer_staff_no": staff["staff_no"],
            "ticket_no": ticket_no,
        }
        body = {"sent_at": datetime.now(UTC).isoformat(), "events": [_event("rating", device_id, n, payload)]}
        await c.call("rating", "POST", "/api/v1/events", key, body)


def _window(c: Client, n: int, key: str, pace: Pace, deadline: float, rng: random.Random) -> list[Any]:
    """The concurrent loops of one window's agent."""
    device_id = f"agent-w{n}"

    async def beat() -> None:
        body = {"events": [_event("heartbeat", device_id, n, {"outbox_depth": 0})]}
        await c.call("heartbeat", "POST", "/api/v1/events", key, body)

    async def commands() -> None:
        # A hall's agents each have a long poll under way at any time, ending at random phases: so
        # does the first one here; the next ones wait the whole time.
        wait_s = rng.uniform(0.1, pace.command_wait_s)
        while (left := deadline - time.monotonic()) > 0.05:
            wait_s = round(min(wait_s, left), 2)
            path = f"/api/v1/edge/commands?wait_s={wait_s}"
            started = time.monotonic()
            failed = await c.call("commands", "GET", path, key, wait_s=wait_s) is None
            # As the agent: after an error, and never sooner than this after the last start.
            pause = COMMAND_RETRY_S if failed else started + COMMAND_RETRY_S - time.monotonic()
            if pause > 0 and not await _sleep_until(pause, deadline):
                return
            wait_s = pace.command_wait_s

    async def roster() -> None:
        await c.call("roster", "GET", "/api/v1/edge/roster", key)

    return [
        _services(c, n, key, pace, deadline, rng),
        _every(pace.heartbeat_s, deadline, rng, beat),
        commands(),
        _every(pace.roster_s, deadline, rng, roster),
    ]


def _kiosk(c: Client, key: str, share: Share, deadline: float, rng: random.Random) -> list[Any]:
    """The loops of one kiosk: tickets as citizens arrive, and the item list refresh."""

    async def tickets() -> None:
        while await _sleep_until(rng.expovariate(share.ticket_rate_per_kiosk), deadline):
            body = {"item_code": rng.choice(share.items), "client_ref": str(new_id()), "priority": False}
            issued = await c.call("ticket", "POST", "/api/v1/tickets", key, body)
            if issued is not None:
                await c.call("printed", "POST", f"/api/v1/tickets/{issued[1]['ticket_no']}/printed", key)

    async def items() -> None:
        await c.call("items", "GET", "/api/v1/items", key)

    return [tickets(), _every(share.pace.items_s, deadline, rng, items)]


async def _watch_lag(tally: Tally, deadline: float) -> None:
    """How late this process's event loop wakes: a saturated generator would show it here."""
    while time.monotonic() < deadline:
        planned = time.perf_counter() + LAG_TICK_S
        await asyncio.sleep(LAG_TICK_S)
        tally.loop_lag_ms.append(max(0.0, (time.perf_counter() - planned) * 1000))


async def drive_share(share: Share) -> Tally:
    """Run one share of the hall until its duration ends."""
    rng = random.Random(share.seed)
    tally = Tally()  # its clock starts here, as the run's
    deadline = time.monotonic() + share.duration_s
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=KEEPALIVE_S)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(share.server_url, connector=connector, timeout=timeout) as http:
        c = Client(http, tally)
        loops: list[Any] = [_watch_lag(tally, deadline)]
        for n, key in share.windows:
            loops += _window(c, n, key, share.pace, deadline, random.Random(rng.random()))
        for key in share.kiosks:
            loops += _kiosk(c, key, share, deadline, random.Random(rng.random()))
        await asyncio.gather(*loops)
    return tally


def run_share(share: Share) -> Tally:
    """Process entry point: drive one share on a fresh event loop."""
    return asyncio.run(drive_share(share))
