"""Frames of the serial evaluator protocol <-> bytes (pure, no I/O); see the package docstring."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import reduce

from kiosk.devices.evaluator.errors import EvaluatorProtocolError
from kiosk.devices.transport import hex_bytes

STX = 0x02
ETX = 0x03
MAX_PAYLOAD = 3
MAX_FRAME = MAX_PAYLOAD + 4  # STX TYPE ... ETX BCC
_HEX_DIGITS = "0123456789ABCDEF"


class Command(StrEnum):
    """Host commands that the device acknowledges."""

    ARM = "A"
    DISARM = "D"
    PING = "P"


@dataclass(frozen=True, slots=True)
class CommandFrame:
    """Host -> device: arm, disarm or ping."""

    command: Command


@dataclass(frozen=True, slots=True)
class ReceiptFrame:
    """Host -> device: press event ``seq`` received."""

    seq: int


@dataclass(frozen=True, slots=True)
class AckFrame:
    """Device -> host: ``command`` done; ``armed`` is the key state after it."""

    command: Command
    armed: bool


@dataclass(frozen=True, slots=True)
class NakFrame:
    """Device -> host: ``command`` refused (``?`` when the host frame was unreadable)."""

    command: str


@dataclass(frozen=True, slots=True)
class PressFrame:
    """Device -> host: rating ``level`` 1..5 pressed, event number ``seq`` 0..255."""

    level: int
    seq: int


Frame = CommandFrame | ReceiptFrame | AckFrame | NakFrame | PressFrame


def bcc(body: bytes) -> int:
    """XOR of all bytes of ``body`` (TYPE through ETX)."""
    return reduce(lambda acc, byte: acc ^ byte, body, 0)


def _seq_text(seq: int) -> str:
    if not 0 <= seq <= 0xFF:
        raise EvaluatorProtocolError(f"seq must be 0..255, got {seq}")
    return f"{seq:02X}"


def _payload(frame: Frame) -> tuple[str, str]:
    match frame:
        case CommandFrame(command):
            return command.value, ""
        case ReceiptFrame(seq):
            return "R", _seq_text(seq)
        case AckFrame(command, armed):
            return "K", command.value + ("1" if armed else "0")
        case NakFrame(command):
            if command not in "ADP?" or len(command) != 1:
                raise EvaluatorProtocolError(f"cannot refuse {command!r}")
            return "N", command
        case PressFrame(level, seq):
            if not 1 <= level <= 5:
                raise EvaluatorProtocolError(f"level must be 1..5, got {level}")
            return "E", f"{level}{_seq_text(seq)}"
    raise EvaluatorProtocolError(f"not a frame: {frame!r}")


def encode_frame(frame: Frame) -> bytes:
    """The bytes of ``frame`` including STX, ETX and BCC."""
    kind, payload = _payload(frame)
    body = (kind + payload).encode("ascii") + bytes([ETX])
    return bytes([STX]) + body + bytes([bcc(body)])


def _parse_seq(text: str) -> int:
    if len(text) != 2 or any(char not in _HEX_DIGITS for char in text):
        raise EvaluatorProtocolError(f"bad seq {text!r}")
    return int(text, 16)


def _parse(kind: str, payload: str) -> Frame:
    if kind in "ADP" and not payload:
        return CommandFrame(Command(kind))
    if kind == "R":
        return ReceiptFrame(_parse_seq(payload))
    if kind == "K" and len(payload) == 2 and payload[0] in "ADP" and payload[1] in "01":
        return AckFrame(Command(payload[0]), payload[1] == "1")
    if kind == "N" and len(payload) == 1 and payload in "ADP?":
        return NakFrame(payload)
    if kind == "E" and len(payload) == 3 and payload[0] in "12345":
        return PressFrame(int(payload[0]), _parse_seq(payload[1:]))
    raise EvaluatorProtocolError(f"bad frame type {kind!r} with payload {payload!r}")


def decode_frame(data: bytes) -> Frame:
    """Decode exactly one frame; raise EvaluatorProtocolError for anything else."""
    if len(data) < 4 or len(data) > MAX_FRAME or data[0] != STX or data[-2] != ETX:
        raise EvaluatorProtocolError(f"not a frame: {hex_bytes(data)}")
    body = data[1:-1]
    if bcc(body) != data[-1]:
        raise EvaluatorProtocolError(f"bad BCC {data[-1]:02X} (expected {bcc(body):02X}): {hex_bytes(data)}")
    text = body[:-1]
    if any(not 0x20 <= byte <= 0x7E for byte in text):
        raise EvaluatorProtocolError(f"non-ASCII frame: {hex_bytes(data)}")
    decoded = text.decode("ascii")
    return _parse(decoded[0], decoded[1:])


class FrameDecoder:
    """Incremental decoder: resynchronises on STX; each call yields frames and typed errors."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame | EvaluatorProtocolError]:
        """Frames and errors found in the stream so far, in order."""
        self._buffer += data
        out: list[Frame | EvaluatorProtocolError] = []
        buf = self._buffer
        while buf:
            if buf[0] != STX:
                skip = buf.find(STX)
                skip = len(buf) if skip < 0 else skip
                stray = hex_bytes(bytes(buf[:skip]))
                out.append(EvaluatorProtocolError(f"skipped {skip} stray bytes: {stray}"))
                del buf[:skip]
                continue
            end = self._frame_end(buf)
            if end is None:
                break  # wait for more bytes
            if end < 0:
                cut = -end
                out.append(EvaluatorProtocolError(f"broken frame: {hex_bytes(bytes(buf[:cut]))}"))
                del buf[:cut]
                continue
            frame = bytes(buf[:end])
            try:
                out.append(decode_frame(frame))
            except EvaluatorProtocolError as err:
                out.append(err)
                # A frame cut short takes the next frame's STX as its BCC: resume there.
                restart = frame.find(STX, 1)
                end = end if restart < 0 else restart
            del buf[:end]
        return out

    @staticmethod
    def _frame_end(buf: bytearray) -> int | None:
        """Length of the frame at buf[0]; None if incomplete; -n to drop n broken bytes."""
        for index in range(1, min(len(buf), MAX_FRAME - 1)):
            byte = buf[index]
            if byte == ETX:
                return index + 2 if index + 1 < len(buf) else None
            if byte == STX:
                return -index  # a new frame starts before this one ended
        if len(buf) >= MAX_FRAME - 1:
            return -1  # no ETX where it must be: drop this STX and look for the next
        return None
