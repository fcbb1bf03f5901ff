"""Pure codec of the fingerprint module: instruction builders, reply parsers and packet framing."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from kiosk.devices.fingerprint.errors import CODE_ERRORS, FingerprintProtocolError, error_for_code
from kiosk.devices.fingerprint.framing import (
    DEFAULT_ADDRESS,
    START_CODE,
    Packet,
    PacketDecoder,
    PacketType,
    checksum,
    encode_packet,
)

__all__ = [
    "DEFAULT_ADDRESS",
    "INDEX_PAGE_SIZE",
    "START_CODE",
    "Ack",
    "BufferId",
    "Instruction",
    "Match",
    "Packet",
    "PacketDecoder",
    "PacketType",
    "SystemParameters",
    "checksum",
    "describe_code",
    "encode_ack",
    "encode_command",
    "encode_packet",
    "parse_ack",
]

OK = 0x00
INDEX_PAGE_SIZE = 256  # templates per ReadIndexTable page (32 bytes x 8 bits)
BAUD_UNIT = 9600


class Instruction(IntEnum):
    """Instruction codes of command packets."""

    GEN_IMG = 0x01
    IMG2TZ = 0x02
    MATCH = 0x03
    SEARCH = 0x04
    REG_MODEL = 0x05
    STORE = 0x06
    DELETE_CHAR = 0x0C
    EMPTY = 0x0D
    SET_SYS_PARA = 0x0E
    READ_SYS_PARA = 0x0F
    VFY_PWD = 0x13
    TEMPLATE_NUM = 0x1D
    READ_INDEX_TABLE = 0x1F


class BufferId(IntEnum):
    """The module's two character-file buffers."""

    ONE = 1
    TWO = 2


@dataclass(frozen=True)
class Match:
    """A search hit: library page and match score."""

    page: int
    score: int


