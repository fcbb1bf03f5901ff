"""ESC/POS thermal ticket printer: layouts, status codec, tokenizer, driver and simulator."""

from kiosk.devices.printer.driver import TicketPrinter
from kiosk.devices.printer.errors import (
    CoverOpenError,
    PaperOutError,
    PrinterConnectionError,
    PrinterError,
    PrinterNotReadyError,
    PrinterOfflineError,
    PrinterProtocolError,
    PrinterTimeoutError,
)
from kiosk.devices.printer.layout import ReceiptContent, TicketContent, render_receipt, render_ticket
from kiosk.devices.printer.status import PrinterStatus

__all__ = [
    "CoverOpenError",
    "PaperOutError",
    "PrinterConnectionError",
    "PrinterError",
    "PrinterNotReadyError",
    "PrinterOfflineError",
    "PrinterProtocolError",
    "PrinterStatus",
    "PrinterTimeoutError",
    "ReceiptContent",
    "TicketContent",
    "TicketPrinter",
    "render_receipt",
    "render_ticket",
]
