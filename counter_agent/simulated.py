"""In-process simulated devices for a window (device URL ``sim``): the real drivers talk to them."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from pathlib import Path

from counter_agent.roster import Roster
from kiosk.devices.fingerprint.simulator import FingerprintSimulator
from kiosk.devices.keypad.keymap import Key, KeyMap
from kiosk.devices.keypad.simulator import KeypadSimulator
from kiosk.devices.pcsc import MIFARE_1K_ATR, VirtualCard
from kiosk.devices.printer.simulator import PrinterSimulator

log = logging.getLogger(__name__)

FINGER_HOLD_S = 1.5


class SimulatedDevices:
    """The simulators standing in for a window's keypads and fingerprint reader."""

    def __init__(self) -> None:
        self.fingerprint: FingerprintSimulator | None = None
        self.rating: KeypadSimulator | None = None
        self.caller: KeypadSimulator | None = None
        self.badge: VirtualCard | None = None
        self.printer: PrinterSimulator | None = None
        # A stable name for the reader's pty, like /dev/serial/by-id/...: a replug makes a new pty.
        self._links = Path(tempfile.mkdtemp(prefix="hall-sim-"))
        self._fingerprint_link = self._links / "fingerprint"

    def start(self, wanted: set[str]) -> dict[str, str]:
        """Start the simulators named in ``wanted``; return device name -> URL for the real drivers."""
        urls: dict[str, str] = {}
        if "fingerprint" in wanted:
            self.fingerprint = FingerprintSimulator()
            self._fingerprint_link.symlink_to(self.fingerprint.start())
            urls["fingerprint"] = str(self._fingerprint_link)
        if "printer" in wanted:
            self.printer = PrinterSimulator()
            urls["printer"] = self.printer.start()
        if "rating" in wanted:
            self.rating = KeypadSimulator(KeyMap.rating())
            urls["rating"] = self.rating.start()
        if "caller" in wanted:
            self.caller = KeypadSimulator(KeyMap.caller())
            urls["caller"] = self.caller.start()
        return urls

    def stop(self) -> None:
        """Stop every simulator."""
        for sim in (self.fingerprint, self.rating, self.caller, self.printer):
            if sim is not None:
                sim.stop()
        if self.badge is not None:
            self.badge.remove()
        shutil.rmtree(self._links, ignore_errors=True)

    def unplug(self, name: str) -> bool:
        """Pull a simulated device's cable; False when there is no such simulated device."""
        sim = {"fingerprint": self.fingerprint, "rating": self.rating, "caller": self.caller}.get(name)
        if sim is None:
            return False
        sim.unplug()
        return True

    def replug(self, name: str) -> bool:
        """Plug a simulated device back in (the reader's stable link follows the new pty)."""
        if name == "fingerprint" and self.fingerprint is not None:
            path = self.fingerprint.replug()
            tmp = self._links / "fingerprint.new"
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(path)
            tmp.replace(self._fingerprint_link)
            return True
        sim = {"rating": self.rating, "caller": self.caller}.get(name)
        if sim is None:
            return False
        sim.replug()
        return True

    async def place_finger(self, roster: Roster, staff_no: str, hold_s: float = FINGER_HOLD_S) -> bool:
        """Put the officer's (simulated) finger on the reader for a moment; False if not enrolled here."""
        sim = self.fingerprint
        if sim is None:
            return False
        page = next((p for p, e in roster.pages.items() if e.get("staff_no") == staff_no), None)
        finger = f"finger-{staff_no}"
        if page is not None and sim.pages.get(page) != finger:
            sim.enroll_direct(page, finger)
        sim.place_finger(finger)
        await asyncio.sleep(hold_s)
        sim.lift_finger()
        return page is not None

    def present_badge(self, uid_hex: str, vpcd_port: int) -> None:
        """Put a virtual badge with this UID on pcscd's vpcd reader (blocking; PcscError if no pcscd)."""
        uid = bytes.fromhex(uid_hex)
        if self.badge is None:
            # Made on first use: the vpcd reader belongs to pcscd, not to this process.
            self.badge = VirtualCard(uid=uid, atr=MIFARE_1K_ATR, port=vpcd_port)
        self.badge.remove()  # another UID is another card: the old one leaves first
        self.badge.uid = uid
        self.badge.insert()

    def remove_badge(self) -> bool:
        """Take the virtual badge off the reader; False when none was ever presented."""
        if self.badge is None:
            return False
        self.badge.remove()
        return True

    def press(self, key: Key) -> bool:
        """Press a key on the rating keypad (ratings) or the caller keys (staff actions)."""
        sim = self.rating if key.rating_level is not None else self.caller
        return sim is not None and sim.press(key)
