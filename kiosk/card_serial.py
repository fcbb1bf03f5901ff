"""The card serial lane: with no SAM reader fitted, the ID card's physical serial (UID) read by a
PC/SC reader stands for the citizen. It gives no name, ID number, age or validity; the serial goes
only to the server (which keeps a keyed hash of it) and is shown masked.
"""

from __future__ import annotations

from typing import Protocol

from kiosk.devices.pcsc import VPCD_READER, CardRead, NoCardError, PcscError, ReaderStation
from kiosk.devices.supervisor import StateCallback
from kiosk.flow_state import Citizen
from kiosk.settings import SIMULATED, KioskSettings

DEVICE_NAME = "card_serial"
DEVICE_KIND = "pcsc"
# Hints put before the card-unreadable screen text (Chinese, for the citizen).
HINT_CARD_LEFT = "卡片移开过快"
HINT_NOT_READ = "未能读取卡片"


def mask_card_serial(serial_hex: str) -> str:
    """A serial as the screen shows it: only its last 4 hex digits (as the server masks it)."""
    return "****" + serial_hex.strip().upper()[-4:]


def citizen_from_serial(card: CardRead) -> Citizen:
    """The card-lane view of a card read by its serial only."""
    return Citizen.by_card_serial(card.uid_hex, mask_card_serial(card.uid_hex))


def read_failure_hint(err: PcscError) -> str:
    """What the citizen is told about a card that was there but not read."""
    return HINT_CARD_LEFT if isinstance(err, NoCardError) else HINT_NOT_READ


def wanted_reader(settings: KioskSettings) -> str:
    """The reader name (or pattern) of the lane; "sim" is pcscd's vpcd test reader."""
    return VPCD_READER if settings.card_serial_reader == SIMULATED else settings.card_serial_reader


class CardSerialHandlers(Protocol):
    """What the lane calls on the event loop (the kiosk service implements it)."""

    def on_card_serial(self, card: CardRead) -> None:
        """A card was put on the reader and its UID read."""

    def on_card_serial_removed(self) -> None:
        """The card left the reader."""

    def on_card_serial_error(self, err: PcscError) -> None:
        """A card was there but its UID could not be read."""


def card_serial_station(
    settings: KioskSettings, handlers: CardSerialHandlers, on_change: StateCallback
) -> ReaderStation:
    """The lane's reader, supervised; its UIDs never reach the wire log."""
    return ReaderStation(
        DEVICE_NAME,
        DEVICE_KIND,
        wanted_reader(settings),
        handlers.on_card_serial,
        handlers.on_card_serial_removed,
        handlers.on_card_serial_error,
        on_change,
        redact_uid=True,
    )
