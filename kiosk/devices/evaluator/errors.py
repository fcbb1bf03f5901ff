"""Errors of the serial evaluator package."""

from kiosk.devices.errors import DeviceConnectionError, DeviceError, DeviceProtocolError, DeviceTimeoutError


class EvaluatorError(DeviceError):
    """Root of every serial evaluator error."""


class EvaluatorConnectionError(EvaluatorError, DeviceConnectionError):
    """The serial port cannot be opened, or reading or writing it failed."""


class EvaluatorTimeoutError(EvaluatorConnectionError, DeviceTimeoutError):
    """The evaluator did not acknowledge a command in time."""


class EvaluatorProtocolError(EvaluatorError, DeviceProtocolError):
    """Bytes that do not make a valid frame, or a refused command."""
