"""Serial transport chosen by a pyserial URL, with a hex wire log at DEBUG."""

from __future__ import annotations

import logging
import termios
import time
from typing import Any

import serial

from kiosk.devices.errors import DeviceConnectionError, DeviceTimeoutError


def hex_bytes(data: bytes) -> str:
    """Format bytes as space-separated upper-case hex."""
    return data.hex(" ").upper()


class SerialTransport:
    """A serial port opened from a path or pyserial URL (``loop://``, ``socket://``, ``spy://``)."""

    def __init__(self, url: str, baud: int, timeout_s: float = 1.0, wire_logger: str = __name__) -> None:
        self.url = url
        self.baud = baud
        self.timeout_s = timeout_s
        self._wire = logging.getLogger(wire_logger)
        self._port: Any = None

    @property
    def is_open(self) -> bool:
        """True while the port is open."""
        return self._port is not None

    def open(self) -> None:
        """Open the port; raise DeviceConnectionError when it cannot be opened."""
        try:
            # dsrdtr/rtscts off: setting modem lines on a pty raises ENOTTY.
            self._port = serial.serial_for_url(self.url, baudrate=self.baud, timeout=self.timeout_s)
        except (serial.SerialException, OSError, ValueError) as err:
            raise DeviceConnectionError(f"cannot open {self.url}: {err}") from err

    def close(self) -> None:
        """Close the port if open."""
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError, termios.error):
                self._wire.debug("error while closing %s", self.url)

    def _require(self) -> Any:
        if self._port is None:
            raise DeviceConnectionError(f"{self.url} is not open")
        return self._port

    def write(self, data: bytes) -> None:
        """Write all bytes."""
        port = self._require()
        self._wire.debug(">>> %s", hex_bytes(data))
        try:
            port.write(data)
            port.flush()
        except (serial.SerialException, OSError, termios.error) as err:
            self.close()
            raise DeviceConnectionError(f"write to {self.url} failed: {err}") from err

    def read(self, size: int) -> bytes:
        """Read up to ``size`` bytes, waiting at most ``timeout_s`` (may return fewer)."""
        port = self._require()
        try:
            data: bytes = port.read(size)
        except (serial.SerialException, OSError, termios.error) as err:
            self.close()
            raise DeviceConnectionError(f"read from {self.url} failed: {err}") from err
        if data:
            self._wire.debug("<<< %s", hex_bytes(data))
        return data

    def read_exact(self, size: int, timeout_s: float | None = None) -> bytes:
        """Read exactly ``size`` bytes or raise DeviceTimeoutError."""
        deadline = time.monotonic() + (self.timeout_s if timeout_s is None else timeout_s)
        buf = bytearray()
        while len(buf) < size:
            if time.monotonic() > deadline:
                raise DeviceTimeoutError(f"{self.url}: timed out after {len(buf)}/{size} bytes")
            buf += self.read(size - len(buf))
        return bytes(buf)

    def reset_input(self) -> None:
        """Drop unread input."""
        port = self._require()
        try:
            port.reset_input_buffer()
        except (serial.SerialException, OSError, termios.error) as err:
            self.close()
            raise DeviceConnectionError(f"{self.url}: {err}") from err
