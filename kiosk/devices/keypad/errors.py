"""Errors of the keypad package."""

from kiosk.devices.errors import DeviceConnectionError, DeviceError, DeviceProtocolError


class KeypadError(DeviceError):
    """Root of every keypad error."""


class KeypadUnavailableError(KeypadError, DeviceConnectionError):
    """The keypad cannot be opened or read: missing, unplugged, or grabbed by another process."""


class KeypadProtocolError(KeypadError, DeviceProtocolError):
    """Bytes on an event stream do not make a valid ``struct input_event`` record."""


class KeypadConfigError(KeypadError, ValueError):
    """A key map configuration names an unknown key code or logical key."""
