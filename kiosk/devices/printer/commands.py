"""ESC/POS byte builder: python-escpos for commands, raw profile-encoded text for Chinese."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from escpos.printer import Dummy

FS_CHINESE_ON = b"\x1c\x26"  # FS &: bytes >= 0x80 are double-byte Chinese characters
FS_CHINESE_OFF = b"\x1c\x2e"  # FS .: back to the single-byte code page
LF = b"\n"

SUPPORTED_ENCODINGS = ("gb18030", "gbk", "utf-8")
QR_MODULE_DOTS = 6


class Align(StrEnum):
    """Horizontal text alignment (``ESC a n``)."""

    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


def normalize_encoding(name: str) -> str:
    """The canonical name of a supported printer encoding; ValueError otherwise."""
    key = name.strip().lower().replace("_", "-")
    canonical = {"gb18030": "gb18030", "gbk": "gbk", "cp936": "gbk", "utf-8": "utf-8", "utf8": "utf-8"}
    if key not in canonical:
        raise ValueError(f"unsupported printer encoding {name!r}; use one of {SUPPORTED_ENCODINGS}")
    return canonical[key]


def encode_text(text: str, encoding: str) -> bytes:
    """Text as the printer expects it: ASCII as is, anything else wrapped in ``FS &`` ... ``FS .``.

    python-escpos is bypassed for text on purpose: its code-page matching turns full-width
    punctuation (``：，``) into ``?`` when a line holds no Han character.
    """
    if text.isascii():
        return text.encode("ascii")
    # "replace": a character the profile cannot encode prints as "?" instead of losing the ticket.
    return FS_CHINESE_ON + text.encode(normalize_encoding(encoding), errors="replace") + FS_CHINESE_OFF


def load_escpos() -> None:
    """Import python-escpos now: a kiosk does it at start so that its first ticket does not wait.

    Otherwise it is imported at the first ticket, not with this package: it brings Pillow, qrcode,
    python-barcode, PyYAML and its capabilities database (about 9 MB resident), which a process that
    has a printer configured but has not printed yet (or only simulates one) does not need.
    """
    # python-escpos caches its parsed printer database in this directory, or else in a new
    # temporary directory at every start (slow, and one directory left behind per start).
    os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(_escpos_cache_dir()))
    import escpos.printer  # noqa: F401


def _escpos_cache_dir() -> Path:
    base = os.environ.get("CACHE_DIRECTORY") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    for candidate in (
        Path(base) / "service-hall",
        Path(tempfile.gettempdir()) / f"service-hall-{os.getuid()}",
    ):
        try:
            candidate.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError:
            continue
        if os.access(candidate, os.W_OK):
            return candidate
    return Path(tempfile.mkdtemp(prefix="service-hall-escpos-"))


def _escpos(call: Callable[[Dummy], None]) -> bytes:
    load_escpos()
    from escpos.printer import Dummy

    printer = Dummy()
    call(printer)
    return bytes(printer.output)


def init() -> bytes:
    """``ESC @``: reset the print mode."""
    return _escpos(lambda p: p.hw("INIT"))


def align(where: Align) -> bytes:
    """``ESC a n``."""
    return _escpos(lambda p: p.set(align=str(where)))


def text_size(width: int, height: int) -> bytes:
    """``GS ! n`` with width and height multipliers 1..8."""
    return _escpos(lambda p: p.set(custom_size=True, width=width, height=height))


def bold(on: bool) -> bytes:
    """``ESC E n``."""
    return _escpos(lambda p: p.set(bold=on))


def native_qr(payload: str, module_dots: int = QR_MODULE_DOTS) -> bytes:
    """``GS ( k`` sequence: model 2, module size, error level L, store, print."""
    return _escpos(lambda p: p.qr(payload, native=True, size=module_dots))


def partial_cut() -> bytes:
    """``ESC d 6`` (feed past the cutter) then ``GS V 1``."""
    return _escpos(lambda p: p.cut(mode="PART"))


def full_cut() -> bytes:
    """``ESC d 6`` then ``GS V 0``."""
    return _escpos(lambda p: p.cut(mode="FULL"))


class TicketBuilder:
    """Collects the bytes of one ticket in text mode."""

    def __init__(self, encoding: str = "gb18030") -> None:
        self.encoding = normalize_encoding(encoding)
        self._out = bytearray(init())
        self._align = Align.LEFT
        self._size = (1, 1)

    def align(self, where: Align) -> TicketBuilder:
        """Set alignment (sent only when it changes)."""
        if where != self._align:
            self._out += align(where)
            self._align = where
        return self

    def size(self, width: int, height: int) -> TicketBuilder:
        """Set character size (sent only when it changes)."""
        if (width, height) != self._size:
            self._out += text_size(width, height)
            self._size = (width, height)
        return self

    def line(self, text: str = "") -> TicketBuilder:
        """Print one line of text."""
        self._out += encode_text(text, self.encoding) + LF
        return self

    def qr(self, payload: str) -> TicketBuilder:
        """Print a native QR code (the printer draws it: a few dozen bytes, not an image)."""
        self._out += native_qr(payload) + LF
        return self

    def cut(self) -> bytes:
        """Finish with a partial cut and return all bytes."""
        self._out += partial_cut()
        return bytes(self._out)
