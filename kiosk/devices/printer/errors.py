"""Errors of the ticket printer package, all under ``PrinterError``."""

from __future__ import annotations

from kiosk.devices.errors import (
    DeviceConnectionError,
    DeviceError,
    DeviceProtocolError,
    DeviceTimeoutError,
)


class PrinterError(DeviceError):
    """Root of every error raised by ``kiosk.devices.printer``."""


class PrinterConnectionError(PrinterError, DeviceConnectionError):
    """The printer's port cannot be opened, or was unplugged."""


class PrinterTimeoutError(PrinterConnectionError, DeviceTimeoutError):
    """The printer did not answer a status request in time."""


class PrinterProtocolError(PrinterError, DeviceProtocolError):
    """The printer answered with a byte that is not a valid status byte."""


class PrinterNotReadyError(PrinterError):
    """The printer answers but cannot print right now; nothing was sent."""


class PaperOutError(PrinterNotReadyError):
    """The paper roll is empty."""


class CoverOpenError(PrinterNotReadyError):
    """The printer cover is open."""


class PrinterOfflineError(PrinterNotReadyError):
    """The printer is offline or reports an error (cutter jam, overheat...)."""
