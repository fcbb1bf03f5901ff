"""Exception root of the device library."""


class DeviceError(Exception):
    """Root of every error raised by ``kiosk.devices``."""


class DeviceConnectionError(DeviceError):
    """The transport failed: port missing, unplugged, I/O error."""


class DeviceTimeoutError(DeviceConnectionError):
    """The device did not answer in time."""


class DeviceProtocolError(DeviceError):
    """The device answered with bytes that do not make a valid frame."""
