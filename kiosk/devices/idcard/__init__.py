"""Resident ID-card reader (GA 467 SAM module, GA/T 490 text block)."""

from kiosk.devices.idcard.driver import IdCardReader
from kiosk.devices.idcard.errors import (
    IdCardError,
    InvalidIdNumberError,
    NoCardError,
    UnsupportedCardError,
)
from kiosk.devices.idcard.identity import Identity, is_valid_id_number, mask_id_number
from kiosk.devices.idcard.poller import CardPoller

__all__ = [
    "CardPoller",
    "IdCardError",
    "IdCardReader",
    "Identity",
    "InvalidIdNumberError",
    "NoCardError",
    "UnsupportedCardError",
    "is_valid_id_number",
    "mask_id_number",
]
