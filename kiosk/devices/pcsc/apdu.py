"""Pure APDU helpers for contactless cards (PC/SC part 3 GET DATA), used by the driver and the card."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.devices.pcsc.errors import CardCommandError, PcscProtocolError

GET_UID_APDU = bytes.fromhex("FF CA 00 00 00")
SW_OK = 0x9000
SW_END_OF_DATA = 0x6282
SW_WRONG_LENGTH = 0x6700
SW_FUNCTION_NOT_SUPPORTED = 0x6A81
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
# PC/SC part 3 answer of a typical MIFARE Classic 1K on a contactless reader.
MIFARE_1K_ATR = bytes.fromhex("3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A")

_CLA_PCSC = 0xFF
_INS_GET_DATA = 0xCA


@dataclass(frozen=True)
class CardRead:
    """One read of a card: its UID and ATR as upper-case hex without spaces."""

    uid_hex: str
    atr_hex: str


def sw_bytes(sw: int) -> bytes:
    """The two status-word bytes of ``sw``."""
    return sw.to_bytes(2, "big")


def split_response(response: bytes) -> tuple[bytes, int]:
    """Split a response APDU into data and status word."""
    if len(response) < 2:
        raise PcscProtocolError(f"response of {len(response)} bytes has no status word")
    return response[:-2], int.from_bytes(response[-2:], "big")


def uid_from_response(response: bytes) -> bytes:
    """The UID carried by the answer to GET_UID_APDU; raise on a bad status word."""
    data, sw = split_response(response)
    if sw != SW_OK:
        raise CardCommandError(f"GET UID failed with SW {sw:04X}", sw)
    if not data:
        raise PcscProtocolError("GET UID answered 90 00 without a UID")
    return data


def answer_apdu(apdu: bytes, uid: bytes) -> bytes:
    """How a contactless card behind a PC/SC part 3 reader answers ``apdu`` (card side)."""
    if len(apdu) < 4:
        return sw_bytes(SW_WRONG_LENGTH)
    cla, ins, p1, p2 = apdu[0], apdu[1], apdu[2], apdu[3]
    if cla != _CLA_PCSC:
        return sw_bytes(SW_CLA_NOT_SUPPORTED)
    if ins != _INS_GET_DATA:
        return sw_bytes(SW_INS_NOT_SUPPORTED)
    if p1 != 0x00 or p2 != 0x00:
        # P1=01 asks for the ATS historical bytes, which this card does not offer.
        return sw_bytes(SW_FUNCTION_NOT_SUPPORTED)
    if len(apdu) != 5:
        return sw_bytes(SW_WRONG_LENGTH)
    expected_len = apdu[4]
    if 0 < expected_len < len(uid):
        # Part 3: a short Le is answered with 6C XX giving the right length.
        return bytes([0x6C, len(uid)])
    if expected_len > len(uid):
        return uid + sw_bytes(SW_END_OF_DATA)
    return uid + sw_bytes(SW_OK)
