"""Raw Linux ``struct input_event`` records <-> ``evdev.InputEvent`` (pure, no I/O).

The 64-bit layout is ``struct timeval`` (two longs) then type, code (u16) and value (s32):
24 bytes, the native ``llHHi`` of x86_64 and arm64. It is written here explicitly
little-endian so that the bytes do not depend on the host running the tests.
"""

from __future__ import annotations

import logging
import struct

from evdev import InputEvent, ecodes

from kiosk.devices.keypad.errors import KeypadProtocolError

log = logging.getLogger(__name__)

INPUT_EVENT = struct.Struct("<qqHHi")
RECORD_SIZE = INPUT_EVENT.size  # 24
_USEC_PER_S = 1_000_000


def encode_input_event(event: InputEvent) -> bytes:
    """The 24-byte kernel record of ``event``."""
    return INPUT_EVENT.pack(event.sec, event.usec, event.type, event.code, event.value)


def decode_input_event(record: bytes) -> InputEvent:
    """Decode one 24-byte record; raise KeypadProtocolError if it cannot be a kernel event."""
    if len(record) != RECORD_SIZE:
        raise KeypadProtocolError(f"input_event record must be {RECORD_SIZE} bytes, got {len(record)}")
    sec, usec, ev_type, code, value = INPUT_EVENT.unpack(record)
    if sec < 0 or not 0 <= usec < _USEC_PER_S:
        raise KeypadProtocolError(f"invalid timestamp sec={sec} usec={usec}")
    if ev_type > ecodes.EV_MAX:
        raise KeypadProtocolError(f"invalid event type {ev_type}")
    return InputEvent(sec, usec, ev_type, code, value)


class InputEventDecoder:
    """Incremental decoder: feed any chunks of a byte stream, get whole events back."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.invalid_count = 0

    @property
    def pending(self) -> int:
        """Bytes held back until the rest of their record arrives."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[InputEvent]:
        """Decode every complete record; invalid records are skipped and counted."""
        self._buffer += data
        events: list[InputEvent] = []
        whole = len(self._buffer) - len(self._buffer) % RECORD_SIZE
        for start in range(0, whole, RECORD_SIZE):
            try:
                events.append(decode_input_event(bytes(self._buffer[start : start + RECORD_SIZE])))
            except KeypadProtocolError as err:
                self.invalid_count += 1
                log.warning("skipping input_event record: %s", err)
        del self._buffer[:whole]
        return events
