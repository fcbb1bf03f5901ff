"""Lengths of ESC/POS commands, so unknown ones can be skipped without losing sync."""

from __future__ import annotations

ESC = 0x1B
GS = 0x1D
FS = 0x1C
DLE = 0x10
COMMAND_PREFIXES = frozenset({ESC, GS, FS, DLE})

# Parameter bytes after the two command bytes, for commands with a fixed length.
_ESC_PARAMS = {
    0x20: 1, 0x21: 1, 0x24: 2, 0x25: 1, 0x2D: 1, 0x32: 0, 0x33: 1, 0x3C: 0, 0x3D: 1, 0x3F: 1,
    0x40: 0, 0x45: 1, 0x47: 1, 0x4A: 1, 0x4B: 1, 0x4C: 0, 0x4D: 1, 0x52: 1, 0x53: 0, 0x54: 1,
    0x55: 1, 0x56: 1, 0x57: 8, 0x5C: 2, 0x61: 1, 0x63: 2, 0x64: 1, 0x65: 1, 0x69: 0, 0x6D: 0,
    0x70: 3, 0x72: 1, 0x74: 1, 0x75: 1, 0x76: 0, 0x7B: 1,
}  # fmt: skip
_GS_PARAMS = {
    0x21: 1, 0x24: 2, 0x2F: 1, 0x3A: 0, 0x42: 1, 0x48: 1, 0x49: 1, 0x4C: 2, 0x50: 2, 0x57: 2,
    0x5C: 2, 0x5E: 3, 0x61: 1, 0x62: 1, 0x66: 1, 0x68: 1, 0x72: 1, 0x77: 1,
}  # fmt: skip
_FS_PARAMS = {0x21: 1, 0x26: 0, 0x2D: 1, 0x2E: 0, 0x32: 74, 0x43: 1, 0x53: 2, 0x57: 1, 0x70: 2}
_GS_V_WITH_FEED = frozenset({65, 66, 97, 98, 103, 104})
_NUL_TERMINATED_MAX = 256


def _u16(buf: bytes | bytearray, at: int) -> int:
    return buf[at] | buf[at + 1] << 8


def _fixed(buf: bytes | bytearray, pos: int, header: int) -> int | None:
    """Length ``header`` if those bytes are all there, else None (wait for more)."""
    return header if len(buf) - pos >= header else None


def _nul_terminated(buf: bytes | bytearray, start: int, pos: int) -> int | None:
    end = buf.find(b"\x00", start, start + _NUL_TERMINATED_MAX)
    if end >= 0:
        return end + 1 - pos
    # No terminator within the limit: stop there rather than swallow the stream.
    return _NUL_TERMINATED_MAX + start - pos if len(buf) >= start + _NUL_TERMINATED_MAX else None


def _esc_length(buf: bytes | bytearray, pos: int) -> int | None:
    cmd = buf[pos + 1]
    if cmd == 0x2A:  # ESC * m nL nH d...: 8-dot modes send 1 byte per column, 24-dot modes 3
        if len(buf) - pos < 5:
            return None
        per_column = 1 if buf[pos + 2] in (0, 1) else 3
        return _fixed(buf, pos, 5 + per_column * _u16(buf, pos + 3))
    if cmd == 0x44:  # ESC D n1..nk NUL: tab positions
        return _nul_terminated(buf, pos + 2, pos)
    return _fixed(buf, pos, 2 + _ESC_PARAMS.get(cmd, 0))


def _gs_length(buf: bytes | bytearray, pos: int) -> int | None:
    cmd = buf[pos + 1]
    if cmd == 0x28:  # GS ( x pL pH data
        if len(buf) - pos < 5:
            return None
        return _fixed(buf, pos, 5 + _u16(buf, pos + 3))
    if cmd == 0x56:  # GS V m [n]
        if len(buf) - pos < 3:
            return None
        return _fixed(buf, pos, 4 if buf[pos + 2] in _GS_V_WITH_FEED else 3)
    if cmd == 0x2A:  # GS * x y d: x*y*8 bytes of a downloaded bit image
        if len(buf) - pos < 4:
            return None
        return _fixed(buf, pos, 4 + buf[pos + 2] * buf[pos + 3] * 8)
    if cmd == 0x76:  # GS v 0 m xL xH yL yH d: raster image
        if len(buf) - pos < 8:
            return None
        return _fixed(buf, pos, 8 + _u16(buf, pos + 4) * _u16(buf, pos + 6))
    if cmd == 0x6B:  # GS k m ...: barcode, NUL-terminated (m <= 6) or counted (m >= 65)
        if len(buf) - pos < 4:
            return None
        if buf[pos + 2] <= 6:
            return _nul_terminated(buf, pos + 3, pos)
        return _fixed(buf, pos, 4 + buf[pos + 3])
    return _fixed(buf, pos, 2 + _GS_PARAMS.get(cmd, 0))


def _fs_length(buf: bytes | bytearray, pos: int) -> int | None:
    cmd = buf[pos + 1]
    if cmd == 0x28:  # FS ( x pL pH data
        if len(buf) - pos < 5:
            return None
        return _fixed(buf, pos, 5 + _u16(buf, pos + 3))
    return _fixed(buf, pos, 2 + _FS_PARAMS.get(cmd, 0))


def _dle_length(buf: bytes | bytearray, pos: int) -> int | None:
    cmd = buf[pos + 1]
    if cmd in (0x04, 0x05, 0x14):  # EOT n / ENQ n / DC4 fn ...
        if len(buf) - pos < 3:
            return None
        sub = buf[pos + 2]
        if cmd == 0x04:
            return _fixed(buf, pos, 4 if sub in (7, 8, 18) else 3)
        if cmd == 0x14:
            return _fixed(buf, pos, {1: 5, 2: 5, 7: 4, 8: 10}.get(sub, 3))
        return 3
    return 1  # a lone DLE is just a control byte


def command_length(buf: bytes | bytearray, pos: int) -> int | None:
    """Length of the command starting at ``buf[pos]`` (a prefix byte), or None when incomplete."""
    if len(buf) - pos < 2:
        return None
    prefix = buf[pos]
    if prefix == ESC:
        return _esc_length(buf, pos)
    if prefix == GS:
        return _gs_length(buf, pos)
    if prefix == FS:
        return _fs_length(buf, pos)
    return _dle_length(buf, pos)
