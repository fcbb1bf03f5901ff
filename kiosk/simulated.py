"""In-process simulated printer and ID-card reader (device URL ``sim``): the real drivers talk to them."""

from __future__ import annotations

import logging
from pathlib import Path

from kiosk.devices.idcard.simulator import IdCardSimulator, load_identities
from kiosk.devices.printer.simulator import PrinterSimulator

log = logging.getLogger(__name__)

PRINTER_FAULTS = ("paper_out", "cover_open", "offline", "paper_near_end", "silent")


class SimulatedKioskDevices:
    """The simulators standing in for the kiosk's printer and card reader."""

    def __init__(self, encoding: str = "gb18030") -> None:
        self.encoding = encoding
        self.printer: PrinterSimulator | None = None
        self.idcard: IdCardSimulator | None = None

    def start_printer(self) -> str:
        """Start the printer simulator; return its tty path for the real driver."""
        self.printer = PrinterSimulator(encoding=self.encoding)
        return self.printer.start()

    def start_idcard(self, identities: Path) -> str:
        """Start the card reader simulator holding the identities of a JSON file."""
        self.idcard = IdCardSimulator(load_identities(identities))
        return self.idcard.start()

    def stop(self) -> None:
        """Stop every simulator."""
        for sim in (self.printer, self.idcard):
            if sim is not None:
                sim.stop()

    def place_card(self, index: int) -> str:
        """Put identity ``index`` on the reader; returns its masked ID number."""
        if self.idcard is None:
            raise LookupError("no simulated card reader")
        if not 0 <= index < len(self.idcard.identities):
            raise IndexError(f"identity index must be 0..{len(self.idcard.identities) - 1}")
        return self.idcard.place(index).masked_id_number

    def remove_card(self) -> None:
        """Take the card away."""
        if self.idcard is not None:
            self.idcard.remove()

    def set_printer_fault(self, name: str, on: bool) -> None:
        """Switch a printer fault on or off."""
        if self.printer is None:
            raise LookupError("no simulated printer")
        if name not in PRINTER_FAULTS:
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(PRINTER_FAULTS)}")
        setattr(self.printer, name, on)

    def printed_texts(self) -> list[str]:
        """The decoded text of every ticket cut so far."""
        return [] if self.printer is None else [ticket.text for ticket in self.printer.tickets]
