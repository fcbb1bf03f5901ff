"""Ticket printing: the printer under a supervisor, and a worker that prints what the journal owes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.devices.errors import DeviceError
from kiosk.devices.printer import (
    CoverOpenError,
    PaperOutError,
    PrinterError,
    PrinterNotReadyError,
    TicketContent,
    TicketPrinter,
)
from kiosk.devices.supervisor import DeviceState, DeviceSupervisor, StateCallback
from kiosk.journal import JobState, Journal, PrintJob
from kiosk.server_client import ServerClient, ServerRejectedError, ServerUnreachableError

log = logging.getLogger(__name__)

RETRY_S = 1.0


class PrintStatus:
    """What the ticket screen says about a ticket's paper."""

    PRINTING = "printing"
    PRINTED = "printed"
    WAITING = "waiting"  # kept as unprinted until the printer is back
    CANCELLED = "cancelled"


def ticket_content(ticket: dict[str, Any], hall_name: str, tz: ZoneInfo) -> TicketContent:
    """The printed layout of a ticket as the server issued it (times in the hall's zone)."""
    issued = datetime.fromisoformat(str(ticket["issued_at"]).replace("Z", "+00:00"))
    if issued.tzinfo is not None:
        issued = issued.astimezone(tz)
    return TicketContent(
        number=str(ticket["ticket_no"]),
        item_name=str(ticket.get("item_name", "")),
        window_group=str(ticket.get("window_group", "")),
        issued_at=issued,
        people_ahead=int(ticket.get("people_ahead", 0)),
        estimated_wait_min=int(ticket.get("estimated_wait_min", 0)),
        materials=[str(m) for m in ticket.get("materials") or ()],
        qr_url=str(ticket.get("status_url", "")),
        hall_name=hall_name,
        priority=bool(ticket.get("priority", False)),
        id_masked=ticket.get("citizen_masked") or None,
    )


def _classify(err: DeviceError) -> DeviceState:
    # Paper out or cover open: the printer still answers, so keep it open and keep checking.
    return DeviceState.DEGRADED if isinstance(err, PrinterNotReadyError) else DeviceState.UNAVAILABLE


def problem_text(supervisor: DeviceSupervisor[TicketPrinter], last: PrinterError | None) -> str:
    """The printer's trouble in plain Chinese, or "" when it is fine."""
    if supervisor.state is DeviceState.OK and last is None:
        return ""
    if isinstance(last, PaperOutError) or "paper out" in supervisor.reason:
        return "打印机缺纸"
    if isinstance(last, CoverOpenError) or "cover open" in supervisor.reason:
        return "打印机上盖未关好"
    if supervisor.state is DeviceState.UNAVAILABLE:
        return "打印机未连接"
    return "打印机暂时无法打印" if last is not None else ""


