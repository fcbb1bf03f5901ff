"""The ticket kiosk: the citizen's touch (直接取号) -> the ticket's first byte on the printer's line."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.common import BenchResult, Stopwatch, latency_ms, percentile
from bench.stack import Databases, free_port, hall_server, prepare_hall
from common.ids import new_id
from hall.processes import ProcessGroup, wait_http
from kiosk.devices.printer.page import PrintedTicket
from kiosk.devices.printer.simulator import PrinterSimulator
from kiosk.devices.printer.status import DLE_EOT

log = logging.getLogger(__name__)

NAME = "kiosk"
FIRST_BYTE_P95_TARGET_MS = 300.0
KIOSK_ID = "kiosk-1"
SERVER_BASELINE_KEY = "kiosk-2"
PRINT_TIMEOUT_S = 10.0
# The citizen takes the paper and walks away before the next one touches the screen.
TAKE_PAPER_S = 0.25
# After the last touch: long enough for a stray second print of any ticket to show up.
SETTLE_S = 1.5


@dataclass(frozen=True)
class Plan:
    """Sizes of one kiosk run."""

    touches: int
    warmup: int


def plan(quick: bool) -> Plan:
    """The full run, or a small one that only proves the harness works."""
    return Plan(10, 1) if quick else Plan(200, 5)


def _status_requests_only(data: bytes) -> bool:
    """True when ``data`` holds nothing but ``DLE EOT n`` status requests (the pre-print check)."""
    if len(data) % 3:
        return False
    return all(data[i : i + 2] == DLE_EOT for i in range(0, len(data), 3))


@dataclass(frozen=True)
class Print:
    """One ticket as the printer saw it: when its first byte arrived, and the paper."""

    first_byte_at: float
    ticket: PrintedTicket


class TimedPrinter(PrinterSimulator):
    """The ESC/POS printer simulator on a pty this process owns, timestamping each ticket's bytes.

    Reads happen on the master side of the pty (the simulator's thread, woken by ``select``);
    the kiosk's unchanged driver writes to the slave path. Status requests (``DLE EOT n``, the
    supervisor's checks and the check before each ticket) are answered and not counted as print
    data: a ticket's first byte is the first byte after them that is not a status request.
    """

    def __init__(self, encoding: str = "gb18030") -> None:
        super().__init__(encoding, on_ticket=self._cut)
        self.prints: list[Print] = []
        self._first_byte_at: float | None = None
        self._chunk_at = 0.0
        self._printed = threading.Condition()

    def on_bytes(self, data: bytes) -> None:
        """Timestamp the chunk, note where a ticket starts, then behave as the simulator does."""
        now = time.perf_counter()
        self._chunk_at = now
        if self._first_byte_at is None and not _status_requests_only(data):
            self._first_byte_at = now
        super().on_bytes(data)

    def _cut(self, ticket: PrintedTicket) -> None:
        first = self._first_byte_at if self._first_byte_at is not None else self._chunk_at
        self._first_byte_at = None
        with self._printed:
            self.prints.append(Print(first, ticket))
            self._printed.notify_all()

    def wait_for_prints(self, count: int, timeout_s: float) -> list[Print]:
        """Wait until at least ``count`` tickets were cut (or the timeout passed); return them all."""
        with self._printed:
            self._printed.wait_for(lambda: len(self.prints) >= count, timeout=timeout_s)
            return list(self.prints)


def write_config(work: Path, key: str, server_url: str, printer_path: str, http_port: int) -> Path:
    """The kiosk's TOML: the real printer driver on our pty, the simulated ID-card reader, loopback page."""
    path = work / "kiosk.toml"
    path.write_text(
        "\n".join(
            [
                f'server_url = "{server_url}"',
                f'device_id = "{KIOSK_ID}"',
                f'device_key = "{key}"',
                f'data_dir = "{(work / "kiosk-data").resolve()}"',
                f'printer_url = "{printer_path}"',
                'idcard_url = "sim"',
                f"http_port = {http_port}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def wait_ready(client: httpx.Client, timeout_s: float = 60.0) -> None:
    """Wait until the kiosk has its item list from the server and its printer passes a status check."""
    deadline = time.monotonic() + timeout_s
    health: dict[str, Any] = {}
    while time.monotonic() < deadline:
        health = client.get("/healthz").json()
        if health.get("server") == "ok" and health.get("printer") == "ok":
            return
        time.sleep(0.2)
    raise TimeoutError(f"kiosk not ready after {timeout_s} s: {health}")


class Citizen:
    """Walks the touch screen as the page does (``POST /api/event``), one citizen after another."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.count = 0
        self.item_codes: list[str] = []

    def event(self, type_: str, code: str | None = None) -> dict[str, Any]:
        """One touch; the kiosk answers with the state the page renders."""
        r = self.client.post("/api/event", json={"type": type_, "code": code})
        r.raise_for_status()
        view: dict[str, Any] = r.json()
        return view

    def to_item_screen(self) -> None:
        """开始取号 -> a department -> an item (materials shown), rotating over the catalog."""
        view = self.event("start")
        if view["screen"] != "department":
            raise RuntimeError(f"start led to {view['screen']!r}: {view.get('message')}")
        departments = view["departments"]
        view = self.event("department", departments[self.count % len(departments)]["code"])
        items = view["items"]
        code = str(items[(self.count // len(departments)) % len(items)]["code"])
        view = self.event("item", code)
        if view["screen"] != "item":
            raise RuntimeError(f"item choice led to {view['screen']!r}")
        self.item_codes.append(code)
        self.count += 1

    def ticket_shown(self, timeout_s: float) -> dict[str, Any]:
        """The ticket on the screen once the server's answer is in (polled as the page polls)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            view = self.client.get("/api/state").json()
            if view["screen"] == "ticket" and view["ticket"]:
                ticket: dict[str, Any] = view["ticket"]
                return ticket
            if view["screen"] == "failure":
                raise RuntimeError(f"no ticket: {view.get('message')}")
            time.sleep(0.01)
        raise TimeoutError(f"no ticket on the screen after {timeout_s} s")


@dataclass
class Sample:
    """One touch: what the screen showed and the times from the touch, in seconds."""

    ticket_no: str
    answer_s: float
    first_byte_s: float | None
    printed_text: str


def touch_and_print(citizen: Citizen, printer: TimedPrinter) -> Sample:
    """One citizen: reach the item screen, touch 直接取号, wait for the paper to be cut."""
    citizen.to_item_screen()
    before = len(printer.prints)
    t0 = time.perf_counter()
    view = citizen.event("take")  # the touch that issues and prints the ticket
    answer_s = time.perf_counter() - t0
    if view["screen"] not in ("issuing", "ticket"):
        raise RuntimeError(f"直接取号 led to {view['screen']!r}")
    prints = printer.wait_for_prints(before + 1, PRINT_TIMEOUT_S)
    shown = citizen.ticket_shown(PRINT_TIMEOUT_S)
    time.sleep(TAKE_PAPER_S)
    citizen.event("home")
    if len(prints) <= before:
        return Sample(str(shown["ticket_no"]), answer_s, None, "")
    printed = prints[before]
    return Sample(str(shown["ticket_no"]), answer_s, printed.first_byte_at - t0, printed.ticket.text)


def server_issue_latencies(server_url: str, key: str, item_codes: list[str]) -> list[float]:
    """The server's share: the kiosk's own request (``POST /api/v1/tickets``) sent straight, one at a time."""
    samples = []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=server_url, headers=headers, timeout=30) as client:
        for code in item_codes:
            body = {"item_code": code, "client_ref": str(new_id()), "priority": False, "citizen": None}
            t0 = time.perf_counter()
            r = client.post("/api/v1/tickets", json=body)
            samples.append(time.perf_counter() - t0)
            if r.status_code != 201:
                raise RuntimeError(f"ticket not issued: {r.status_code} {r.text[:200]}")
    return samples


def run(dbs: Databases, work_dir: Path, quick: bool) -> BenchResult:
    """Touch -> first ticket byte at the printer, with ``hall kiosk`` and ``hall server`` on loopback."""
    p = plan(quick)
    result = BenchResult(NAME, quick, params=dict(p.__dict__))
    result.params.update({"server": "SQLite, hall server --workers 1", "take_paper_s": TAKE_PAPER_S})
    watch = Stopwatch()
    work = work_dir / "kiosk"
    work.mkdir(parents=True, exist_ok=True)
    logging.getLogger("kiosk.devices").setLevel(logging.WARNING)  # one "ticket cut" line per touch
    url = dbs.url("sqlite", "bench_kiosk")
    keys = prepare_hall(url)
    printer = TimedPrinter()
    printer_path = printer.start()
    all_samples: list[Sample] = []
    try:
        with hall_server(url, work / "logs") as server_url, ProcessGroup(work / "logs") as group:
            http_port = free_port()
            config = write_config(work, keys[KIOSK_ID], server_url, printer_path, http_port)
            proc = group.start("kiosk", "kiosk", "--config", str(config), env={"HALL_LOG_LEVEL": "WARNING"})
            kiosk_url = f"http://127.0.0.1:{http_port}"
            wait_http(f"{kiosk_url}/healthz", 60, proc)
            with httpx.Client(base_url=kiosk_url, timeout=30) as client:
                wait_ready(client)
                citizen = Citizen(client)
                for _ in range(p.warmup + p.touches):
                    all_samples.append(touch_and_print(citizen, printer))
                time.sleep(SETTLE_S)
            # Same items, another kiosk key, the kiosk idle: how much of the touch is the server's.
            issue = server_issue_latencies(server_url, keys[SERVER_BASELINE_KEY], citizen.item_codes)
            if proc.poll() is not None:
                raise RuntimeError(f"the kiosk exited with {proc.returncode}; see {work / 'logs'}")
    finally:
        printer.stop()

    samples = all_samples[p.warmup :]
    first_byte = [s.first_byte_s for s in samples if s.first_byte_s is not None]
    if not first_byte:
        raise RuntimeError("no ticket reached the printer")
    result.metrics.update(latency_ms(first_byte, "touch_to_first_byte"))
    result.metrics.update(latency_ms([s.answer_s for s in samples], "touch_answer"))
    result.metrics.update(latency_ms(issue[p.warmup :], "server_issue"))
    if all_samples[0].first_byte_s is not None:
        # The first citizen after the kiosk started (a warm-up touch, not in the percentiles).
        result.metrics["first_touch_after_start_ms"] = round(all_samples[0].first_byte_s * 1000, 3)
    sizes = [len(pr.ticket.raw) for pr in printer.prints]
    result.metrics["ticket_bytes_mean"] = round(sum(sizes) / len(sizes), 1)

    numbers = [s.ticket_no for s in samples]
    total_touches = p.warmup + p.touches
    result.checks.update(
        {
            "touches": p.touches,
            "tickets_printed": len(printer.prints) - p.warmup,
            # Every touch printed exactly one ticket, and no ticket came out twice or unasked.
            "printed_count_mismatch": abs(len(printer.prints) - total_touches),
            "touches_without_print_mismatch": p.touches - len(first_byte),
            "ticket_number_mismatch": sum(1 for s in samples if s.ticket_no not in s.printed_text),
            "duplicate_ticket_numbers": len(numbers) - len(set(numbers)),
        }
    )
    p95 = percentile(first_byte, 95) * 1000
    result.target(
        "touch_to_first_byte_p95",
        f"p95 <= {FIRST_BYTE_P95_TARGET_MS:.0f} ms (server on loopback)",
        p95,
        p95 <= FIRST_BYTE_P95_TARGET_MS,
    )
    result.notes.append(
        "touch = POST /api/event {type: take} (直接取号) on the hall kiosk process; first byte = first "
        "non-status byte read on the master side of the printer pty (a pty has no 9600-baud pacing: the "
        "whole ticket arrives at once); server_issue = POST /api/v1/tickets sent straight, kiosk idle"
    )
    result.duration_s = round(watch.elapsed_s, 1)
    return result
