"""Errors of the PC/SC contactless reader package."""

from __future__ import annotations

from kiosk.devices.errors import DeviceConnectionError, DeviceError, DeviceProtocolError


class PcscError(DeviceError):
    """Root of every error raised by ``kiosk.devices.pcsc``."""


class PcscUnavailableError(PcscError, DeviceConnectionError):
    """pcscd is not running or not reachable (or the vpcd port refused the virtual card)."""


class ReaderNotFoundError(PcscError, DeviceConnectionError):
    """No reader with the wanted name is attached."""


class NoCardError(PcscError):
    """The reader is present but no card is on it (or the card left during the read)."""


class CardCommandError(PcscError):
    """The card answered a command with a status word other than 90 00."""

    def __init__(self, message: str, sw: int) -> None:
        super().__init__(message)
        self.sw = sw


class PcscProtocolError(PcscError, DeviceProtocolError):
    """A card answer or socket message does not have the expected shape."""


class VpcdProtocolError(PcscProtocolError):
    """Bytes on the vpcd socket do not make a valid message."""
