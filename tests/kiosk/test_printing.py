"""Printing and the journal against the real printer simulator (the server unreachable on purpose)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kiosk.devices.printer.simulator import PrinterSimulator
from kiosk.journal import JobState, Journal, PrintJob
from kiosk.printing import Printing, PrintStatus, ticket_content
from kiosk.server_client import ServerClient
from tests.pg_harness import free_port

pytestmark = pytest.mark.timeout(30)
SHANGHAI = ZoneInfo("Asia/Shanghai")
TICKET = {
    "ticket_no": "D007",
    "item_code": "RS01",
    "item_name": "社会保障卡办理",
    "window_group": "3、4号窗口",
    "people_ahead": 3,
    "estimated_wait_min": 12,
    "issued_at": "2026-03-02T01:30:00+00:00",
    "status_url": "http://hall.example/t/tok",
    "materials": ["居民身份证原件", "近期免冠证件照"],
    "priority": False,
    "citizen_masked": "340***********001X",
}


def test_ticket_content_in_hall_time_and_masked() -> None:
    content = ticket_content(TICKET, "示范市政务服务中心", SHANGHAI)
    assert content.issued_at == datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)
    assert (content.number, content.people_ahead, content.estimated_wait_min) == ("D007", 3, 12)
    assert content.id_masked == "340***********001X" and content.qr_url == "http://hall.example/t/tok"
    with pytest.raises(ValueError, match="masked"):
        ticket_content({**TICKET, "citizen_masked": "34052419800101001X"}, "x", SHANGHAI)


def test_journal_survives_a_restart_and_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "unprinted.json"
    journal = Journal(path)
    journal.add(PrintJob("A001", {"ticket_no": "A001"}, 1.0))
    journal.add(PrintJob("A001", {"ticket_no": "A001"}, 2.0))  # a reissue while still unprinted
    journal.add(PrintJob("A002", {"ticket_no": "A002"}, 3.0, JobState.PRINTED))
    journal.write(journal.snapshot())
    again = Journal(path)
    again.load()
    assert [(j.ticket_no, j.state, j.created_at) for j in again.jobs] == [
        ("A001", JobState.UNPRINTED, 1.0),
        ("A002", JobState.PRINTED, 3.0),
    ]
    assert [j.ticket_no for j in again.pending()] == ["A001"]
    path.write_text("{not json", encoding="utf-8")
    broken = Journal(path)
    broken.load()
    assert broken.jobs == [] and path.with_suffix(".broken").exists()


def run_printing(
    tmp_path: Path,
    sim: PrinterSimulator,
    body: Callable[[Printing], Awaitable[None]],
    cancel_after_s: float = 600,
    journal: Journal | None = None,
) -> Journal:
    """Run a Printing over the simulator while ``body`` runs; the server URL has nobody listening."""
    journal = journal or Journal(tmp_path / "unprinted.json")

    async def main() -> None:
        server = ServerClient(f"http://127.0.0.1:{free_port()}", "key", timeout_s=0.5)
        printing = Printing(
            sim.slave_path,
            "gb18030",
            9600,
            journal,
            server,
            "示范市政务服务中心",
            SHANGHAI,
            cancel_after_s,
            0.2,
        )
        task = asyncio.create_task(printing.run())
        try:
            await asyncio.wait_for(body(printing), 20)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await server.aclose()

    # A thread of its own: the session's Playwright browser keeps a loop running on the main thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, main()).result(timeout=25)
    return journal


async def until(check: Callable[[], Any], timeout_s: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def test_printed_ticket_is_kept_until_the_server_is_told(tmp_path: Path) -> None:
    with PrinterSimulator() as sim:

        async def body(printing: Printing) -> None:
            await until(lambda: printing.supervisor.device is not None)
            await printing.submit(dict(TICKET))
            await until(lambda: printing.status_of("D007") == PrintStatus.PRINTED)
            # The screen says printed before the journal's save of it lands.
            await until(lambda: '"printed"' in printing.journal.path.read_text(encoding="utf-8"))

        journal = run_printing(tmp_path, sim, body)
        (ticket,) = sim.tickets
    lines = ticket.text.splitlines()
    assert (
        "D007" in lines and "前面等候：3人，预计约12分钟" in lines and "取号时间：2026-03-02 09:30" in lines
    )
    saved = json.loads(journal.path.read_text(encoding="utf-8"))
    assert [(j["ticket_no"], j["state"]) for j in saved] == [("D007", "printed")]


def test_paper_out_keeps_the_ticket_then_cancels_it_after_the_limit(tmp_path: Path) -> None:
    with PrinterSimulator() as sim:
        sim.paper_out = True

        async def body(printing: Printing) -> None:
            await until(lambda: printing.supervisor.device is not None)
            await printing.submit(dict(TICKET))
            await until(lambda: printing.status_of("D007") == PrintStatus.WAITING)
            assert printing.problem == "打印机缺纸"
            await until(lambda: printing.status_of("D007") == PrintStatus.CANCELLED)

        journal = run_printing(tmp_path, sim, body, cancel_after_s=1.0)
        assert sim.tickets == []
    # The cancel is owed to the server (unreachable here) and kept durably.
    saved = json.loads(journal.path.read_text(encoding="utf-8"))
    assert [(j["ticket_no"], j["state"]) for j in saved] == [("D007", "cancel")]


def test_overlapping_journal_saves_all_land_and_the_last_state_wins(tmp_path: Path) -> None:
    """A ticket submitted while another is being marked printed: both saves run, none fails."""
    journal = Journal(tmp_path / "unprinted.json")

    async def main() -> None:
        server = ServerClient(f"http://127.0.0.1:{free_port()}", "key", timeout_s=0.5)
        printing = Printing(
            "/dev/null", "gb18030", 9600, journal, server, "示范市政务服务中心", SHANGHAI, 60.0, 0.2
        )
        saves = []
        for n in range(30):
            journal.add(PrintJob(f"A{n:03d}", {"ticket_no": f"A{n:03d}"}, float(n)))
            saves.append(printing._save())
        await asyncio.gather(*saves)
        await server.aclose()

    asyncio.run(main())
    again = Journal(tmp_path / "unprinted.json")
    again.load()
    assert [job.ticket_no for job in again.jobs] == [f"A{n:03d}" for n in range(30)]


class SlowJournal(Journal):
    """A journal whose disk is slower than the print worker's retry tick."""

    def write(self, text: str) -> None:
        time.sleep(1.5)
        super().write(text)


def test_a_ticket_printed_while_its_journal_entry_is_saved_shows_printed(tmp_path: Path) -> None:
    """The worker prints the job during submit's save; the screen must still end on PRINTED."""
    with PrinterSimulator() as sim:

        async def body(printing: Printing) -> None:
            await until(lambda: printing.supervisor.device is not None)
            await printing.submit(dict(TICKET))
            await until(lambda: printing.status_of("D007") == PrintStatus.PRINTED, timeout_s=5)

        journal = SlowJournal(tmp_path / "unprinted.json")
        run_printing(tmp_path, sim, body, journal=journal)
        assert len(sim.tickets) == 1
