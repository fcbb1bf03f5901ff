"""A serial evaluator on the device side of a pty, speaking the package's framed protocol."""

from __future__ import annotations

import logging
import threading
import time

from kiosk.devices.evaluator.codec import (
    AckFrame,
    Command,
    CommandFrame,
    Frame,
    FrameDecoder,
    NakFrame,
    PressFrame,
    ReceiptFrame,
    encode_frame,
)
from kiosk.devices.evaluator.errors import EvaluatorProtocolError
from kiosk.devices.pty_sim import PtySimulator

log = logging.getLogger(__name__)

REPEAT_INTERVAL_S = 0.3
REPEAT_LIMIT = 3
GARBAGE = b"\xff\x00\x7e\x03"  # line noise, including a stray ETX


class EvaluatorSimulator(PtySimulator):
    """Five lit/dark keys; one press per arming; repeats an event until it is receipted.

    Fault switches: ``bad_checksum`` (every frame sent with a wrong BCC), ``garbage`` (noise
    before every frame), ``silent`` (no answers, presses lost), ``unplug()``/``replug()``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.armed = False
        self.bad_checksum = False
        self.garbage = False
        self.received: list[Frame] = []
        self._decoder = FrameDecoder()
        self._seq = 0
        self._unreceipted: PressFrame | None = None
        self._repeats = 0
        self._last_sent_s = 0.0
        # press() runs on the caller's thread, on_bytes/on_idle on the simulator thread.
        self._state = threading.RLock()

    def press(self, level: int) -> bool:
        """A citizen presses key ``level``; False when the keys are dark (not armed) or silent."""
        if not 1 <= level <= 5:
            raise ValueError(f"level must be 1..5, got {level}")
        with self._state:
            if not self.armed or self.silent:
                return False
            self.armed = False
            self._seq = (self._seq + 1) % 0x100
            self._unreceipted = PressFrame(level, self._seq)
            self._repeats = 0
            self._emit(self._unreceipted)
            return True

    def on_bytes(self, data: bytes) -> None:
        """Answer the host's commands and receipts."""
        with self._state:
            self._handle_all(data)

    def _handle_all(self, data: bytes) -> None:
        for item in self._decoder.feed(data):
            if isinstance(item, EvaluatorProtocolError):
                log.info("sim: %s", item)
                self._emit(NakFrame("?"))
                continue
            self.received.append(item)
            if isinstance(item, CommandFrame):
                if item.command is Command.ARM:
                    self.armed = True
                elif item.command is Command.DISARM:
                    self.armed = False
                self._emit(AckFrame(item.command, self.armed))
            elif isinstance(item, ReceiptFrame) and self._is_pending(item.seq):
                self._unreceipted = None

    def replug(self) -> str:
        """Plug back in: like a power cycle, the keys are dark and nothing is pending."""
        with self._state:
            self.armed = False
            self._unreceipted = None
            self._decoder = FrameDecoder()
        return super().replug()

    def _is_pending(self, seq: int) -> bool:
        return self._unreceipted is not None and self._unreceipted.seq == seq

    def on_idle(self) -> None:
        """Repeat an unreceipted press event."""
        with self._state:
            pending = self._unreceipted
            if pending is None or self.silent:
                return
            if time.monotonic() - self._last_sent_s < REPEAT_INTERVAL_S:
                return
            if self._repeats >= REPEAT_LIMIT:
                log.info("sim: giving up on event %02X", pending.seq)
                self._unreceipted = None
                return
            self._repeats += 1
            self._emit(pending)

    def _emit(self, frame: Frame) -> None:
        data = encode_frame(frame)
        if self.bad_checksum:
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        if self.garbage:
            data = GARBAGE + data
        self._last_sent_s = time.monotonic()
        self.send(data)
