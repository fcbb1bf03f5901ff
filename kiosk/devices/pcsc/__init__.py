"""Contactless card reader through PC/SC (pcscd), with a virtual card for pcscd's vpcd reader."""

from kiosk.devices.pcsc.apdu import GET_UID_APDU, MIFARE_1K_ATR, CardRead
from kiosk.devices.pcsc.driver import DEFAULT_READER_PATTERN, CardWatcher, ContactlessReader
from kiosk.devices.pcsc.errors import (
    CardCommandError,
    NoCardError,
    PcscError,
    PcscProtocolError,
    PcscUnavailableError,
    ReaderNotFoundError,
    VpcdProtocolError,
)
from kiosk.devices.pcsc.station import VPCD_READER, ReaderStation, pick_reader
from kiosk.devices.pcsc.vpcd import DEFAULT_VPCD_PORT, VirtualCard

__all__ = [
    "DEFAULT_READER_PATTERN",
    "DEFAULT_VPCD_PORT",
    "GET_UID_APDU",
    "MIFARE_1K_ATR",
    "VPCD_READER",
    "CardCommandError",
    "CardRead",
    "CardWatcher",
    "ContactlessReader",
    "NoCardError",
    "PcscError",
    "PcscProtocolError",
    "PcscUnavailableError",
    "ReaderNotFoundError",
    "ReaderStation",
    "VirtualCard",
    "VpcdProtocolError",
    "pick_reader",
]
