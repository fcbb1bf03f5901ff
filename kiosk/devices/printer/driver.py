"""ESC/POS ticket printer driver over a serial transport, with a status check before each ticket."""

from __future__ import annotations

import logging
import termios
from collections.abc import Iterator
from contextlib import contextmanager

from kiosk.devices.errors import DeviceConnectionError, DeviceTimeoutError
from kiosk.devices.printer.commands import normalize_encoding
from kiosk.devices.printer.errors import (
    CoverOpenError,
    PaperOutError,
    PrinterConnectionError,
    PrinterOfflineError,
    PrinterTimeoutError,
)
from kiosk.devices.printer.layout import ReceiptContent, TicketContent, render_receipt, render_ticket
from kiosk.devices.printer.status import PrinterStatus, StatusKind, apply_status_byte, status_request
from kiosk.devices.transport import SerialTransport

log = logging.getLogger(__name__)


class TicketPrinter:
    """A thermal ticket printer on a serial port (or any pyserial URL)."""

    def __init__(self, url: str, baud: int = 9600, encoding: str = "gb18030", timeout_s: float = 1.0) -> None:
        self.url = url
        self.baud = baud
        self.encoding = normalize_encoding(encoding)
        self.timeout_s = timeout_s
        self._transport = SerialTransport(url, baud, timeout_s, wire_logger=f"{__name__}.wire")

    @property
    def is_open(self) -> bool:
        """True while the port is open."""
        return self._transport.is_open

    def open(self) -> None:
        """Open the port (raises PrinterConnectionError)."""
        with self._translated():
            self._transport.open()

    def close(self) -> None:
        """Close the port."""
        self._transport.close()

    def reconnect(self) -> None:
        """Close and open the port again (after an unplug or a port error)."""
        self.close()
        self.open()

    def __enter__(self) -> TicketPrinter:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """The one place where transport errors become printer errors."""
        try:
            yield
        except DeviceTimeoutError as err:
            raise PrinterTimeoutError(f"printer at {self.url} did not answer: {err}") from err
        except (DeviceConnectionError, termios.error) as err:
            # Close so the next call reopens the port (the transport leaves it open after some
            # failures). termios.error (tcflush/tcdrain on a hung-up tty) is no OSError and can
            # pass through the shared transport untranslated.
            self._transport.close()
            raise PrinterConnectionError(f"printer at {self.url}: {err}") from err

    def _ensure_open(self) -> None:
        # The transport closes itself on an I/O error; the next call reopens (reconnect by close/open).
        if not self._transport.is_open:
            self._transport.open()

    def status(self) -> PrinterStatus:
        """Ask ``DLE EOT 1..4`` and return the combined status (PrinterTimeoutError when silent)."""
        status = PrinterStatus()
        with self._translated():
            self._ensure_open()
            self._transport.reset_input()
            for kind in StatusKind:
                self._transport.write(status_request(kind))
                answer = self._transport.read_exact(1)
                status = apply_status_byte(status, kind, answer[0])
        return status

    def check_ready(self) -> PrinterStatus:
        """Return the status, or raise the error that says why a ticket would be lost now."""
        status = self.status()
        if status.cover_open:
            raise CoverOpenError(f"printer at {self.url}: cover open")
        if status.paper_out:
            raise PaperOutError(f"printer at {self.url}: paper out")
        if not status.ready:
            raise PrinterOfflineError(f"printer at {self.url}: offline or in error ({status})")
        if status.paper_near_end:
            log.warning("printer at %s: paper near end", self.url)
        return status

    def print_raw(self, data: bytes) -> None:
        """Send ESC/POS bytes as they are (no status check)."""
        with self._translated():
            self._ensure_open()
            self._transport.write(data)

    def print_ticket(self, content: TicketContent) -> None:
        """Check the printer is ready, then print a queue ticket."""
        data = render_ticket(content, self.encoding)
        self.check_ready()
        self.print_raw(data)
        log.info("printed ticket %s (%d bytes)", content.number, len(data))

    def print_receipt(self, content: ReceiptContent) -> None:
        """Check the printer is ready, then print a case receipt."""
        data = render_receipt(content, self.encoding)
        self.check_ready()
        self.print_raw(data)
        log.info("printed receipt %s (%d bytes)", content.case_number, len(data))
