"""Fingerprint modules on a UART (R30x / R307 / R503 / AS608 "Synochip" protocol)."""

from kiosk.devices.fingerprint.codec import Match, SystemParameters
from kiosk.devices.fingerprint.driver import EnrollStep, FingerprintReader
from kiosk.devices.fingerprint.errors import (
    ConfirmationError,
    EnrollMismatchError,
    FingerNotFoundError,
    FingerprintConnectionError,
    FingerprintError,
    FingerprintProtocolError,
    FingerprintTimeoutError,
    LibraryFullError,
    NoFingerError,
    PageOutOfRangeError,
    PoorImageError,
    WrongPasswordError,
)

__all__ = [
    "ConfirmationError",
    "EnrollMismatchError",
    "EnrollStep",
    "FingerNotFoundError",
    "FingerprintConnectionError",
    "FingerprintError",
    "FingerprintProtocolError",
    "FingerprintReader",
    "FingerprintTimeoutError",
    "LibraryFullError",
    "Match",
    "NoFingerError",
    "PageOutOfRangeError",
    "PoorImageError",
    "SystemParameters",
    "WrongPasswordError",
]
