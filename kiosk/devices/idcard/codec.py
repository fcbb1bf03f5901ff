"""Pure codec for GA 467 SAM frames: requests, responses and an incremental decoder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, IntEnum
from functools import reduce
from typing import Generic, TypeVar

from kiosk.devices.idcard.errors import FrameChecksumError, FrameLengthError, IdCardProtocolError

PREAMBLE = bytes.fromhex("AAAAAA9669")
HEADER_SIZE = len(PREAMBLE) + 2
#: Largest LEN accepted; text + photo + fingerprint data is about 2.3 KiB.
MAX_LEN = 4096
TEXT_SIZE = 256
PHOTO_SIZE = 1024


class Command(Enum):
    """Known (CMD, PARA) pairs."""

    RESET_SAM = (0x10, 0xFF)
    SAM_STATUS = (0x11, 0xFF)
    READ_SAM_ID = (0x12, 0xFF)
    FIND_CARD = (0x20, 0x01)
    SELECT_CARD = (0x20, 0x02)
    READ_TEXT_PHOTO = (0x30, 0x01)
    READ_TEXT_PHOTO_FINGERPRINT = (0x30, 0x10)
    READ_NEW_ADDRESS = (0x30, 0x03)


class Status(IntEnum):
    """SW3 status bytes."""

    OK = 0x90
    CARD_FOUND = 0x9F
    CHECKSUM_ERROR = 0x10
    LENGTH_ERROR = 0x11
    COMMAND_ERROR = 0x21
    UNKNOWN_ERROR = 0x24
    CARD_AUTH_READER_FAILED = 0x31
    READER_AUTH_CARD_FAILED = 0x32
    DATA_VERIFICATION_ERROR = 0x33
    WRONG_CARD_TYPE = 0x40
    READ_FAILED = 0x41
    RANDOM_NUMBER_FAILED = 0x47
    SELF_TEST_FAILED = 0x60
    NOT_AUTHORISED = 0x66
    NO_CARD = 0x80
    SELECT_FAILED = 0x81


SUCCESS = frozenset({Status.OK, Status.CARD_FOUND})


def xor_checksum(data: bytes) -> int:
    """XOR of all bytes."""
    return reduce(lambda acc, byte: acc ^ byte, data, 0)


def _frame(body: bytes) -> bytes:
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + body + bytes([xor_checksum(length + body)])


@dataclass(frozen=True)
class Request:
    """Host -> reader frame."""

    cmd: int
    para: int
    data: bytes = b""

    @classmethod
    def of(cls, command: Command, data: bytes = b"") -> Request:
        """A request for a known command."""
        cmd, para = command.value
        return cls(cmd, para, data)

    @property
    def command(self) -> Command | None:
        """The known command, or None."""
        try:
            return Command((self.cmd, self.para))
        except ValueError:
            return None

    def encode(self) -> bytes:
        """The frame bytes."""
        return _frame(bytes([self.cmd, self.para]) + self.data)


@dataclass(frozen=True)
class Response:
    """Reader -> host frame."""

    sw3: int
    data: bytes = b""
    sw1: int = 0
    sw2: int = 0

    @property
    def ok(self) -> bool:
        """True for 90 (ok) and 9F (card found)."""
        return self.sw3 in SUCCESS

    def encode(self) -> bytes:
        """The frame bytes."""
        return _frame(bytes([self.sw1, self.sw2, self.sw3]) + self.data)


def parse_request_body(body: bytes) -> Request:
    """Request from the bytes between LEN and CHK."""
    return Request(body[0], body[1], bytes(body[2:]))


def parse_response_body(body: bytes) -> Response:
    """Response from the bytes between LEN and CHK."""
    return Response(sw1=body[0], sw2=body[1], sw3=body[2], data=bytes(body[3:]))


T = TypeVar("T")


class FrameDecoder(Generic[T]):
    """Incremental decoder: feed any chunks; skips noise before the preamble."""

    def __init__(self, parse: Callable[[bytes], T], min_body: int) -> None:
        self._parse = parse
        self._min_len = min_body + 1
        self._buf = bytearray()
        #: Bytes thrown away while looking for a preamble.
        self.discarded = 0

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        self._buf += data

    @property
    def buffered(self) -> int:
        """Bytes held that are not yet part of a returned frame."""
        return len(self._buf)

    def _resync(self) -> None:
        start = self._buf.find(PREAMBLE)
        if start < 0:
            # Keep a tail that may be the start of a preamble split across reads.
            keep = next(
                (n for n in range(len(PREAMBLE) - 1, 0, -1) if self._buf.endswith(PREAMBLE[:n])),
                0,
            )
            start = len(self._buf) - keep
        if start:
            self.discarded += start
            del self._buf[:start]

    def wanted(self) -> int:
        """Fewest further bytes that could complete the next frame (at least 1)."""
        self._resync()
        if len(self._buf) < HEADER_SIZE:
            return HEADER_SIZE - len(self._buf)
        length = int.from_bytes(self._buf[5:7], "big")
        return max(1, HEADER_SIZE + length - len(self._buf))

    def next_frame(self) -> T | None:
        """The next complete frame, None if more bytes are needed.

        A frame with a bad length or checksum is dropped and reported by raising
        ``FrameLengthError`` / ``FrameChecksumError``; call again to go on.
        """
        self._resync()
        if len(self._buf) < HEADER_SIZE:
            return None
        length = int.from_bytes(self._buf[5:7], "big")
        if not self._min_len <= length <= MAX_LEN:
            # Drop one byte so the search restarts after this false preamble.
            del self._buf[:1]
            raise FrameLengthError(f"frame length {length} outside {self._min_len}..{MAX_LEN}")
        end = HEADER_SIZE + length
        if len(self._buf) < end:
            return None
        frame = bytes(self._buf[:end])
        del self._buf[:end]
        if xor_checksum(frame[len(PREAMBLE) : -1]) != frame[-1]:
            raise FrameChecksumError(f"bad checksum in a {end}-byte frame")
        return self._parse(frame[HEADER_SIZE:-1])


def response_decoder() -> FrameDecoder[Response]:
    """Decoder for reader -> host frames (driver side)."""
    return FrameDecoder(parse_response_body, min_body=3)


def request_decoder() -> FrameDecoder[Request]:
    """Decoder for host -> reader frames (simulator side)."""
    return FrameDecoder(parse_request_body, min_body=2)


def decode_response(frame: bytes) -> Response:
    """Decode exactly one complete response frame."""
    decoder = response_decoder()
    decoder.feed(frame)
    response = decoder.next_frame()
    if response is None or decoder.discarded or decoder.buffered:
        raise IdCardProtocolError(f"not exactly one response frame ({len(frame)} bytes)")
    return response


def build_read_payload(text: bytes, photo: bytes) -> bytes:
    """DATA of a read response: text length, photo length (big-endian), text, photo."""
    return len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text + photo


def parse_read_payload(data: bytes) -> tuple[bytes, bytes]:
    """(text, photo) from the DATA of a read response."""
    if len(data) < 4:
        raise FrameLengthError(f"read payload of {len(data)} bytes has no length fields")
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    if len(data) != 4 + text_len + photo_len:
        raise FrameLengthError(f"read payload {len(data)} bytes, lengths say {4 + text_len + photo_len}")
    return data[4 : 4 + text_len], data[4 + text_len :]
