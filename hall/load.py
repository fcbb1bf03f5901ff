"""``hall sim hall``: a whole hall's load against one server, with errors and latency percentiles.

Windows and kiosks are simulated at the HTTP level, at a hall's pace (``hall.loadgen``), spread over
processes so a thousand windows fit on one machine. The server runs as its own process over a
database this command prepares. Loopback only; it stops by itself after ``minutes``.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hall.demo import DEMO_HALL
from hall.loadgen import Pace, Share, Tally, p99_by_minute, percentile, report, run_share, settle_s
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


def split(n: int, parts: int) -> list[range]:
    """``range(n)`` cut into ``parts`` contiguous pieces whose sizes differ by at most one."""
    return [range(n * i // parts, n * (i + 1) // parts) for i in range(parts)]


def shares(
    server_url: str,
    keys: dict[str, str],
    windows: int,
    kiosks: int,
    minutes: float,
    pace: Pace,
    processes: int,
    seed: int = 1,
) -> list[Share]:
    """The hall cut into one share per process (windows and kiosks spread evenly)."""
    items = tuple(i.code for i in read_hall_file(DEMO_HALL).items)
    rate_per_kiosk = pace.ticket_rate(windows) / max(1, kiosks)
    window_parts, kiosk_parts = split(windows, processes), split(kiosks, processes)
    return [
        Share(
            server_url=server_url,
            windows=tuple((n + 1, keys[f"agent-w{n + 1}"]) for n in window_parts[i]),
            kiosks=tuple(keys[f"kiosk-{k + 1}"] for k in kiosk_parts[i]),
            items=items,
            ticket_rate_per_kiosk=rate_per_kiosk,
            duration_s=minutes * 60,
            pace=pace,
            seed=seed * 1000 + i,
        )
        for i in range(processes)
    ]


def drive(parts: list[Share]) -> dict[str, Any]:
    """Run every share in its own process until they end; return the merged report."""
    total = Tally()
    if len(parts) == 1:
        total.merge(run_share(parts[0]))
    else:
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=len(parts), mp_context=spawn) as pool:
            for tally in pool.map(run_share, parts):
                total.merge(tally)
    duration_s = parts[0].duration_s
    lag = sorted(total.loop_lag_ms)
    operations = report(total, duration_s)
    return {
        "generator_processes": len(parts),
        "requests_per_s": round(sum(op["count"] for op in operations.values()) / duration_s, 1),
        "errors": sum(op["errors"] for op in operations.values()),
        "generator_loop_lag_ms": {"p99": percentile(lag, 0.99), "max": lag[-1] if lag else None},
        "steady_after_s": settle_s(duration_s),
        "p99_ms_by_minute": p99_by_minute(total),
        "operations": operations,
    }


WINDOWS_PER_PROCESS = 100


def run_load(
    windows: int,
    kiosks: int,
    minutes: float,
    port: int,
    workers: int,
    out: Path | None,
    database_url: str | None = None,
    pace: Pace | None = None,
    processes: int | None = None,
    work_dir: Path | None = None,
) -> dict[str, Any]:
    """Prepare a database, start a server, drive the hall, stop everything; return (and write) the report.

    The server's log (and the SQLite database unless ``database_url`` names one) stay in ``work_dir``,
    by default a new temporary directory named in the report.
    """
    pace = pace or Pace()
    processes = processes or max(1, math.ceil(windows / WINDOWS_PER_PROCESS))
    work = work_dir or Path(tempfile.mkdtemp(prefix="hall-load-"))
    work.mkdir(parents=True, exist_ok=True)
    url = database_url or f"sqlite:///{work / 'hall.db'}"
    keys = prepare(url, windows, kiosks)
    env = {"HALL_DEMO": "1", "HALL_DATABASE_URL": url, "HALL_QUEUE_LAST_TICKET_TIME": "23:59"}
    with ProcessGroup(work / "logs", env) as group:
        server = group.start("server", "server", "--port", str(port), "--workers", str(workers))
        server_url = f"http://127.0.0.1:{port}"
        wait_http(f"{server_url}/healthz", 60, server)
        result = drive(shares(server_url, keys, windows, kiosks, minutes, pace, processes))
    report = {
        "windows": windows,
        "kiosks": kiosks,
        "minutes": minutes,
        "server_workers": workers,
        "database": url.split(":", 1)[0],
        "pace_s": asdict(pace),
        "work_dir": str(work),
        **result,
    }
    if out is not None:
        out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return report
