"""Real-time status (``DLE EOT n``): request bytes and pure parsers of the answer bytes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum

from kiosk.devices.printer.errors import PrinterProtocolError

DLE_EOT = b"\x10\x04"

# Every DLE EOT answer has bits 1 and 4 set and bits 0 and 7 clear; anything else is not
# a status byte (e.g. line noise or an echo), so it must not be read as "all fine".
FIXED_MASK = 0x93
FIXED_VALUE = 0x12


class StatusKind(IntEnum):
    """The ``n`` of ``DLE EOT n``."""

    PRINTER = 1
    OFFLINE_CAUSE = 2
    ERROR_CAUSE = 3
    PAPER_SENSOR = 4


# n=1
BIT_DRAWER = 0x04
BIT_OFFLINE = 0x08
BIT_WAITING_RECOVERY = 0x20
# n=2
BIT_COVER_OPEN = 0x04
BIT_FEED_BUTTON = 0x08
BIT_STOPPED_PAPER_END = 0x20
BIT_ERROR = 0x40
# n=3
BIT_RECOVERABLE_ERROR = 0x04
BIT_CUTTER_ERROR = 0x08
BIT_UNRECOVERABLE_ERROR = 0x20
BIT_AUTO_RECOVERABLE_ERROR = 0x40
# n=4: each condition is reported on two bits (one per sensor on some models).
BITS_PAPER_NEAR_END = 0x0C
BITS_PAPER_END = 0x60


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer reported through ``DLE EOT 1..4``."""

    online: bool = True
    cover_open: bool = False
    paper_out: bool = False
    paper_near_end: bool = False
    error: bool = False
    cutter_error: bool = False
    unrecoverable_error: bool = False
    auto_recoverable_error: bool = False
    feed_button: bool = False

    @property
    def ready(self) -> bool:
        """True when a ticket sent now would be printed."""
        return self.online and not (self.cover_open or self.paper_out or self.has_error)

    @property
    def has_error(self) -> bool:
        """True when any error bit is set."""
        return self.error or self.cutter_error or self.unrecoverable_error or self.auto_recoverable_error


def status_request(kind: int) -> bytes:
    """The bytes of ``DLE EOT n``."""
    return DLE_EOT + bytes([StatusKind(kind)])


def check_status_byte(value: int) -> None:
    """Raise PrinterProtocolError unless ``value`` has the fixed bits of a status byte."""
    if not 0 <= value <= 0xFF or value & FIXED_MASK != FIXED_VALUE:
        raise PrinterProtocolError(f"not a DLE EOT status byte: 0x{value:02X}")


def apply_status_byte(status: PrinterStatus, kind: int, value: int) -> PrinterStatus:
    """Return ``status`` updated with the answer ``value`` to ``DLE EOT kind``."""
    check_status_byte(value)
    match StatusKind(kind):
        case StatusKind.PRINTER:
            return replace(status, online=not value & BIT_OFFLINE)
        case StatusKind.OFFLINE_CAUSE:
            return replace(
                status,
                cover_open=bool(value & BIT_COVER_OPEN),
                feed_button=bool(value & BIT_FEED_BUTTON),
                paper_out=status.paper_out or bool(value & BIT_STOPPED_PAPER_END),
                error=bool(value & BIT_ERROR),
            )
        case StatusKind.ERROR_CAUSE:
            return replace(
                status,
                cutter_error=bool(value & BIT_CUTTER_ERROR),
                unrecoverable_error=bool(value & BIT_UNRECOVERABLE_ERROR),
                auto_recoverable_error=bool(value & (BIT_AUTO_RECOVERABLE_ERROR | BIT_RECOVERABLE_ERROR)),
            )
        case StatusKind.PAPER_SENSOR:
            return replace(
                status,
                paper_out=status.paper_out or bool(value & BITS_PAPER_END),
                paper_near_end=bool(value & BITS_PAPER_NEAR_END),
            )


def parse_status(answers: dict[int, int]) -> PrinterStatus:
    """Build a PrinterStatus from the answers to ``DLE EOT n`` keyed by ``n``."""
    status = PrinterStatus()
    for kind in sorted(answers):
        status = apply_status_byte(status, kind, answers[kind])
    return status


def encode_status_byte(status: PrinterStatus, kind: int) -> int:
    """The byte a printer in ``status`` answers to ``DLE EOT kind`` (used by the simulator)."""
    value = FIXED_VALUE
    match StatusKind(kind):
        case StatusKind.PRINTER:
            value |= 0 if status.online else BIT_OFFLINE
        case StatusKind.OFFLINE_CAUSE:
            value |= BIT_COVER_OPEN if status.cover_open else 0
            value |= BIT_FEED_BUTTON if status.feed_button else 0
            value |= BIT_STOPPED_PAPER_END if status.paper_out else 0
            value |= BIT_ERROR if status.error else 0
        case StatusKind.ERROR_CAUSE:
            value |= BIT_CUTTER_ERROR if status.cutter_error else 0
            value |= BIT_UNRECOVERABLE_ERROR if status.unrecoverable_error else 0
            value |= BIT_AUTO_RECOVERABLE_ERROR if status.auto_recoverable_error else 0
        case StatusKind.PAPER_SENSOR:
            value |= BITS_PAPER_END if status.paper_out else 0
            value |= BITS_PAPER_NEAR_END if status.paper_near_end else 0
    return value
