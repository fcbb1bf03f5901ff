"""Logical keys and the map from evdev key codes to them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum

from evdev import ecodes

from kiosk.devices.keypad.errors import KeypadConfigError


class Key(StrEnum):
    """A logical key: five rating levels and the staff caller actions."""

    RATE_1 = "rate_1"  # 非常满意
    RATE_2 = "rate_2"  # 满意
    RATE_3 = "rate_3"  # 基本满意
    RATE_4 = "rate_4"  # 不满意
    RATE_5 = "rate_5"  # 非常不满意
    NEXT = "next"
    RECALL = "recall"
    NO_SHOW = "no_show"
    TRANSFER = "transfer"
    PAUSE = "pause"
    FINISH = "finish"

    @property
    def rating_level(self) -> int | None:
        """The level 1..5 of a rating key, None for a caller key."""
        if self.name.startswith("RATE_"):
            return int(self.name[-1])
        return None

    @classmethod
    def rating(cls, level: int) -> Key:
        """The rating key of level 1..5."""
        if not 1 <= level <= 5:
            raise KeypadConfigError(f"rating level must be 1..5, got {level}")
        return cls[f"RATE_{level}"]

    @classmethod
    def parse(cls, text: str) -> Key:
        """A key from its name (``RATE_1``) or value (``rate_1``)."""
        name = text.strip().upper()
        if name in cls.__members__:
            return cls[name]
        raise KeypadConfigError(f"unknown logical key {text!r}")


# First code of each key is the one the simulator sends for it.
_RATING_CODES: dict[int, Key] = {
    ecodes.KEY_KP1: Key.RATE_1,
    ecodes.KEY_KP2: Key.RATE_2,
    ecodes.KEY_KP3: Key.RATE_3,
    ecodes.KEY_KP4: Key.RATE_4,
    ecodes.KEY_KP5: Key.RATE_5,
    ecodes.KEY_1: Key.RATE_1,
    ecodes.KEY_2: Key.RATE_2,
    ecodes.KEY_3: Key.RATE_3,
    ecodes.KEY_4: Key.RATE_4,
    ecodes.KEY_5: Key.RATE_5,
    # Codes some keypads send with NumLock off (unverified, PROTOCOLS.md section 4); KP5
    # has no navigation meaning and keeps KEY_KP5.
    ecodes.KEY_END: Key.RATE_1,
    ecodes.KEY_DOWN: Key.RATE_2,
    ecodes.KEY_PAGEDOWN: Key.RATE_3,
    ecodes.KEY_LEFT: Key.RATE_4,
}

_CALLER_CODES: dict[int, Key] = {
    ecodes.KEY_KPENTER: Key.NEXT,
    ecodes.KEY_ENTER: Key.NEXT,
    ecodes.KEY_KPPLUS: Key.RECALL,
    ecodes.KEY_KPMINUS: Key.NO_SHOW,
    ecodes.KEY_KPSLASH: Key.TRANSFER,
    ecodes.KEY_KPASTERISK: Key.PAUSE,
    ecodes.KEY_KPDOT: Key.FINISH,
    # KPDOT is Delete with NumLock off (unverified); the operator keys do not change.
    ecodes.KEY_DELETE: Key.FINISH,
}


def _reverse_rating(key: Key) -> Key:
    level = key.rating_level
    return key if level is None else Key.rating(6 - level)


class KeyMap(Mapping[int, Key]):
    """An ordered, read-only map from evdev key code to logical key."""

    def __init__(self, codes: Mapping[int, Key], reversed_order: bool = False) -> None:
        # reversed_order serves keypads labelled 1 = 非常不满意 ... 5 = 非常满意.
        self._codes = {code: (_reverse_rating(key) if reversed_order else key) for code, key in codes.items()}

    @classmethod
    def rating(cls, reversed_order: bool = False) -> KeyMap:
        """Default map of the rating keypad."""
        return cls(_RATING_CODES, reversed_order)

    @classmethod
    def caller(cls) -> KeyMap:
        """Default map of the staff caller keys."""
        return cls(_CALLER_CODES)

    @classmethod
    def from_config(cls, config: Mapping[str, str], reversed_order: bool = False) -> KeyMap:
        """Build a map from ``{"KEY_KP1": "RATE_1", ...}`` (evdev.ecodes names or decimal codes)."""
        codes: dict[int, Key] = {}
        for code_name, key_name in config.items():
            codes[_parse_code(code_name)] = Key.parse(key_name)
        return cls(codes, reversed_order)

    def code_for(self, key: Key) -> int:
        """The first code mapped to ``key`` (what a simulator sends for it)."""
        for code, mapped in self._codes.items():
            if mapped is key:
                return code
        raise KeypadConfigError(f"no code is mapped to {key.name}")

    def __getitem__(self, code: int) -> Key:
        return self._codes[code]

    def __iter__(self) -> Iterator[int]:
        return iter(self._codes)

    def __len__(self) -> int:
        return len(self._codes)

    def __repr__(self) -> str:
        pairs = ", ".join(f"{ecodes.KEY.get(c, c)}={k.name}" for c, k in self._codes.items())
        return f"KeyMap({pairs})"


def _parse_code(name: str) -> int:
    text = name.strip()
    if text.isdigit():
        return int(text)
    code = ecodes.ecodes.get(text.upper())
    if code is None or not text.upper().startswith(("KEY_", "BTN_")):
        raise KeypadConfigError(f"unknown key code name {name!r}")
    return int(code)
