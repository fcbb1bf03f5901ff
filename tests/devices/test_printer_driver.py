"""Driver against the simulator over a real pty: tickets, receipts and every fault switch."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.devices.errors import DeviceConnectionError, DeviceTimeoutError
from kiosk.devices.printer import (
    CoverOpenError,
    PaperOutError,
    PrinterConnectionError,
    PrinterOfflineError,
    PrinterTimeoutError,
    TicketPrinter,
)
from kiosk.devices.printer.commands import Align
from kiosk.devices.printer.layout import render_ticket
from kiosk.devices.printer.simulator import PrinterSimulator
from tests.conftest import device_url_for
from tests.devices.test_printer_bytes import make_receipt, make_ticket

pytestmark = pytest.mark.timeout(20)
TIMEOUT_S = 0.3


class Rig:
    """A simulator behind a stable symlink (like /dev/serial/by-id) and a driver on that link."""

    def __init__(self, link: Path, encoding: str) -> None:
        self.link = link
        self.sim = PrinterSimulator(encoding=encoding)
        self.plug(self.sim.start())
        self.printer = TicketPrinter(str(link), encoding=encoding, timeout_s=TIMEOUT_S)

    def plug(self, tty_path: str) -> None:
        self.link.unlink(missing_ok=True)
        self.link.symlink_to(tty_path)


@pytest.fixture(params=["gb18030"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    setup = Rig(tmp_path / "printer", request.param)
    setup.printer.open()
    yield setup
    setup.printer.close()
    setup.sim.stop()


@pytest.mark.parametrize("rig", ["gb18030", "gbk", "utf-8"], indirect=True)
def test_ticket_is_printed_as_sent(rig: Rig) -> None:
    content = make_ticket()
    rig.printer.print_ticket(content)
    (ticket,) = rig.sim.wait_for_tickets(1, timeout_s=3)
    assert ticket.raw == render_ticket(content, rig.printer.encoding)
    lines = [line for line in ticket.lines if line.text]
    assert lines[1].text == "A012" and (lines[1].width, lines[1].height) == (2, 2)
    assert lines[1].align == Align.CENTER
    assert "请到：3-5号窗口" in ticket.text
    assert "5. 契税完税证明" in ticket.text
    assert ticket.qr_payloads == [content.qr_url]
    assert ticket.partial_cut


def test_receipt_is_printed_as_sent(rig: Rig) -> None:
    rig.printer.print_receipt(make_receipt())
    (receipt,) = rig.sim.wait_for_tickets(1, timeout_s=3)
    assert "受理回单" in receipt.text
    assert "承诺办结：2024-05-13前" in receipt.text
    assert receipt.qr_payloads == ["BJ20240506-0007"]


def test_status_of_a_ready_printer(rig: Rig) -> None:
    status = rig.printer.status()
    assert status.ready and status.online and not status.paper_near_end


def test_paper_near_end_still_prints(rig: Rig) -> None:
    rig.sim.paper_near_end = True
    assert rig.printer.status().paper_near_end
    rig.printer.print_ticket(make_ticket())
    assert len(rig.sim.wait_for_tickets(1, timeout_s=3)) == 1


@pytest.mark.parametrize(
    ("switch", "error"),
    [("paper_out", PaperOutError), ("cover_open", CoverOpenError), ("offline", PrinterOfflineError)],
)
def test_fault_stops_the_ticket_before_printing(rig: Rig, switch: str, error: type[Exception]) -> None:
    setattr(rig.sim, switch, True)
    with pytest.raises(error):
        rig.printer.print_ticket(make_ticket())
    with pytest.raises(error):
        rig.printer.print_receipt(make_receipt())
    assert not rig.printer.status().ready
    setattr(rig.sim, switch, False)
    rig.printer.print_ticket(make_ticket())
    assert len(rig.sim.wait_for_tickets(1, timeout_s=3)) == 1


def test_raw_data_sent_while_paper_is_out_is_lost(rig: Rig) -> None:
    rig.sim.paper_out = True
    rig.printer.print_raw(render_ticket(make_ticket()))
    assert rig.printer.status().paper_out  # round trip: the data above has been processed
    assert rig.sim.tickets == []


def test_silent_printer_times_out(rig: Rig) -> None:
    rig.sim.silent = True
    started = time.monotonic()
    with pytest.raises(PrinterTimeoutError) as caught:
        rig.printer.print_ticket(make_ticket())
    assert isinstance(caught.value, DeviceTimeoutError)
    assert time.monotonic() - started < TIMEOUT_S * 4
    rig.sim.silent = False
    assert rig.printer.status().ready


def test_unplug_then_replug_reconnects(rig: Rig) -> None:
    rig.sim.unplug()
    with pytest.raises(PrinterConnectionError) as caught:
        rig.printer.print_ticket(make_ticket())
    assert isinstance(caught.value, DeviceConnectionError)
    rig.plug(rig.sim.replug())
    rig.printer.reconnect()
    rig.printer.print_ticket(make_ticket())
    assert len(rig.sim.wait_for_tickets(1, timeout_s=3)) == 1


def test_port_reopens_by_itself_after_an_error(rig: Rig) -> None:
    rig.sim.unplug()
    with pytest.raises(PrinterConnectionError):
        rig.printer.status()
    rig.plug(rig.sim.replug())
    assert rig.printer.status().ready  # closed by the failure, reopened on the next call


def test_missing_port_is_a_connection_error(tmp_path: Path) -> None:
    with pytest.raises(PrinterConnectionError):
        TicketPrinter(str(tmp_path / "nothing")).open()


def test_ticket_fits_a_second_at_9600_baud(rig: Rig) -> None:
    data = render_ticket(make_ticket(materials=5), rig.printer.encoding)
    assert len(data) < 600
    assert len(data) * 10 / rig.printer.baud < 1.0
    started = time.monotonic()
    rig.printer.print_ticket(make_ticket(materials=5))
    rig.sim.wait_for_tickets(1, timeout_s=3)
    assert time.monotonic() - started < 1.0


def test_context_manager_opens_and_closes(rig: Rig) -> None:
    rig.printer.close()
    with TicketPrinter(str(rig.link), timeout_s=TIMEOUT_S) as printer:
        assert printer.is_open
        assert printer.status().ready
    assert not printer.is_open


@pytest.mark.hardware
def test_real_printer_prints_a_ticket(request: pytest.FixtureRequest) -> None:
    url = device_url_for(request.config, "printer")
    if url is None:
        pytest.skip("no --device-url printer=URL given")
    with TicketPrinter(url, timeout_s=2.0) as printer:
        assert printer.status().ready, "load paper and close the cover first"
        printer.print_ticket(make_ticket())
        printer.print_receipt(make_receipt())
        assert printer.status().online