@dataclass(frozen=True)
class SystemParameters:
    """Reply of ReadSysPara."""

    status_register: int
    system_id: int
    capacity: int
    security_level: int
    address: int
    packet_size_bytes: int
    baud: int

    _FORMAT = ">HHHHIHH"

    @classmethod
    def decode(cls, data: bytes) -> SystemParameters:
        """Parse the 16 data bytes after the confirmation code."""
        if len(data) < struct.calcsize(cls._FORMAT):
            raise FingerprintProtocolError(f"system parameters too short: {len(data)} bytes")
        status, system_id, capacity, level, address, size_code, baud_n = struct.unpack_from(cls._FORMAT, data)
        return cls(status, system_id, capacity, level, address, 32 << min(size_code, 3), baud_n * BAUD_UNIT)

    def encode(self) -> bytes:
        """The 16 data bytes as the module sends them."""
        size_code = max(0, (self.packet_size_bytes // 32).bit_length() - 1)
        return struct.pack(
            self._FORMAT,
            self.status_register,
            self.system_id,
            self.capacity,
            self.security_level,
            self.address,
            size_code,
            self.baud // BAUD_UNIT,
        )


@dataclass(frozen=True)
class Ack:
    """An acknowledgement: confirmation code and the data after it."""

    code: int
    data: bytes = b""

    @property
    def ok(self) -> bool:
        """True when the confirmation code is 00."""
        return self.code == OK

    def raise_for_code(self) -> Ack:
        """Return self when ok, else raise the typed error of the code."""
        if not self.ok:
            raise error_for_code(self.code)
        return self

    def word(self, index: int = 0) -> int:
        """The big-endian 16-bit value at word ``index`` of the data."""
        if len(self.data) < 2 * index + 2:
            raise FingerprintProtocolError(f"reply data too short: {len(self.data)} bytes")
        value: int = struct.unpack_from(">H", self.data, 2 * index)[0]
        return value

    def match(self) -> Match:
        """Parse a Search reply."""
        return Match(page=self.word(0), score=self.word(1))

    def index_pages(self, index_page: int) -> set[int]:
        """Parse a ReadIndexTable reply into the set of used library pages."""
        base = index_page * INDEX_PAGE_SIZE
        # Bit b of byte i (least significant first) flags page base + 8 * i + b.
        return {base + 8 * i + b for i, byte in enumerate(self.data[:32]) for b in range(8) if byte >> b & 1}


def describe_code(code: int) -> str:
    """English description of a confirmation code."""
    if code == OK:
        return "ok"
    return CODE_ERRORS[code][1] if code in CODE_ERRORS else f"unknown code 0x{code:02X}"


def parse_ack(packet: Packet) -> Ack:
    """Turn an acknowledgement packet into an Ack."""
    if packet.pid != PacketType.ACK or not packet.content:
        raise FingerprintProtocolError(f"expected an acknowledgement, got packet type 0x{packet.pid:02X}")
    return Ack(code=packet.content[0], data=packet.content[1:])


def encode_ack(code: int, data: bytes = b"", address: int = DEFAULT_ADDRESS) -> bytes:
    """An acknowledgement packet as the module sends it."""
    return encode_packet(PacketType.ACK, bytes([code]) + data, address)


def encode_command(instruction: int, params: bytes = b"", address: int = DEFAULT_ADDRESS) -> bytes:
    """A command packet: instruction code followed by its parameters."""
    return encode_packet(PacketType.COMMAND, bytes([instruction]) + params, address)


def gen_img(address: int = DEFAULT_ADDRESS) -> bytes:
    """GenImg: capture a finger image."""
    return encode_command(Instruction.GEN_IMG, b"", address)


def img2tz(buffer_id: int, address: int = DEFAULT_ADDRESS) -> bytes:
    """Img2Tz: extract features of the image into a character buffer."""
    return encode_command(Instruction.IMG2TZ, struct.pack(">B", buffer_id), address)


def match(address: int = DEFAULT_ADDRESS) -> bytes:
    """Match: compare character buffers 1 and 2."""
    return encode_command(Instruction.MATCH, b"", address)


def search(buffer_id: int, start_page: int, page_count: int, address: int = DEFAULT_ADDRESS) -> bytes:
    """Search: look up a character buffer in ``page_count`` pages from ``start_page``."""
    return encode_command(Instruction.SEARCH, struct.pack(">BHH", buffer_id, start_page, page_count), address)


def reg_model(address: int = DEFAULT_ADDRESS) -> bytes:
    """RegModel: combine buffers 1 and 2 into one template."""
    return encode_command(Instruction.REG_MODEL, b"", address)


def store(buffer_id: int, page: int, address: int = DEFAULT_ADDRESS) -> bytes:
    """Store: write a buffer's template to a library page."""
    return encode_command(Instruction.STORE, struct.pack(">BH", buffer_id, page), address)


def delete_char(page: int, count: int = 1, address: int = DEFAULT_ADDRESS) -> bytes:
    """DeleteChar: delete ``count`` templates from ``page``."""
    return encode_command(Instruction.DELETE_CHAR, struct.pack(">HH", page, count), address)


def empty(address: int = DEFAULT_ADDRESS) -> bytes:
    """Empty: delete every template."""
    return encode_command(Instruction.EMPTY, b"", address)


def set_sys_para(param: int, value: int, address: int = DEFAULT_ADDRESS) -> bytes:
    """SetSysPara: set parameter 4 (baud N), 5 (security level) or 6 (packet size code)."""
    return encode_command(Instruction.SET_SYS_PARA, struct.pack(">BB", param, value), address)


def read_sys_para(address: int = DEFAULT_ADDRESS) -> bytes:
    """ReadSysPara: read the 16 bytes of system parameters."""
    return encode_command(Instruction.READ_SYS_PARA, b"", address)


def vfy_pwd(password: int, address: int = DEFAULT_ADDRESS) -> bytes:
    """VfyPwd: verify the 32-bit module password."""
    return encode_command(Instruction.VFY_PWD, struct.pack(">I", password), address)


def template_num(address: int = DEFAULT_ADDRESS) -> bytes:
    """TemplateNum: count the stored templates."""
    return encode_command(Instruction.TEMPLATE_NUM, b"", address)


def read_index_table(index_page: int, address: int = DEFAULT_ADDRESS) -> bytes:
    """ReadIndexTable: bitmap of used pages ``256 * index_page`` .. ``256 * index_page + 255``."""
    return encode_command(Instruction.READ_INDEX_TABLE, struct.pack(">B", index_page), address)


def encode_index_table(pages: set[int], index_page: int) -> bytes:
    """The 32-byte bitmap of one index page (the simulator's side of ReadIndexTable)."""
    bitmap = bytearray(32)
    base = index_page * INDEX_PAGE_SIZE
    for page in pages:
        offset = page - base
        if 0 <= offset < INDEX_PAGE_SIZE:
            bitmap[offset // 8] |= 1 << (offset % 8)
    return bytes(bitmap)
