"""Turns a stream of evdev input events into logical key presses."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from evdev import InputEvent, ecodes

from kiosk.devices.keypad.keymap import Key, KeyMap

log = logging.getLogger(__name__)

_PRESS = 1  # EV_KEY value: 1 press, 0 release, 2 auto-repeat


@dataclass(frozen=True, slots=True)
class KeyPress:
    """One accepted key press: the logical key, the raw code and the event time (epoch seconds)."""

    key: Key
    code: int
    time_s: float


class KeypadReader:
    """Pure filter: press events of mapped keys, without auto-repeat and contact bounce."""

    def __init__(self, keymap: KeyMap, debounce_s: float = 0.15) -> None:
        self.keymap = keymap
        self.debounce_s = debounce_s
        self.unknown_count = 0
        self.bounce_count = 0
        self._last_press_s: dict[int, float] = {}

    def feed(self, event: InputEvent) -> KeyPress | None:
        """Return a KeyPress for an accepted press event, None for anything else."""
        if event.type != ecodes.EV_KEY or event.value != _PRESS:
            return None
        time_s = event.timestamp()
        last_s = self._last_press_s.get(event.code)
        self._last_press_s[event.code] = time_s
        # A negative gap means the clock stepped back; treat it as a fresh press.
        if last_s is not None and 0 <= time_s - last_s < self.debounce_s:
            self.bounce_count += 1
            return None
        key = self.keymap.get(event.code)
        if key is None:
            self.unknown_count += 1
            log.debug("ignoring unmapped key code %d", event.code)
            return None
        return KeyPress(key, event.code, time_s)
