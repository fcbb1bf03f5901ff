"""Rating keypads (评价器) and staff caller keys (呼叫器) read as Linux evdev key events.

A USB keypad is a HID keyboard: the kernel turns each key into ``EV_KEY`` events on
``/dev/input/eventN``. ``sources`` reads them from a real device or from a TCP stream of
raw ``struct input_event`` records (the simulator), ``reader`` turns them into logical
``KeyPress`` objects through a ``KeyMap``.
"""

from kiosk.devices.keypad.errors import (
    KeypadConfigError,
    KeypadError,
    KeypadProtocolError,
    KeypadUnavailableError,
)
from kiosk.devices.keypad.keymap import Key, KeyMap
from kiosk.devices.keypad.reader import KeypadReader, KeyPress
from kiosk.devices.keypad.sources import EvdevSource, EventSource, StreamSource, open_source

__all__ = [
    "EvdevSource",
    "EventSource",
    "Key",
    "KeyMap",
    "KeyPress",
    "KeypadConfigError",
    "KeypadError",
    "KeypadProtocolError",
    "KeypadReader",
    "KeypadUnavailableError",
    "StreamSource",
    "open_source",
]
