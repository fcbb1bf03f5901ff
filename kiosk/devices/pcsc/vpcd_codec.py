"""Pure codec of the vpcd socket protocol: 2-byte big-endian length + payload, no I/O.

vpcd (the virtual reader driver loaded by pcscd) sends 1-byte control payloads and APDUs; the
virtual card answers GET_ATR with the ATR and each APDU with response data + status word.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kiosk.devices.pcsc.errors import VpcdProtocolError

LENGTH_SIZE = 2
MAX_PAYLOAD = 0xFFFF


class Control(enum.IntEnum):
    """One-byte control payloads sent by vpcd."""

    POWER_OFF = 0x00
    POWER_ON = 0x01
    RESET = 0x02
    GET_ATR = 0x04


@dataclass(frozen=True)
class ControlMessage:
    """A control payload from vpcd."""

    control: Control


@dataclass(frozen=True)
class ApduMessage:
    """A command APDU from vpcd, to be answered with data + SW."""

    apdu: bytes


VpcdMessage = ControlMessage | ApduMessage


def encode_frame(payload: bytes) -> bytes:
    """Frame one payload for the socket (either direction)."""
    if not payload:
        raise VpcdProtocolError("vpcd payload must not be empty")
    if len(payload) > MAX_PAYLOAD:
        raise VpcdProtocolError(f"vpcd payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return len(payload).to_bytes(LENGTH_SIZE, "big") + payload


def encode_message(message: VpcdMessage) -> bytes:
    """Frame a control or APDU message as vpcd sends it."""
    if isinstance(message, ControlMessage):
        return encode_frame(bytes([message.control]))
    return encode_frame(message.apdu)


def parse_payload(payload: bytes) -> VpcdMessage:
    """Classify one payload from vpcd: one byte is control, anything longer is an APDU."""
    if not payload:
        raise VpcdProtocolError("empty vpcd payload")
    if len(payload) == 1:
        try:
            return ControlMessage(Control(payload[0]))
        except ValueError as err:
            raise VpcdProtocolError(f"unknown vpcd control byte {payload[0]:02X}") from err
    return ApduMessage(payload)


class FrameDecoder:
    """Splits a byte stream into payloads; keeps an incomplete tail for the next feed."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Number of buffered bytes that do not yet make a whole frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes and return every complete payload, in order."""
        self._buffer += data
        payloads: list[bytes] = []
        while len(self._buffer) >= LENGTH_SIZE:
            size = int.from_bytes(self._buffer[:LENGTH_SIZE], "big")
            if size == 0:
                # vpcd never sends an empty message; the stream is out of step.
                self._buffer.clear()
                raise VpcdProtocolError("zero-length vpcd frame")
            end = LENGTH_SIZE + size
            if len(self._buffer) < end:
                break
            payloads.append(bytes(self._buffer[LENGTH_SIZE:end]))
            del self._buffer[:end]
        return payloads
