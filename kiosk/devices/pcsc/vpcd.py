"""A virtual contactless card that plugs into pcscd's vpcd reader over its TCP socket.

Connecting to vpcd's port is inserting the card; closing the socket is removing it. The codec
names are re-exported here so ``vpcd`` is the one place for the socket protocol.
"""

from __future__ import annotations

import logging
import socket
import threading

from kiosk.devices.pcsc.apdu import answer_apdu, sw_bytes
from kiosk.devices.pcsc.errors import PcscUnavailableError, VpcdProtocolError
from kiosk.devices.pcsc.vpcd_codec import (
    ApduMessage,
    Control,
    ControlMessage,
    FrameDecoder,
    VpcdMessage,
    encode_frame,
    encode_message,
    parse_payload,
)
from kiosk.devices.transport import hex_bytes

__all__ = [
    "DEFAULT_VPCD_PORT",
    "ApduMessage",
    "Control",
    "ControlMessage",
    "FrameDecoder",
    "VirtualCard",
    "VpcdMessage",
    "encode_frame",
    "encode_message",
    "parse_payload",
]

log = logging.getLogger(__name__)

DEFAULT_VPCD_PORT = 35963  # reader "Virtual PCD 00 00"; "00 01" listens on 35964
_POLL_S = 0.1


class VirtualCard:
    """A contactless card with a fixed UID, served on a thread while inserted.

    Fault switch: ``fault_sw`` set to a status word makes every APDU fail with it.
    """

    def __init__(
        self,
        uid: bytes,
        atr: bytes,
        host: str = "127.0.0.1",
        port: int = DEFAULT_VPCD_PORT,
        connect_timeout_s: float = 2.0,
    ) -> None:
        if not uid:
            raise ValueError("a card needs a non-empty UID")
        self.uid = uid
        self.atr = atr
        self.host = host
        self.port = port
        self.connect_timeout_s = connect_timeout_s
        self.powered = False
        self.fault_sw: int | None = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def inserted(self) -> bool:
        """True while the card is connected to vpcd."""
        return self._thread is not None and self._thread.is_alive()

    def insert(self) -> None:
        """Connect to vpcd (put the card on the reader); no-op if already inserted."""
        if self.inserted:
            return
        self.remove()
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s)
        except OSError as err:
            raise PcscUnavailableError(
                f"vpcd does not accept a card on {self.host}:{self.port} (is pcscd running?): {err}"
            ) from err
        sock.settimeout(_POLL_S)
        self._sock = sock
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, args=(sock,), name="VirtualCard", daemon=True)
        self._thread.start()
        log.info("virtual card inserted at %s:%d", self.host, self.port)

    def remove(self) -> None:
        """Close the socket (take the card off the reader); no-op if not inserted."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=2)
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
            log.info("virtual card removed from %s:%d", self.host, self.port)
        self.powered = False

    def __enter__(self) -> VirtualCard:
        self.insert()
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def answer(self, message: VpcdMessage) -> bytes | None:
        """The payload the card sends back for ``message`` (None: vpcd expects no answer)."""
        if isinstance(message, ApduMessage):
            if self.fault_sw is not None:
                return sw_bytes(self.fault_sw)
            return answer_apdu(message.apdu, self.uid)
        if message.control is Control.GET_ATR:
            return self.atr
        # Power on/reset: a contactless card has nothing to do; power off likewise.
        self.powered = message.control is not Control.POWER_OFF
        return None

    def _serve(self, sock: socket.socket) -> None:
        try:
            self._serve_until_closed(sock)
        finally:
            # Hanging up is how a card leaves the reader, also when vpcd spoke garbage.
            sock.close()

    def _serve_until_closed(self, sock: socket.socket) -> None:
        decoder = FrameDecoder()
        while not self._stop.is_set():
            try:
                data = sock.recv(4096)
            except TimeoutError:
                continue
            except OSError as err:
                log.info("vpcd connection lost: %s", err)
                return
            if not data:
                log.info("vpcd closed the connection")
                return
            try:
                for payload in decoder.feed(data):
                    log.debug("card >>> %s", hex_bytes(payload))
                    reply = self.answer(parse_payload(payload))
                    if reply is not None:
                        log.debug("card <<< %s", hex_bytes(reply))
                        sock.sendall(encode_frame(reply))
            except VpcdProtocolError as err:
                log.warning("dropping vpcd connection: %s", err)
                return
            except OSError as err:
                log.info("vpcd connection lost while answering: %s", err)
                return
