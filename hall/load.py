"""``hall sim hall``: a whole hall's load against one server, with errors and latency percentiles.

Windows and kiosks are simulated at the HTTP level (each window: call next, start, finish, a
rating event, heartbeats; each kiosk: tickets), so a thousand windows fit on one machine. The
server runs as its own process over a database this command prepares. Loopback only; it stops
by itself after ``minutes``.
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from hall.demo import DEMO_HALL
from hall.processes import ProcessGroup, wait_http
from server.db import make_engine, session_scope
from server.migrate import upgrade
from server.models.devices import DeviceKind
from server.services.admin import add_device
from server.services.hall_config import OfficerIn, PostIn, WindowIn, load_hall, read_hall_file


def prepare(database_url: str, windows: int, kiosks: int) -> dict[str, str]:
    """Migrate, load the demo hall grown to ``windows`` windows with one officer each; issue keys."""
    upgrade(database_url)
    config = read_hall_file(DEMO_HALL)
    by_dep = {d.code: [i.code for i in config.items if i.department == d.code] for d in config.departments}
    deps = sorted(by_dep)
    config.windows = [
        WindowIn(number=n, department=deps[n % len(deps)], items=by_dep[deps[n % len(deps)]])
        for n in range(1, windows + 1)
    ]
    config.officers += [
        OfficerIn(staff_no=f"L{n:04d}", name=f"测试{n}", department=deps[n % len(deps)])
        for n in range(1, windows + 1)
    ]
    config.posts = [PostIn(window=n, staff_no=f"L{n:04d}", role="A") for n in range(1, windows + 1)]
    config.enrollments = []
    engine = make_engine(database_url)
    keys: dict[str, str] = {}
    with session_scope(engine) as session:
        load_hall(session, config)
        for n in range(1, windows + 1):
            keys[f"agent-w{n}"] = add_device(session, f"agent-w{n}", DeviceKind.AGENT, n)
        for k in range(1, kiosks + 1):
            keys[f"kiosk-{k}"] = add_device(session, f"kiosk-{k}", DeviceKind.KIOSK, None)
    engine.dispose()
    return keys


class Recorder:
    """Latency and errors per operation."""

    def __init__(self) -> None:
        self.latency_ms: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)

    async def timed(self, op: str, request: Any) -> httpx.Response | None:
        """Run one request, recording its latency or its failure (a 5xx or a transport error)."""
        start = time.perf_counter()
        try:
            response: httpx.Response = await request
        except httpx.HTTPError:
            self.errors[op] += 1
            return None
        self.latency_ms[op].append((time.perf_counter() - start) * 1000)
        if response.status_code >= 500:
            self.errors[op] += 1
        return response

    def report(self) -> dict[str, Any]:
        """Counts, errors and p50/p95/p99 per operation."""
        out: dict[str, Any] = {}
        for op in sorted(set(self.latency_ms) | set(self.errors)):
            values = sorted(self.latency_ms[op])

            def pct(p: float, v: list[float] = values) -> float | None:
                return round(v[min(len(v) - 1, int(p * len(v)))], 1) if v else None

            out[op] = {
                "count": len(values),
                "errors": self.errors[op],
                "p50_ms": pct(0.5),
                "p95_ms": pct(0.95),
                "p99_ms": pct(0.99),
            }
        return out


def _rating(device_id: str, window: int, staff_no: str, ticket_no: str, rng: random.Random) -> dict[str, Any]:
    level = rng.choices([1, 2, 3, 4, 5, None], weights=[62, 20, 6, 2, 1, 9])[0]
    return {
        "id": str(uuid.uuid4()),
        "kind": "rating",
        "device_id": device_id,
        "window": window,
        "device_time": datetime.now(UTC).isoformat(),
        "payload": {
            "service_id": str(uuid.uuid4()),
            "level": level,
            "officer_staff_no": staff_no,
            "ticket_no": ticket_no,
        },
    }


async def _window(
    client: httpx.AsyncClient, rec: Recorder, n: int, key: str, deadline: float, rng: random.Random
) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    staff_no, device_id = f"L{n:04d}", f"agent-w{n}"
    last_beat = 0.0
    while time.monotonic() < deadline:
        if time.monotonic() - last_beat > 15:
            beat = {
                "id": str(uuid.uuid4()),
                "kind": "heartbeat",
                "device_id": device_id,
                "window": n,
                "device_time": datetime.now(UTC).isoformat(),
                "payload": {"outbox_depth": 0},
            }
            await rec.timed(
                "heartbeat", client.post("/api/v1/events", json={"events": [beat]}, headers=headers)
            )
            last_beat = time.monotonic()
        r = await rec.timed(
            "call_next", client.post("/api/v1/queue/call-next", json={"staff_no": staff_no}, headers=headers)
        )
        if r is None or r.status_code != 200:
            await asyncio.sleep(rng.uniform(1.0, 3.0))
            continue
        ticket_no = r.json()["ticket_no"]
        for action in ("start", "finish"):
            await asyncio.sleep(rng.uniform(0.2, 1.0))
            await rec.timed(
                action,
                client.post(
                    f"/api/v1/queue/tickets/{ticket_no}/{action}",
                    json={"staff_no": staff_no},
                    headers=headers,
                ),
            )
        body = {
            "sent_at": datetime.now(UTC).isoformat(),
            "events": [_rating(device_id, n, staff_no, ticket_no, rng)],
        }
        await rec.timed("rating", client.post("/api/v1/events", json=body, headers=headers))


async def _kiosk(
    client: httpx.AsyncClient,
    rec: Recorder,
    key: str,
    items: list[str],
    rate_per_s: float,
    deadline: float,
    rng: random.Random,
) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    while time.monotonic() < deadline:
        body = {
            "item_code": rng.choice(items),
            "client_ref": str(uuid.uuid4()),
            "priority": False,
            "citizen": None,
        }
        await rec.timed("ticket", client.post("/api/v1/tickets", json=body, headers=headers))
        await asyncio.sleep(rng.expovariate(rate_per_s))


async def drive(
    server_url: str, keys: dict[str, str], windows: int, kiosks: int, minutes: float, seed: int = 1
) -> dict[str, Any]:
    """Run the load until ``minutes`` pass; return the report."""
    rng = random.Random(seed)
    items = [i.code for i in read_hall_file(DEMO_HALL).items]
    deadline = time.monotonic() + minutes * 60
    rec = Recorder()
    # Tickets arrive a little faster than the windows serve them (one service takes ~1-2 s here).
    rate_per_kiosk = max(0.2, windows / 1.5 / kiosks)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=server_url, timeout=30.0, limits=limits) as client:
        tasks = [
            _window(client, rec, n, keys[f"agent-w{n}"], deadline, random.Random(rng.random()))
            for n in range(1, windows + 1)
        ]
        tasks += [
            _kiosk(
                client, rec, keys[f"kiosk-{k}"], items, rate_per_kiosk, deadline, random.Random(rng.random())
            )
            for k in range(1, kiosks + 1)
        ]
        await asyncio.gather(*tasks)
    return {"windows": windows, "kiosks": kiosks, "minutes": minutes, "operations": rec.report()}


def run_load(
    windows: int,
    kiosks: int,
    minutes: float,
    port: int,
    workers: int,
    out: Path | None,
    database_url: str | None = None,
) -> dict[str, Any]:
    """Prepare a database, start a server, drive the hall, stop everything; return (and write) the report."""
    work = Path(tempfile.mkdtemp(prefix="hall-load-"))
    url = database_url or f"sqlite:///{work / 'hall.db'}"
    keys = prepare(url, windows, kiosks)
    env = {"HALL_DEMO": "1", "HALL_DATABASE_URL": url, "HALL_QUEUE_LAST_TICKET_TIME": "23:59"}
    with ProcessGroup(work / "logs", env) as group:
        server = group.start("server", "server", "--port", str(port), "--workers", str(workers))
        server_url = f"http://127.0.0.1:{port}"
        wait_http(f"{server_url}/healthz", 60, server)
        report = asyncio.run(drive(server_url, keys, windows, kiosks, minutes))
    report["database"] = url.split(":", 1)[0]
    if out is not None:
        out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return report