class Printing:
    """Owns the printer and the journal; prints each owed ticket once the printer can."""

    def __init__(
        self,
        url: str,
        encoding: str,
        baud: int,
        journal: Journal,
        server: ServerClient,
        hall_name: str,
        tz: ZoneInfo,
        cancel_after_s: float,
        check_interval_s: float = 2.0,
        on_state: StateCallback | None = None,
    ) -> None:
        self.on_state = on_state
        self.journal = journal
        self.server = server
        self.hall_name = hall_name
        self.tz = tz
        self.cancel_after_s = cancel_after_s
        self.outcomes: dict[str, str] = {}
        self.last_error: PrinterError | None = None
        # The supervisor's status checks and the prints share one serial port.
        self._port_lock = threading.Lock()
        self._wake = asyncio.Event()
        self._save_lock = asyncio.Lock()

        def open_printer() -> TicketPrinter:
            printer = TicketPrinter(url, baud=baud, encoding=encoding)
            printer.open()
            return printer

        def check(printer: TicketPrinter) -> None:
            with self._port_lock:
                printer.check_ready()

        self.supervisor: DeviceSupervisor[TicketPrinter] = DeviceSupervisor(
            "printer",
            "printer",
            open_printer,
            check,
            self._on_change,
            close_fn=lambda p: p.close(),
            classify=_classify,
            check_interval_s=check_interval_s,
            backoff_max_s=5.0,
        )

    def _on_change(self, name: str, kind: str, state: DeviceState, reason: str) -> None:
        if self.on_state is not None:
            self.on_state(name, kind, state, reason)
        if state is DeviceState.OK:
            self.last_error = None
            self._wake.set()

    @property
    def problem(self) -> str:
        """The printer's trouble in plain Chinese ("" when fine)."""
        return problem_text(self.supervisor, self.last_error)

    async def submit(self, ticket: dict[str, Any]) -> None:
        """Owe a print of ``ticket`` (durably) and start printing it."""
        ticket_no = str(ticket["ticket_no"])
        # The outcome first: the worker may print the job while the journal is being saved, and
        # its PRINTED must not be overwritten afterwards.
        self.outcomes[ticket_no] = PrintStatus.PRINTING
        self.journal.add(PrintJob(ticket_no, dict(ticket), time.time()))
        await self._save()
        self._wake.set()

    def status_of(self, ticket_no: str) -> str:
        """PrintStatus of a ticket issued at this kiosk."""
        return self.outcomes.get(ticket_no, PrintStatus.PRINTING)

    async def run(self) -> None:
        """Supervise the printer and work the journal until cancelled."""
        await asyncio.to_thread(self.journal.load)
        for job in self.journal.pending():
            self.outcomes[job.ticket_no] = PrintStatus.WAITING
        self.supervisor.start()
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), RETRY_S)
                self._wake.clear()
                await self._work()
        finally:
            await self.supervisor.stop()

    async def _save(self) -> None:
        # One write at a time, each of the state as it is when its turn comes: two overlapping
        # writes (a ticket submitted while another is marked printed) raced on the temp file.
        async with self._save_lock:
            await asyncio.to_thread(self.journal.write, self.journal.snapshot())

    async def _work(self) -> None:
        for job in list(self.journal.jobs):
            if job.state is JobState.UNPRINTED:
                if time.time() - job.created_at > self.cancel_after_s:
                    job.state = JobState.CANCEL
                    self.outcomes[job.ticket_no] = PrintStatus.CANCELLED
                    log.warning("ticket %s not printed in time: cancelling it", job.ticket_no)
                    await self._save()
                elif not await self._print(job):
                    self.outcomes[job.ticket_no] = PrintStatus.WAITING
                    continue  # later jobs still get cancelled when too old
            if job.state in (JobState.PRINTED, JobState.CANCEL):
                await self._report(job)

    async def _print(self, job: PrintJob) -> bool:
        printer = self.supervisor.device
        if printer is None or self.supervisor.state is DeviceState.UNAVAILABLE:
            return False
        if self.last_error is not None and self.supervisor.state is not DeviceState.OK:
            return False  # wait for a passing status check before trying again
        content = ticket_content(job.ticket, self.hall_name, self.tz)
        job.attempts += 1
        try:
            await asyncio.to_thread(self._print_locked, printer, content)
        except PrinterError as err:
            log.warning("ticket %s not printed: %s", job.ticket_no, err)
            self.last_error = err
            self.supervisor.report_error(err)
            return False
        self.last_error = None
        job.state = JobState.PRINTED
        self.outcomes[job.ticket_no] = PrintStatus.PRINTED
        await self._save()
        return True

    def _print_locked(self, printer: TicketPrinter, content: TicketContent) -> None:
        with self._port_lock:
            printer.print_ticket(content)

    async def _report(self, job: PrintJob) -> None:
        try:
            if job.state is JobState.PRINTED:
                await self.server.mark_printed(job.ticket_no)
            else:
                await self.server.cancel(job.ticket_no)
        except ServerUnreachableError as err:
            log.debug("ticket %s: server not told yet (%s)", job.ticket_no, err)
            return
        except ServerRejectedError as err:
            # The server knows better (ticket already called or cancelled): nothing left to do.
            log.warning("ticket %s: server refused %s: %s", job.ticket_no, job.state.value, err.detail)
        self.journal.remove(job)
        await self._save()
