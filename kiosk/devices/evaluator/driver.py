"""Driver of a serial rating keypad over SerialTransport (blocking; run it in a thread)."""

from __future__ import annotations

import asyncio
import logging
import termios
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

from kiosk.devices.errors import DeviceConnectionError, DeviceTimeoutError
from kiosk.devices.evaluator.codec import (
    AckFrame,
    Command,
    CommandFrame,
    Frame,
    FrameDecoder,
    NakFrame,
    PressFrame,
    ReceiptFrame,
    encode_frame,
)
from kiosk.devices.evaluator.errors import (
    EvaluatorConnectionError,
    EvaluatorProtocolError,
    EvaluatorTimeoutError,
)
from kiosk.devices.keypad.keymap import Key
from kiosk.devices.keypad.reader import KeyPress
from kiosk.devices.transport import SerialTransport

log = logging.getLogger(__name__)

_POLL_S = 0.02  # one serial read; short so commands and press polling can interleave


@contextmanager
def _translated(url: str) -> Iterator[None]:
    """The one place where transport errors become evaluator errors."""
    try:
        yield
    except DeviceTimeoutError as err:
        raise EvaluatorTimeoutError(f"{url}: {err}") from err
    except DeviceConnectionError as err:
        raise EvaluatorConnectionError(f"{url}: {err}") from err
    except termios.error as err:
        # pyserial's flush() (tcdrain) raises termios.error, which SerialTransport lets through,
        # when the other side of the line has gone (EIO).
        raise EvaluatorConnectionError(f"{url}: {err}") from err


class SerialEvaluator:
    """A five-key rating keypad on a serial port: arm, disarm, ping, and read presses."""

    def __init__(self, url: str, baud: int = 9600, timeout_s: float = 0.5, retries: int = 2) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.retries = retries
        self.armed = False
        self.duplicate_count = 0
        self.protocol_error_count = 0
        self._transport = SerialTransport(url, baud, _POLL_S, wire_logger=__name__)
        self._decoder = FrameDecoder()
        self._presses: deque[KeyPress] = deque()
        self._replies: deque[AckFrame | NakFrame] = deque()
        self._last_error: EvaluatorProtocolError | None = None
        # Kept across reconnects: the device repeats an unreceipted event after a cable glitch.
        self._last_seq: int | None = None
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------
    def open(self) -> None:
        """Open the serial port."""
        with self._lock, _translated(self.url):
            self._transport.open()
        self._decoder = FrameDecoder()

    def close(self) -> None:
        """Close the serial port."""
        with self._lock:
            self._transport.close()

    def __enter__(self) -> SerialEvaluator:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- commands ----------------------------------------------------------
    def arm(self) -> None:
        """Light the keys and accept one rating."""
        self._command(Command.ARM)

    def disarm(self) -> None:
        """Turn the keys dark; presses are ignored by the device."""
        self._command(Command.DISARM)

    def ping(self) -> bool:
        """Check the device answers; returns whether its keys are armed."""
        return self._command(Command.PING).armed

    def read_press(self, timeout_s: float) -> KeyPress | None:
        """The next new press, or None when none arrives within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while not self._presses:
            if time.monotonic() >= deadline:
                return None
            self._pump()
        return self._presses.popleft()

    async def presses(self, poll_s: float = 0.25) -> AsyncIterator[KeyPress]:
        """Presses as an async iterator; blocking reads run in a thread."""
        while True:
            press = await asyncio.to_thread(self.read_press, poll_s)
            if press is not None:
                yield press

    # -- internals ---------------------------------------------------------
    def _command(self, command: Command) -> AckFrame:
        self._last_error = None
        for attempt in range(self.retries + 1):
            self._replies.clear()
            self._write(CommandFrame(command))
            deadline = time.monotonic() + self.timeout_s
            while time.monotonic() < deadline:
                reply = self._reply_for(command)
                if isinstance(reply, NakFrame):
                    raise EvaluatorProtocolError(f"{self.url}: device refused {command.name}")
                if reply is not None:
                    self.armed = reply.armed
                    return reply
                self._pump()
            log.debug("%s: no answer to %s (attempt %d)", self.url, command.name, attempt + 1)
        if self._last_error is not None:
            message = f"{self.url}: no valid answer to {command.name}"
            raise EvaluatorProtocolError(message) from self._last_error
        raise EvaluatorTimeoutError(f"{self.url}: no answer to {command.name}")

    def _reply_for(self, command: Command) -> AckFrame | NakFrame | None:
        while self._replies:
            reply = self._replies.popleft()
            if reply.command == command.value:
                return reply
        return None

    def _write(self, frame: Frame) -> None:
        with self._lock, _translated(self.url):
            self._transport.write(encode_frame(frame))

    def _pump(self) -> None:
        with self._lock, _translated(self.url):
            data = self._transport.read(64)
        for item in self._decoder.feed(data):
            self._handle(item)

    def _handle(self, item: Frame | EvaluatorProtocolError) -> None:
        if isinstance(item, EvaluatorProtocolError):
            self.protocol_error_count += 1
            self._last_error = item
            log.warning("%s: %s", self.url, item)
        elif isinstance(item, PressFrame):
            # Receipt every copy: the device repeats the event until it gets one.
            self._write(ReceiptFrame(item.seq))
            if item.seq == self._last_seq:
                self.duplicate_count += 1
                return
            self._last_seq = item.seq
            self.armed = False
            self._presses.append(KeyPress(Key.rating(item.level), item.level, time.time()))
        elif isinstance(item, AckFrame | NakFrame):
            self._replies.append(item)
        else:
            log.debug("%s: ignoring host frame %r", self.url, item)
