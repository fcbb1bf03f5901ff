"""Driver for a GA 467 resident ID-card reader on a serial port."""

from __future__ import annotations

import logging
import termios
import time
from types import TracebackType

from kiosk.devices.errors import DeviceConnectionError, DeviceTimeoutError
from kiosk.devices.idcard.codec import (
    MAX_LEN,
    Command,
    Request,
    Response,
    Status,
    parse_read_payload,
    response_decoder,
)
from kiosk.devices.idcard.errors import (
    IdCardConnectionError,
    IdCardError,
    IdCardTimeoutError,
    NoCardError,
    error_for_status,
)
from kiosk.devices.idcard.identity import Identity, check_id_number
from kiosk.devices.idcard.poller import CardPoller
from kiosk.devices.idcard.text import decode_text_block
from kiosk.devices.transport import SerialTransport, hex_bytes

log = logging.getLogger(__name__)
wire_log = logging.getLogger(f"{__name__}.wire")
# Frames whose DATA holds personal data: the wire log shows only their length.
_PERSONAL = frozenset(
    {Command.READ_TEXT_PHOTO, Command.READ_TEXT_PHOTO_FINGERPRINT, Command.READ_NEW_ADDRESS}
)
_RAW_WIRE_LOGGER = f"{__name__}.raw"


class IdCardReader:
    """A resident ID-card reader (SAM module) reached by a path or pyserial URL."""

    def __init__(self, url: str, baud: int = 115200, timeout_s: float = 1.0) -> None:
        self.url = url
        self.baud = baud
        self.timeout_s = timeout_s
        # The transport's own wire log would print the text block in hex; this driver logs a redacted one.
        logging.getLogger(_RAW_WIRE_LOGGER).setLevel(logging.INFO)
        self._transport = SerialTransport(url, baud, timeout_s, wire_logger=_RAW_WIRE_LOGGER)

    # -- lifecycle ---------------------------------------------------------
    @property
    def is_open(self) -> bool:
        """True while the port is open."""
        return self._transport.is_open

    def open(self) -> None:
        """Open the port (``IdCardConnectionError`` if it cannot be opened)."""
        self._transport.url = self.url
        try:
            self._transport.open()
        except DeviceConnectionError as err:
            raise IdCardConnectionError(f"cannot open ID-card reader at {self.url}") from err

    def close(self) -> None:
        """Close the port; safe to call twice."""
        self._transport.close()

    def reconnect(self) -> None:
        """Close and open again (after an unplug or a hung reader)."""
        self.close()
        self.open()

    def __enter__(self) -> IdCardReader:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- commands ----------------------------------------------------------
    def reset_sam(self) -> None:
        """Reset the SAM module."""
        self._command(Command.RESET_SAM)

    def sam_status(self) -> Status:
        """``Status.OK`` when the SAM module is healthy; raises the typed error otherwise."""
        return Status(self._command(Command.SAM_STATUS).sw3)

    def read_sam_id(self) -> bytes:
        """The raw SAM identifier bytes."""
        return self._command(Command.READ_SAM_ID).data

    def find_card(self) -> bool:
        """True when a card is in the field."""
        response = self._transact(Request.of(Command.FIND_CARD))
        if response.sw3 == Status.NO_CARD:
            return False
        if response.sw3 != Status.CARD_FOUND:
            raise error_for_status(response.sw3)
        return True

    def select_card(self) -> None:
        """Select the card found by ``find_card``."""
        self._command(Command.SELECT_CARD)

    def read_identity(self) -> Identity:
        """Find, select and read the card; the ID number's check character is verified."""
        if not self.find_card():
            raise NoCardError()
        self.select_card()
        text, photo = parse_read_payload(self._command(Command.READ_TEXT_PHOTO).data)
        identity = decode_text_block(text, photo)
        check_id_number(identity.id_number)
        log.debug("read %r", identity)
        return identity

    def poll(self, interval_s: float = 0.3) -> CardPoller:
        """An iterator yielding one identity per card placement."""
        return CardPoller(self, interval_s=interval_s)

    # -- exchange ----------------------------------------------------------
    def _command(self, command: Command) -> Response:
        response = self._transact(Request.of(command))
        if not response.ok:
            raise error_for_status(response.sw3)
        return response

    def _transact(self, request: Request) -> Response:
        """Send one request, return its response; the one place transport errors are translated."""
        try:
            self._transport.reset_input()
            frame = request.encode()
            wire_log.debug(">>> %s", hex_bytes(frame))
            self._transport.write(frame)
            response = self._read_response()
        except IdCardError:
            raise
        except DeviceTimeoutError as err:
            raise IdCardTimeoutError(f"ID-card reader at {self.url} did not answer") from err
        except DeviceConnectionError as err:
            raise IdCardConnectionError(f"ID-card reader at {self.url} failed: {err}") from err
        except termios.error as err:
            # SerialTransport.reset_input lets tcflush's EIO on an unplugged tty through.
            self.close()
            raise IdCardConnectionError(f"ID-card reader at {self.url} failed: {err}") from err
        self._log_response(request, response)
        return response

    def _read_response(self) -> Response:
        decoder = response_decoder()
        # Room for the longest frame at this baud rate on top of the answer delay.
        deadline = time.monotonic() + self.timeout_s + (MAX_LEN + 7) * 10 / self.baud
        while True:
            response = decoder.next_frame()
            if response is not None:
                if decoder.discarded:
                    wire_log.debug("skipped %d noise bytes before the frame", decoder.discarded)
                return response
            chunk = self._transport.read(decoder.wanted())
            if not chunk or time.monotonic() > deadline:
                raise IdCardTimeoutError(f"ID-card reader at {self.url}: no complete answer in time")
            decoder.feed(chunk)

    def _log_response(self, request: Request, response: Response) -> None:
        if not wire_log.isEnabledFor(logging.DEBUG):
            return
        frame = response.encode()
        if request.command in _PERSONAL and response.data:
            # Keep header and status, withhold the text block and photo.
            wire_log.debug("<<< %s [%d data bytes withheld]", hex_bytes(frame[:10]), len(response.data))
        else:
            wire_log.debug("<<< %s", hex_bytes(frame))
