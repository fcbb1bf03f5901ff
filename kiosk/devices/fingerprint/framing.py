"""Packet framing of the Synochip UART protocol: ``EF 01 | ADDR(4) | PID | LEN(2) | CONTENT | SUM(2)``."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

from kiosk.devices.fingerprint.errors import BadHeaderError, ChecksumError, FingerprintProtocolError

START_CODE = b"\xef\x01"
DEFAULT_ADDRESS = 0xFFFFFFFF
HEADER_SIZE = 9  # start code, address, packet id, length
CHECKSUM_SIZE = 2
# Data packets carry up to 256 content bytes (packet size code 3); LEN counts the checksum too.
MAX_CONTENT_SIZE = 256


class PacketType(IntEnum):
    """Packet identifier (PID)."""

    COMMAND = 0x01
    DATA = 0x02
    ACK = 0x07
    END_OF_DATA = 0x08


_VALID_PIDS = frozenset(int(pid) for pid in PacketType)


def checksum(pid: int, content: bytes) -> int:
    """Sum of PID, both length bytes and the content, modulo 2**16."""
    length = len(content) + CHECKSUM_SIZE
    return (pid + (length >> 8) + (length & 0xFF) + sum(content)) & 0xFFFF


@dataclass(frozen=True)
class Packet:
    """One decoded packet."""

    pid: int
    content: bytes
    address: int = DEFAULT_ADDRESS

    def encode(self) -> bytes:
        """The packet's bytes on the wire."""
        return encode_packet(self.pid, self.content, self.address)


def encode_packet(pid: int, content: bytes, address: int = DEFAULT_ADDRESS) -> bytes:
    """Frame ``content`` as one packet of type ``pid`` for ``address``."""
    if not 0 <= address <= 0xFFFFFFFF:
        raise ValueError(f"address out of range: {address:#x}")
    if len(content) > MAX_CONTENT_SIZE:
        raise ValueError(f"content too long: {len(content)} bytes")
    length = len(content) + CHECKSUM_SIZE
    head = START_CODE + struct.pack(">IBH", address, pid, length)
    return head + content + struct.pack(">H", checksum(pid, content))


@dataclass
class PacketDecoder:
    """Incremental decoder: feed any chunks, get whole packets; resynchronises after garbage.

    Bytes before a start code are skipped (counted in ``skipped_bytes``). A start code followed by an
    impossible packet id or length, or a packet with a wrong checksum, is dropped one byte at a time so
    that a real packet hidden inside it is still found; each such drop is recorded in ``errors``.
    """

    skipped_bytes: int = 0
    errors: list[FingerprintProtocolError] = field(default_factory=list)
    _buf: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> list[Packet]:
        """Add bytes and return every packet completed by them."""
        self._buf += data
        packets: list[Packet] = []
        while True:
            packet = self._next()
            if packet is None:
                return packets
            packets.append(packet)

    def take_errors(self) -> list[FingerprintProtocolError]:
        """Return and forget the framing errors seen so far."""
        errors, self.errors = self.errors, []
        return errors

    def pending(self) -> int:
        """Number of buffered bytes not yet part of a packet."""
        return len(self._buf)

    def bytes_wanted(self) -> int:
        """How many more bytes could complete the packet being received (at least 1)."""
        buf = self._buf
        if len(buf) >= HEADER_SIZE and buf.startswith(START_CODE):
            (length,) = struct.unpack_from(">H", buf, 7)
            return max(1, HEADER_SIZE + length - len(buf))
        return max(1, HEADER_SIZE + CHECKSUM_SIZE + 1 - len(buf))

    def _drop(self, count: int) -> None:
        del self._buf[:count]

    def _next(self) -> Packet | None:
        buf = self._buf
        while True:
            start = buf.find(START_CODE)
            if start < 0:
                # Keep a trailing EF: it may be the first half of a start code split across reads.
                keep = 1 if buf.endswith(START_CODE[:1]) else 0
                self.skipped_bytes += len(buf) - keep
                self._drop(len(buf) - keep)
                return None
            self.skipped_bytes += start
            self._drop(start)
            if len(buf) < HEADER_SIZE:
                return None
            address, pid, length = struct.unpack_from(">IBH", buf, 2)
            if pid not in _VALID_PIDS or not CHECKSUM_SIZE < length <= MAX_CONTENT_SIZE + CHECKSUM_SIZE:
                self.errors.append(BadHeaderError(f"bad packet header: pid 0x{pid:02X}, length {length}"))
                self._drop(1)
                continue
            end = HEADER_SIZE + length
            if len(buf) < end:
                return None
            content = bytes(buf[HEADER_SIZE : end - CHECKSUM_SIZE])
            (received,) = struct.unpack_from(">H", buf, end - CHECKSUM_SIZE)
            expected = checksum(pid, content)
            if received != expected:
                self.errors.append(
                    ChecksumError(f"bad checksum: got 0x{received:04X}, expected 0x{expected:04X}")
                )
                self._drop(1)
                continue
            self._drop(end)
            return Packet(pid=pid, content=content, address=address)
