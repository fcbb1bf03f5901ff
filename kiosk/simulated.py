"""In-process simulated printer and ID-card reader (device URL ``sim``): the real drivers talk to them.

The card serial lane's simulated card (``card_serial_reader = "sim"``) plugs into the real pcscd's
vpcd reader, so it needs pcscd with vpcd running on the machine.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kiosk.card_serial import mask_card_serial
from kiosk.devices.idcard.simulator import IdCardSimulator, load_identities
from kiosk.devices.pcsc import DEFAULT_VPCD_PORT, MIFARE_1K_ATR, VirtualCard
from kiosk.devices.printer.simulator import PrinterSimulator

log = logging.getLogger(__name__)

PRINTER_FAULTS = ("paper_out", "cover_open", "offline", "paper_near_end", "silent")


class SimulatedKioskDevices:
    """The simulators standing in for the kiosk's printer and card reader."""

    def __init__(self, encoding: str = "gb18030", vpcd_port: int = DEFAULT_VPCD_PORT) -> None:
        self.encoding = encoding
        self.vpcd_port = vpcd_port
        self.printer: PrinterSimulator | None = None
        self.idcard: IdCardSimulator | None = None
        self.serial_card: VirtualCard | None = None

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
        self.remove_serial_card()

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

    def present_serial_card(self, uid_hex: str) -> str:
        """Put a virtual card with this UID on pcscd's vpcd reader (blocking; PcscError without pcscd).

        Returns the masked serial.
        """
        uid = bytes.fromhex(uid_hex)
        if self.serial_card is None:
            self.serial_card = VirtualCard(uid=uid, atr=MIFARE_1K_ATR, port=self.vpcd_port)
        self.serial_card.remove()  # another UID is another card: the old one leaves first
        self.serial_card.uid = uid
        self.serial_card.insert()
        return mask_card_serial(uid.hex())

    def remove_serial_card(self) -> None:
        """Take the virtual card off the vpcd reader."""
        if self.serial_card is not None:
            self.serial_card.remove()

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
