"""Simulated fingerprint module on a pty: template library, two character buffers and fault switches."""

from __future__ import annotations

import logging
import struct
import threading
from collections.abc import Callable

from kiosk.devices.fingerprint import codec
from kiosk.devices.fingerprint.codec import INDEX_PAGE_SIZE, Instruction, PacketType, SystemParameters
from kiosk.devices.pty_sim import PtySimulator

log = logging.getLogger(__name__)

OK = 0x00
RECEIVE_ERROR = 0x01
NO_FINGER = 0x02
MESSY_IMAGE = 0x06
NO_MATCH = 0x08
NOT_FOUND = 0x09
ENROLL_MISMATCH = 0x0A
PAGE_OUT_OF_RANGE = 0x0B
INVALID_TEMPLATE = 0x0C
DELETE_FAILED = 0x10
WRONG_PASSWORD = 0x13
NO_VALID_IMAGE = 0x15
BAD_REGISTER = 0x1A
PASSWORD_REQUIRED = 0x21
MATCH_SCORE = 150  # a plausible score for the same finger; real modules report roughly 50..300
FAULTS = ("no_finger", "poor_image", "not_found", "bad_checksum", "silent")

Reply = tuple[int, bytes]


class FingerprintSimulator(PtySimulator):
    """Speaks the Synochip protocol from the module side; a "finger" is just an id string."""

    def __init__(
        self,
        capacity: int = 200,
        password: int = 0,
        address: int = codec.DEFAULT_ADDRESS,
        pages: dict[int, str] | None = None,
    ) -> None:
        super().__init__()
        self.capacity = capacity
        self.password = password
        self.address = address
        self.pages: dict[int, str] = dict(pages or {})
        self.security_level = 3
        self.packet_size_bytes = 128
        self.baud = 57600
        # Fault switches (``silent`` comes from PtySimulator).
        self.no_finger = False
        self.poor_image = False
        self.poor_image_code = MESSY_IMAGE
        self.not_found = False
        self.bad_checksum = False
        self._finger: str | None = None
        self._image: str | None = None
        self._buffers: dict[int, str | None] = {1: None, 2: None}
        # A module with the default password accepts commands without a handshake.
        self._verified = password == 0
        self._decoder = codec.PacketDecoder()
        self._state = threading.RLock()
        self._handlers: dict[int, Callable[[bytes], Reply]] = {
            Instruction.GEN_IMG: self._gen_img,
            Instruction.IMG2TZ: self._img2tz,
            Instruction.MATCH: self._match,
            Instruction.SEARCH: self._search,
            Instruction.REG_MODEL: self._reg_model,
            Instruction.STORE: self._store,
            Instruction.DELETE_CHAR: self._delete_char,
            Instruction.EMPTY: self._empty,
            Instruction.SET_SYS_PARA: self._set_sys_para,
            Instruction.READ_SYS_PARA: self._read_sys_para,
            Instruction.TEMPLATE_NUM: lambda _p: (OK, struct.pack(">H", len(self.pages))),
            Instruction.READ_INDEX_TABLE: self._read_index_table,
        }

    # -- test controls ---------------------------------------------------------
    def place_finger(self, finger_id: str) -> None:
        """Put a finger on the sensor."""
        with self._state:
            self._finger = finger_id

    def lift_finger(self) -> None:
        """Take the finger off the sensor."""
        with self._state:
            self._finger = None

    def enroll_direct(self, page: int, finger_id: str) -> None:
        """Seed the library without going through the protocol."""
        if not 0 <= page < self.capacity:
            raise ValueError(f"page {page} outside 0..{self.capacity - 1}")
        with self._state:
            self.pages[page] = finger_id

    def set_fault(self, name: str, on: bool) -> None:
        """Turn a fault switch from FAULTS on or off."""
        if name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
        setattr(self, name, on)

    def start(self) -> str:
        """Open a fresh pty; a replugged module has lost its handshake and buffers, like after power-up."""
        with self._state:
            self._decoder = codec.PacketDecoder()
            self._verified = self.password == 0
            self._image = None
            self._buffers = {1: None, 2: None}
        return super().start()

    def __enter__(self) -> FingerprintSimulator:
        self.start()
        return self

    # -- protocol ----------------------------------------------------------------
    def on_bytes(self, data: bytes) -> None:
        """Decode command packets and answer each with an acknowledgement."""
        with self._state:
            packets = self._decoder.feed(data)
            if self._decoder.take_errors():
                self._reply(RECEIVE_ERROR, b"")
            for packet in packets:
                if packet.address != self.address:
                    log.debug("ignoring packet for address %08X", packet.address)
                elif packet.pid != PacketType.COMMAND or not packet.content:
                    self._reply(RECEIVE_ERROR, b"")
                else:
                    self._reply(*self._handle(packet.content[0], packet.content[1:]))

    def _reply(self, code: int, data: bytes) -> None:
        frame = codec.encode_ack(code, data, self.address)
        if self.bad_checksum:
            frame = frame[:-1] + bytes([frame[-1] ^ 0x5A])
        self.send(frame)

    def _handle(self, instruction: int, params: bytes) -> Reply:
        if instruction == Instruction.VFY_PWD:
            return self._vfy_pwd(params)
        if not self._verified:
            return PASSWORD_REQUIRED, b""
        handler = self._handlers.get(instruction)
        if handler is None:
            # The datasheets name no code for an unknown instruction; answer a receive error.
            return RECEIVE_ERROR, b""
        try:
            return handler(params)
        except struct.error:
            return RECEIVE_ERROR, b""

    def _vfy_pwd(self, params: bytes) -> Reply:
        (password,) = struct.unpack(">I", params[:4])
        self._verified = password == self.password
        return (OK if self._verified else WRONG_PASSWORD), b""

    def _gen_img(self, _params: bytes) -> Reply:
        if self._finger is None or self.no_finger:
            return NO_FINGER, b""
        self._image = self._finger
        return OK, b""

    def _img2tz(self, params: bytes) -> Reply:
        (buffer_id,) = struct.unpack(">B", params[:1])
        if buffer_id not in self._buffers:
            return RECEIVE_ERROR, b""
        if self._image is None:
            return NO_VALID_IMAGE, b""
        if self.poor_image:
            return self.poor_image_code, b""
        self._buffers[buffer_id] = self._image
        return OK, b""

    def _match(self, _params: bytes) -> Reply:
        first, second = self._buffers[1], self._buffers[2]
        if first is not None and first == second:
            return OK, struct.pack(">H", MATCH_SCORE)
        return NO_MATCH, struct.pack(">H", 0)

    def _search(self, params: bytes) -> Reply:
        buffer_id, start, count = struct.unpack(">BHH", params[:5])
        finger = self._buffers.get(buffer_id)
        if finger is not None and not self.not_found:
            for page in range(start, min(start + count, self.capacity)):
                if self.pages.get(page) == finger:
                    return OK, struct.pack(">HH", page, MATCH_SCORE)
        return NOT_FOUND, struct.pack(">HH", 0, 0)

    def _reg_model(self, _params: bytes) -> Reply:
        first, second = self._buffers[1], self._buffers[2]
        if first is None or first != second:
            return ENROLL_MISMATCH, b""
        return OK, b""

    def _store(self, params: bytes) -> Reply:
        buffer_id, page = struct.unpack(">BH", params[:3])
        if page >= self.capacity:
            return PAGE_OUT_OF_RANGE, b""
        finger = self._buffers.get(buffer_id)
        if finger is None:
            return INVALID_TEMPLATE, b""
        self.pages[page] = finger
        return OK, b""

    def _delete_char(self, params: bytes) -> Reply:
        page, count = struct.unpack(">HH", params[:4])
        if count == 0 or page + count > self.capacity:
            return DELETE_FAILED, b""
        for index in range(page, page + count):
            self.pages.pop(index, None)
        return OK, b""

    def _empty(self, _params: bytes) -> Reply:
        self.pages.clear()
        return OK, b""

    def _set_sys_para(self, params: bytes) -> Reply:
        param, value = struct.unpack(">BB", params[:2])
        if param == 4 and 1 <= value <= 12:
            self.baud = value * 9600
        elif param == 5 and 1 <= value <= 5:
            self.security_level = value
        elif param == 6 and 0 <= value <= 3:
            self.packet_size_bytes = 32 << value
        else:
            return BAD_REGISTER, b""
        return OK, b""

    def _read_sys_para(self, _params: bytes) -> Reply:
        params = SystemParameters(
            status_register=0,
            system_id=0x0009,
            capacity=self.capacity,
            security_level=self.security_level,
            address=self.address,
            packet_size_bytes=self.packet_size_bytes,
            baud=self.baud,
        )
        return OK, params.encode()

    def _read_index_table(self, params: bytes) -> Reply:
        (index_page,) = struct.unpack(">B", params[:1])
        # Four index pages cover the largest common library (1024 templates).
        if index_page > 3:
            return PAGE_OUT_OF_RANGE, b""
        used = {page for page in self.pages if page // INDEX_PAGE_SIZE == index_page}
        return OK, codec.encode_index_table(used, index_page)
