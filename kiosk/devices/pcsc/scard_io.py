"""Thin typed layer over pyscard's ``smartcard.scard``; every PC/SC result code is translated here.

All functions block on the pcscd socket; callers run them off the event loop.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from smartcard import scard

from kiosk.devices.pcsc.errors import NoCardError, PcscError, PcscUnavailableError, ReaderNotFoundError

_MASK_32 = 0xFFFFFFFF
_ANY_PROTOCOL = scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1

_UNAVAILABLE = {
    scard.SCARD_E_NO_SERVICE,
    scard.SCARD_E_SERVICE_STOPPED,
    scard.SCARD_E_INVALID_HANDLE,
    scard.SCARD_E_NO_MEMORY,
}
_NO_READER = {scard.SCARD_E_UNKNOWN_READER, scard.SCARD_E_READER_UNAVAILABLE}
# Card missing, left during the command or mute: for a tap reader all mean "no card read".
_NO_CARD = {
    scard.SCARD_E_NO_SMARTCARD,
    scard.SCARD_W_REMOVED_CARD,
    scard.SCARD_W_RESET_CARD,
    scard.SCARD_W_UNPOWERED_CARD,
    scard.SCARD_W_UNRESPONSIVE_CARD,
    scard.SCARD_E_NOT_TRANSACTED,
}
TIMEOUT = scard.SCARD_E_TIMEOUT & _MASK_32
CANCELLED = scard.SCARD_E_CANCELLED & _MASK_32
NO_READERS_AVAILABLE = scard.SCARD_E_NO_READERS_AVAILABLE & _MASK_32

STATE_UNAWARE = scard.SCARD_STATE_UNAWARE
STATE_CHANGED = scard.SCARD_STATE_CHANGED
STATE_PRESENT = scard.SCARD_STATE_PRESENT
STATE_MUTE = scard.SCARD_STATE_MUTE
STATE_GONE = scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE


def code_of(hresult: int) -> int:
    """The result code as an unsigned 32-bit value (pyscard may hand it back signed)."""
    return hresult & _MASK_32


def error_for(hresult: int, what: str) -> PcscError:
    """The typed error for a failed PC/SC call."""
    code = code_of(hresult)
    text = f"{what}: {scard.SCardGetErrorMessage(hresult)} (0x{code:08X})"
    if code in {c & _MASK_32 for c in _UNAVAILABLE}:
        return PcscUnavailableError(text)
    if code in {c & _MASK_32 for c in _NO_READER}:
        return ReaderNotFoundError(text)
    if code in {c & _MASK_32 for c in _NO_CARD}:
        return NoCardError(text)
    return PcscError(text)


def check(hresult: int, what: str) -> None:
    """Raise the typed error unless ``hresult`` is SCARD_S_SUCCESS."""
    if code_of(hresult) != scard.SCARD_S_SUCCESS:
        raise error_for(hresult, what)


def establish() -> Any:
    """Open a PC/SC context; PcscUnavailableError when pcscd is not there."""
    hresult, hcontext = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if code_of(hresult) != scard.SCARD_S_SUCCESS:
        raise PcscUnavailableError(
            f"cannot reach pcscd: {scard.SCardGetErrorMessage(hresult)} (0x{code_of(hresult):08X})"
        )
    return hcontext


def release(hcontext: Any) -> None:
    """Release a context; errors are ignored because the daemon may be gone already."""
    scard.SCardReleaseContext(hcontext)


@contextlib.contextmanager
def context() -> Iterator[Any]:
    """A PC/SC context for the duration of a with-block."""
    hcontext = establish()
    try:
        yield hcontext
    finally:
        release(hcontext)


def list_readers(hcontext: Any) -> list[str]:
    """Names of the attached readers (empty when there are none)."""
    hresult, names = scard.SCardListReaders(hcontext, [])
    if code_of(hresult) == NO_READERS_AVAILABLE:
        return []
    check(hresult, "list readers")
    return list(names)


@contextlib.contextmanager
def connected(hcontext: Any, reader: str) -> Iterator[tuple[Any, int]]:
    """A shared connection to the card on ``reader``, as (card handle, active protocol)."""
    hresult, hcard, protocol = scard.SCardConnect(hcontext, reader, scard.SCARD_SHARE_SHARED, _ANY_PROTOCOL)
    check(hresult, f"connect to card on {reader!r}")
    try:
        yield hcard, protocol
    finally:
        # Leave the card powered: another application may be talking to it.
        scard.SCardDisconnect(hcard, scard.SCARD_LEAVE_CARD)


def transmit(hcard: Any, protocol: int, apdu: bytes) -> bytes:
    """Send one command APDU and return the whole response (data + SW)."""
    hresult, response = scard.SCardTransmit(hcard, protocol, list(apdu))
    check(hresult, "transmit")
    return bytes(response)


def card_atr(hcard: Any) -> bytes:
    """The ATR of the connected card."""
    hresult, _reader, _state, _protocol, atr = scard.SCardStatus(hcard)
    check(hresult, "card status")
    return bytes(atr)


def wait_status_change(hcontext: Any, reader: str, known_state: int, timeout_s: float) -> tuple[int, int]:
    """Block up to ``timeout_s`` for ``reader`` to leave ``known_state``.

    Returns (result code, new event state); TIMEOUT and CANCELLED come back as codes, not errors.
    """
    timeout_ms = max(0, int(timeout_s * 1000))
    hresult, states = scard.SCardGetStatusChange(hcontext, timeout_ms, [(reader, known_state)])
    code = code_of(hresult)
    if code in (TIMEOUT, CANCELLED):
        return code, known_state
    check(hresult, f"wait for a card on {reader!r}")
    return code, int(states[0][1])


def cancel(hcontext: Any) -> None:
    """Wake a thread blocked in wait_status_change on ``hcontext``."""
    scard.SCardCancel(hcontext)
